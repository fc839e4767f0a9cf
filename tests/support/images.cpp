// Image decoding and comparison for tests, through libvips.
#include "images.hpp"

#include <vips/vips8>

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <stdexcept>

namespace tuilerie::testing {

namespace {

void start_vips() {
  static std::once_flag started;
  std::call_once(started, [] {
    if (VIPS_INIT("tuilerie-tests") != 0) throw std::runtime_error("cannot start libvips");
  });
}

}  // namespace

rgba_image decode_image(const std::string& bytes) {
  start_vips();
  vips::VImage image;
  try {
    image = vips::VImage::new_from_buffer(bytes.data(), bytes.size(), "");
  } catch (const vips::VError& error) {
    throw std::runtime_error(std::string("image does not decode: ") + error.what());
  }
  if (image.bands() == 1) image = image.bandjoin(image).bandjoin(image);
  if (image.bands() == 2) image = image.extract_band(0).bandjoin(image.extract_band(0)).bandjoin(image.extract_band(0)).bandjoin(image.extract_band(1));
  if (image.bands() == 3) image = image.bandjoin(255);
  image = image.cast(VIPS_FORMAT_UCHAR);
  rgba_image result;
  result.width = image.width();
  result.height = image.height();
  std::size_t size = 0;
  void* memory = image.write_to_memory(&size);
  result.pixels.assign(static_cast<std::uint8_t*>(memory), static_cast<std::uint8_t*>(memory) + size);
  g_free(memory);
  return result;
}

rgba_image stitch(const std::vector<rgba_image>& images, int columns) {
  const int rows = static_cast<int>(images.size()) / columns;
  rgba_image result;
  result.width = images.front().width * columns;
  result.height = images.front().height * rows;
  result.pixels.resize(static_cast<std::size_t>(result.width) * result.height * 4);
  for (std::size_t i = 0; i < images.size(); ++i) {
    const int left = static_cast<int>(i) % columns * images.front().width;
    const int top = static_cast<int>(i) / columns * images.front().height;
    for (int y = 0; y < images[i].height; ++y) {
      std::memcpy(result.pixels.data() + ((static_cast<std::size_t>(top) + y) * result.width + left) * 4,
                  images[i].at(0, y), static_cast<std::size_t>(images[i].width) * 4);
    }
  }
  return result;
}

double differing_pixel_share(const rgba_image& a, const rgba_image& b, int tolerance) {
  if (a.width != b.width || a.height != b.height) return 1;
  std::size_t differing = 0;
  const std::size_t count = static_cast<std::size_t>(a.width) * a.height;
  for (std::size_t i = 0; i < count; ++i) {
    for (int channel = 0; channel < 4; ++channel) {
      if (std::abs(a.pixels[i * 4 + channel] - b.pixels[i * 4 + channel]) > tolerance) {
        ++differing;
        break;
      }
    }
  }
  return static_cast<double>(differing) / static_cast<double>(count);
}

void save_png(const rgba_image& image, const std::string& path) {
  start_vips();
  vips::VImage::new_from_memory(const_cast<std::uint8_t*>(image.pixels.data()), image.pixels.size(), image.width,
                                image.height, 4, VIPS_FORMAT_UCHAR)
      .pngsave(path.c_str());
}

}  // namespace tuilerie::testing
