// Mapbox Vector Tiles (MVT 2.1) from the vector layers of a Mapnik map.
#pragma once

#include "render/tile_grid.hpp"
#include "render/vector_settings.hpp"

#include <string>
#include <vector>

namespace mapnik {
class Map;
}

namespace tuilerie {

// Encodes one tile of the map's vector layers as MVT 2.1 (uncompressed protobuf), one MVT layer per
// Mapnik layer with the same name, in the map's layer order. When settings.layers is empty, every
// active vector layer is encoded with the default zoom range and all its attributes. Otherwise only
// the listed layers are, active or not, each within its zoom range and with its fields. Returns an
// empty string when no layer has a feature in the tile.
//
// Attributes keep their source type: integers become uint_value or sint_value, doubles
// double_value, strings UTF-8 string_value, booleans bool_value. Null attributes are left out of
// the feature, because MVT has no null. Feature ids are the datasource's ids when non-negative.
// NOTE: those are Mapnik's ids. Mapnik 3.1's GeoJSON datasource numbers features from 1 in file
// order, and its OGR datasource reports OGR's FID + 1, so GeoPackage fid 1 becomes MVT id 2.
//
// Reads the map's datasources without changing the map. Throws std::invalid_argument when
// settings name a layer that the map lacks or that is not a vector layer, and lets datasource
// errors (mapnik::datasource_exception) through.
std::string render_vector_tile(const mapnik::Map& map, const tile_id& tile, const vector_settings& settings);

// An attribute of a vector layer, for TileJSON's vector_layers.
struct vector_field {
  std::string name;
  std::string type;  // "String", "Number" or "Boolean"
};

struct vector_layer_description {
  std::string id;  // the layer name
  std::vector<vector_field> fields;
  int minzoom = 0;
  int maxzoom = max_zoom;
  // "Point", "LineString" or "Polygon" (MVT geometry type names), or "Unknown" when the datasource
  // reports none or a mix.
  std::string geometry_type;
};

// Describes the layers that render_vector_tile would encode, with their attributes from the
// datasource's layer descriptor, filtered by the configured fields, in the descriptor's order.
// Throws std::invalid_argument for the same layer errors as render_vector_tile, and when a
// configured field is not an attribute of the layer.
std::vector<vector_layer_description> describe_vector_layers(const mapnik::Map& map,
                                                             const vector_settings& settings);

}  // namespace tuilerie
