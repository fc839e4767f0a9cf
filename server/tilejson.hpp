// TileJSON 3.0.0 documents and the tileset catalog.
#pragma once

#include "server/config.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace tuilerie {

// TileJSON 3.0.0 for one format and scale of a tileset, with absolute tile
// URLs under base_url (for example "http://127.0.0.1:8080"). vector_layers
// is the array TileJSON requires for vector tiles; it is ignored for rasters.
nlohmann::json make_tilejson(const tileset_settings& tileset, tile_format format, std::uint8_t scale,
                             const std::string& base_url, const nlohmann::json& vector_layers);

// The list of tilesets with their formats and metadata URLs.
nlohmann::json make_catalog(const config& settings, const std::string& base_url);

}  // namespace tuilerie
