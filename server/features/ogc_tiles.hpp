// OGC API - Tiles documents: the WebMercatorQuad tile matrix set (OGC Two
// Dimensional Tile Matrix Set 2.0, JSON) and the metadata of each tileset,
// whose templated links point at the existing /tiles route.
#pragma once

#include "server/config.hpp"
#include "server/features/ogc_documents.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace tuilerie {

inline constexpr std::string_view web_mercator_quad = "WebMercatorQuad";

// {"tileMatrixSets": [...]}: the one tile matrix set served, with its link.
nlohmann::ordered_json tile_matrix_sets_document(const api_location& location);

// The full WebMercatorQuad definition, zoom 0 to 24.
nlohmann::ordered_json web_mercator_quad_document(const api_location& location);

// {"tilesets": [...]}: one summary per tileset, linking to its metadata.
nlohmann::ordered_json tilesets_document(const config& settings, const api_location& location);

// The list of tile matrix sets of one tileset: WebMercatorQuad only.
nlohmann::ordered_json tileset_tile_matrix_sets_document(const tileset_settings& tileset,
                                                         const api_location& location);

// The metadata of one tileset in WebMercatorQuad: data type, limits per
// zoom, bounding box and a templated "item" link per format, such as
// {base}/tiles/{tileset}/{tileMatrix}/{tileCol}/{tileRow}.png.
nlohmann::ordered_json tileset_document(const tileset_settings& tileset, const api_location& location);

}  // namespace tuilerie
