// Raster metatile rendering with Mapnik: one render, sliced into tiles.
#pragma once

#include "render/tile_format.hpp"
#include "render/tile_grid.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace mapnik {
class Map;
}

namespace tuilerie {

struct raster_options {
  tile_format format = tile_format::png;
  std::uint8_t scale = 1;           // 2 renders 512 px tiles at Mapnik scale factor 2
  std::uint32_t buffer_pixels = 128;  // at scale 1; rendered around the metatile, then cropped
};

struct encoded_tile {
  tile_id tile;
  std::string bytes;
};

// Size of one tile side in pixels at the given scale.
constexpr std::uint32_t tile_pixels(std::uint8_t scale) { return 256u * scale; }

// Renders the whole metatile once, so labels and symbols are placed once
// across its tiles, then slices and encodes every tile of it. The map is
// resized and zoomed; its style and layers are left as they were.
std::vector<encoded_tile> render_raster_metatile(mapnik::Map& map, const metatile& meta,
                                                 const raster_options& options);

}  // namespace tuilerie
