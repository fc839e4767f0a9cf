// Building the OGC API - Tiles JSON documents.
#include "server/features/ogc_tiles.hpp"

#include "render/tile_format.hpp"
#include "render/tile_grid.hpp"

namespace tuilerie {

namespace {

using json = nlohmann::ordered_json;

constexpr std::string_view json_media_type = "application/json";
constexpr std::string_view mercator_crs_uri = "http://www.opengis.net/def/crs/EPSG/0/3857";
constexpr std::string_view tile_matrix_set_uri =
    "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad";
constexpr std::string_view tiling_scheme_rel = "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme";

// Size of a pixel in the scale denominators of OGC standards: 0.28 mm.
constexpr double standard_pixel_size_m = 0.00028;

std::string tile_matrix_set_url(const api_location& location) {
  return location.url("/tileMatrixSets/" + std::string(web_mercator_quad));
}

std::string tileset_url(const tileset_settings& tileset, const api_location& location) {
  return location.url("/tiles/" + tileset.name + "/" + std::string(web_mercator_quad));
}

bool serves_raster(const tileset_settings& tileset) {
  return tileset.serves(tile_format::png) || tileset.serves(tile_format::webp);
}

// "map" for raster tiles; a tileset serving only MVT is "vector".
// NOTE: a tileset serving both is described as a map, and its MVT template
// is listed among its links.
std::string_view data_type_of(const tileset_settings& tileset) {
  return serves_raster(tileset) ? "map" : "vector";
}

json tileset_summary(const tileset_settings& tileset, const api_location& location) {
  return {
      {"title", tileset.title},
      {"dataType", data_type_of(tileset)},
      {"crs", mercator_crs_uri},
      {"tileMatrixSetURI", tile_matrix_set_uri},
      {"links",
       {make_link(tileset_url(tileset, location), "self", json_media_type, "Tileset metadata"),
        make_link(tile_matrix_set_url(location), tiling_scheme_rel, json_media_type,
                  "WebMercatorQuad definition")}},
  };
}

json tile_matrix_limits(const tileset_settings& tileset) {
  auto limits = json::array();
  for (int z = tileset.minzoom; z <= tileset.maxzoom; ++z) {
    const tile_range range = tiles_covering(tileset.bounds, z);
    limits.push_back({{"tileMatrix", std::to_string(z)},
                      {"minTileRow", range.min_y},
                      {"maxTileRow", range.max_y},
                      {"minTileCol", range.min_x},
                      {"maxTileCol", range.max_x}});
  }
  return limits;
}

}  // namespace

nlohmann::ordered_json tile_matrix_sets_document(const api_location& location) {
  return {{"tileMatrixSets", json::array({{{"id", web_mercator_quad},
                                           {"title", "Google Maps Compatible for the World"},
                                           {"uri", tile_matrix_set_uri},
                                           {"links",
                                            {make_link(tile_matrix_set_url(location), "self", json_media_type,
                                                       "WebMercatorQuad definition")}}}})}};
}

nlohmann::ordered_json web_mercator_quad_document(const api_location& location) {
  auto matrices = json::array();
  for (int z = 0; z <= max_zoom; ++z) {
    const double cell_size_m = 2 * mercator_half_extent / 256 / tiles_per_side(z);
    matrices.push_back({{"id", std::to_string(z)},
                        {"scaleDenominator", cell_size_m / standard_pixel_size_m},
                        {"cellSize", cell_size_m},
                        {"cornerOfOrigin", "topLeft"},
                        {"pointOfOrigin", json::array({-mercator_half_extent, mercator_half_extent})},
                        {"tileWidth", 256},
                        {"tileHeight", 256},
                        {"matrixWidth", tiles_per_side(z)},
                        {"matrixHeight", tiles_per_side(z)}});
  }
  return {
      {"id", web_mercator_quad},
      {"title", "Google Maps Compatible for the World"},
      {"uri", tile_matrix_set_uri},
      {"crs", mercator_crs_uri},
      {"orderedAxes", json::array({"X", "Y"})},
      {"wellKnownScaleSet", "http://www.opengis.net/def/wkss/OGC/1.0/GoogleMapsCompatible"},
      {"tileMatrices", std::move(matrices)},
      {"links", {make_link(tile_matrix_set_url(location), "self", json_media_type, "This document")}},
  };
}

nlohmann::ordered_json tilesets_document(const config& settings, const api_location& location) {
  auto tilesets = json::array();
  for (const auto& [name, tileset] : settings.tilesets)
    tilesets.push_back(tileset_summary(tileset, location));
  return {{"links", {make_link(location.url("/tiles"), "self", json_media_type, "This document")}},
          {"tilesets", std::move(tilesets)}};
}

nlohmann::ordered_json tileset_tile_matrix_sets_document(const tileset_settings& tileset,
                                                         const api_location& location) {
  return {{"links",
           {make_link(location.url("/tiles/" + tileset.name), "self", json_media_type, "This document")}},
          {"tilesets", json::array({tileset_summary(tileset, location)})}};
}

nlohmann::ordered_json tileset_document(const tileset_settings& tileset, const api_location& location) {
  json document = tileset_summary(tileset, location);
  document["description"] = tileset.description;
  document["attribution"] = tileset.attribution;
  document["tileMatrixSetLimits"] = tile_matrix_limits(tileset);
  document["boundingBox"] = {
      {"lowerLeft", json::array({tileset.bounds.minx, tileset.bounds.miny})},
      {"upperRight", json::array({tileset.bounds.maxx, tileset.bounds.maxy})},
      {"crs", crs84_uri},
  };
  for (const auto format : tileset.formats) {
    auto link = make_link(location.base_url + "/tiles/" + tileset.name +
                              "/{tileMatrix}/{tileCol}/{tileRow}." + std::string(extension_of(format)),
                          "item", content_type_of(format), std::string(extension_of(format)) + " tiles");
    link["templated"] = true;
    document["links"].push_back(std::move(link));
  }
  return document;
}

}  // namespace tuilerie
