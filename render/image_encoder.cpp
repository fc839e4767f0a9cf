// PNG and WebP encoding of rendered tiles.
#include "render/image_encoder.hpp"

#include <mapnik/image_util.hpp>
#include <vips/vips8>

#include <cstdint>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <vector>

namespace tuilerie {

namespace {

// Palette PNG with hextree quantisation: 4 to 5 times smaller than RGBA PNG
// for these flat-coloured thematic maps. z=1 is the fastest zlib level; the
// palette, not zlib, brings most of the size down.
constexpr const char* png_options = "png8:m=h:z=1";

// Lossy WebP at quality 80 with effort 2 of 6: about twice as fast as the
// default effort, and the quality loss is not visible on flat fills.
constexpr int webp_quality = 80;
constexpr int webp_effort = 2;

std::once_flag vips_started;

void start_vips() {
  if (VIPS_INIT("tuilerie") != 0) {
    throw std::runtime_error(std::string("cannot start libvips: ") + vips_error_buffer());
  }
  // Each tile is encoded once; the operation cache would only hold memory.
  vips_cache_set_max(0);
}

// libvips needs contiguous rows; a tile view is a window on the metatile image.
std::vector<std::uint8_t> copy_rows(const mapnik::image_view_rgba8& view) {
  const std::size_t row_bytes = view.width() * 4;
  std::vector<std::uint8_t> pixels(row_bytes * view.height());
  for (std::size_t row = 0; row < view.height(); ++row) {
    std::memcpy(pixels.data() + row * row_bytes, view.get_row(row), row_bytes);
  }
  return pixels;
}

std::string encode_webp(const mapnik::image_view_rgba8& view) {
  std::call_once(vips_started, start_vips);
  const auto pixels = copy_rows(view);
  auto image = vips::VImage::new_from_memory(const_cast<std::uint8_t*>(pixels.data()), pixels.size(),
                                             static_cast<int>(view.width()), static_cast<int>(view.height()), 4,
                                             VIPS_FORMAT_UCHAR);
  VipsBlob* blob = image.webpsave_buffer(
      vips::VImage::option()->set("Q", webp_quality)->set("effort", webp_effort)->set("strip", true));
  std::size_t length = 0;
  const void* data = vips_blob_get(blob, &length);
  std::string bytes(static_cast<const char*>(data), length);
  vips_area_unref(VIPS_AREA(blob));
  return bytes;
}

}  // namespace

std::string encode_tile_image(const mapnik::image_view_rgba8& view, tile_format format) {
  switch (format) {
    case tile_format::png: return mapnik::save_to_string(view, png_options);
    case tile_format::webp: return encode_webp(view);
    case tile_format::mvt: break;
  }
  throw std::invalid_argument("encode_tile_image: not a raster format");
}

bool is_fully_transparent(const mapnik::image_view_rgba8& view) {
  // The sizes are read once: Mapnik's accessors are not inlined, and calling them per pixel took
  // a tenth of a cold raster seed (perf, docs/benchmarks.md). OR-ing whole pixels lets the
  // compiler vectorize the row, and the top byte of the result is the OR of the alphas.
  const std::size_t width = view.width();
  const std::size_t height = view.height();
  for (std::size_t row = 0; row < height; ++row) {
    const auto* pixels = view.get_row(row);
    std::uint32_t any = 0;
    for (std::size_t column = 0; column < width; ++column) any |= pixels[column];
    if ((any >> 24) != 0) return false;
  }
  return true;
}

}  // namespace tuilerie
