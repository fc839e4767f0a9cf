// TileJSON and catalog documents.
#include "server/tilejson.hpp"

namespace tuilerie {

namespace {

std::string tile_url_template(const tileset_settings& tileset, tile_format format, std::uint8_t scale,
                              const std::string& base_url) {
  const std::string suffix = scale == 2 ? "@2x" : "";
  return base_url + "/tiles/" + tileset.name + "/{z}/{x}/{y}" + suffix + "." + std::string(extension_of(format));
}

nlohmann::json format_names(const tileset_settings& tileset) {
  auto names = nlohmann::json::array();
  for (const auto format : tileset.formats) names.push_back(std::string(extension_of(format)));
  return names;
}

}  // namespace

nlohmann::json make_tilejson(const tileset_settings& tileset, tile_format format, std::uint8_t scale,
                             const std::string& base_url, const nlohmann::json& vector_layers) {
  nlohmann::json document{
      {"tilejson", "3.0.0"},
      {"name", tileset.title},
      {"description", tileset.description},
      {"attribution", tileset.attribution},
      {"scheme", "xyz"},
      {"tiles", {tile_url_template(tileset, format, scale, base_url)}},
      {"minzoom", tileset.minzoom},
      {"maxzoom", tileset.maxzoom},
      {"bounds", {tileset.bounds.minx, tileset.bounds.miny, tileset.bounds.maxx, tileset.bounds.maxy}},
      {"center", {tileset.center_lon, tileset.center_lat, tileset.center_zoom}},
      {"format", extension_of(format)},
  };
  if (format == tile_format::mvt) {
    document["vector_layers"] = vector_layers.is_array() ? vector_layers : nlohmann::json::array();
  } else {
    // The size in CSS pixels that a tile covers on screen: @2x tiles carry
    // twice the pixels over the same 256, which is what makes them sharp.
    document["tileSize"] = 256;
  }
  if (tileset.legend) document["legend"] = base_url + "/legends/" + tileset.name + ".json";
  return document;
}

nlohmann::json make_catalog(const config& settings, const std::string& base_url) {
  auto tilesets = nlohmann::json::array();
  for (const auto& [name, tileset] : settings.tilesets) {
    nlohmann::json entry{
        {"name", name},
        {"title", tileset.title},
        {"description", tileset.description},
        {"attribution", tileset.attribution},
        {"formats", format_names(tileset)},
        {"minzoom", tileset.minzoom},
        {"maxzoom", tileset.maxzoom},
        {"bounds", {tileset.bounds.minx, tileset.bounds.miny, tileset.bounds.maxx, tileset.bounds.maxy}},
        {"center", {tileset.center_lon, tileset.center_lat, tileset.center_zoom}},
        {"tilejson", base_url + "/tiles/" + name + ".json"},
    };
    if (tileset.legend) entry["legend"] = base_url + "/legends/" + name + ".json";
    tilesets.push_back(std::move(entry));
  }
  return {{"tilesets", std::move(tilesets)},
          {"features", base_url + settings.ogc.base_path},
          {"point_query", base_url + "/query"}};
}

}  // namespace tuilerie
