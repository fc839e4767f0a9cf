// Decodes tile images with libvips, a decoder independent of the encoders
// Tuilerie uses, and compares them pixel by pixel.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tuilerie::testing {

struct rgba_image {
  int width = 0;
  int height = 0;
  std::vector<std::uint8_t> pixels;  // RGBA, row-major, not premultiplied

  const std::uint8_t* at(int x, int y) const { return pixels.data() + (static_cast<std::size_t>(y) * width + x) * 4; }
};

// Decodes PNG or WebP bytes; throws std::runtime_error when they do not decode.
rgba_image decode_image(const std::string& bytes);

// Places images side by side on a grid of columns x rows (row-major order).
rgba_image stitch(const std::vector<rgba_image>& images, int columns);

// The share of pixels whose channels differ by more than tolerance (0..255)
// in any channel. Images of different sizes differ entirely (returns 1).
double differing_pixel_share(const rgba_image& a, const rgba_image& b, int tolerance);

// Writes an image as PNG, for looking at a failing case.
void save_png(const rgba_image& image, const std::string& path);

}  // namespace tuilerie::testing
