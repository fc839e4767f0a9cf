// The vector_layers array of TileJSON and of MBTiles' json metadata row.
#pragma once

#include "server/config.hpp"

#include <nlohmann/json.hpp>

namespace mapnik {
class Map;
}

namespace tuilerie {

// Describes the vector layers of a tileset's loaded style: id, fields with
// their types, zoom range, geometry type, and an empty description (MBTiles
// 1.3 requires the key; styles carry no text for it). Throws config_error
// naming tilesets.NAME.vector.layers when the settings name a layer or
// field the style lacks.
nlohmann::json vector_layers_json(const config& settings, const tileset_settings& tileset, const mapnik::Map& map);

}  // namespace tuilerie
