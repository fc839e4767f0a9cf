// Settings of a tileset's Mapbox Vector Tiles, read from the configuration.
#pragma once

#include "render/tile_grid.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace tuilerie {

// Settings of one Mapnik layer of a tileset's style in its vector tiles.
struct vector_layer_settings {
  std::string name;  // the Mapnik layer name, also the MVT layer name
  int minzoom = 0;
  int maxzoom = max_zoom;
  // Attributes kept in the tile; empty keeps all of them.
  std::vector<std::string> fields;
};

struct vector_settings {
  std::uint32_t extent = 4096;  // tile units along one side
  std::uint32_t buffer = 64;    // tile units beyond each edge
  double simplify = 1.0;        // Douglas-Peucker tolerance, in tile units
  // Empty means every layer of the style, with default settings.
  std::vector<vector_layer_settings> layers;
};

}  // namespace tuilerie
