// Renders a metatile with Mapnik's AGG renderer and slices it into tiles.
#include "render/raster_renderer.hpp"

#include "render/image_encoder.hpp"

#include <mapnik/agg_renderer.hpp>
#include <mapnik/image.hpp>
#include <mapnik/image_view.hpp>
#include <mapnik/map.hpp>

#include <map>
#include <mutex>

namespace tuilerie {

namespace {

// A fully transparent tile encodes to the same bytes every time; most tiles
// of a thematic layer are empty, so each (format, scale) is encoded once.
const std::string& transparent_tile(tile_format format, std::uint8_t scale) {
  static std::mutex mutex;
  static std::map<std::pair<tile_format, std::uint8_t>, std::string> encoded;
  const std::lock_guard lock(mutex);
  auto [entry, inserted] = encoded.try_emplace({format, scale});
  if (inserted) {
    const std::uint32_t side = tile_pixels(scale);
    mapnik::image_rgba8 image(side, side, true);
    const mapnik::image_view_rgba8 view(0, 0, side, side, image);
    entry->second = encode_tile_image(view, format);
  }
  return entry->second;
}

mapnik::image_rgba8 render_image(mapnik::Map& map, const metatile& meta, const raster_options& options) {
  const std::uint32_t side = tile_pixels(options.scale) * meta.size;
  map.resize(side, side);
  map.set_buffer_size(static_cast<int>(options.buffer_pixels * options.scale));
  const bbox bounds = meta.mercator_bounds();
  map.zoom_to_box(mapnik::box2d<double>(bounds.minx, bounds.miny, bounds.maxx, bounds.maxy));

  mapnik::image_rgba8 image(side, side);
  mapnik::agg_renderer<mapnik::image_rgba8> renderer(map, image, static_cast<double>(options.scale));
  renderer.apply();
  return image;
}

}  // namespace

std::vector<encoded_tile> render_raster_metatile(mapnik::Map& map, const metatile& meta,
                                                 const raster_options& options) {
  const mapnik::image_rgba8 image = render_image(map, meta, options);
  const std::uint32_t side = tile_pixels(options.scale);

  std::vector<encoded_tile> tiles;
  tiles.reserve(std::size_t{meta.size} * meta.size);
  for (const tile_id& tile : meta.tiles()) {
    const std::uint32_t left = (tile.x - meta.x) * side;
    const std::uint32_t top = (tile.y - meta.y) * side;
    const mapnik::image_view_rgba8 view(left, top, side, side, image);
    if (is_fully_transparent(view)) {
      tiles.push_back({tile, transparent_tile(options.format, options.scale)});
    } else {
      tiles.push_back({tile, encode_tile_image(view, options.format)});
    }
  }
  return tiles;
}

}  // namespace tuilerie
