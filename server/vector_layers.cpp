// TileJSON vector_layers from the datasources of a Mapnik style.
#include "server/vector_layers.hpp"

#include "render/vector_tile_renderer.hpp"

#include <mapnik/map.hpp>

#include <stdexcept>

namespace tuilerie {

nlohmann::json vector_layers_json(const config& settings, const tileset_settings& tileset, const mapnik::Map& map) {
  std::vector<vector_layer_description> descriptions;
  try {
    descriptions = describe_vector_layers(map, tileset.vector);
  } catch (const std::invalid_argument& error) {
    throw config_error(settings.file, "tilesets." + tileset.name + ".vector.layers", 0, error.what());
  }

  auto layers = nlohmann::json::array();
  for (const auto& layer : descriptions) {
    nlohmann::json fields = nlohmann::json::object();
    for (const auto& field : layer.fields) fields[field.name] = field.type;
    layers.push_back({{"id", layer.id},
                      {"description", ""},
                      {"fields", std::move(fields)},
                      {"minzoom", layer.minzoom},
                      {"maxzoom", layer.maxzoom},
                      {"geometry_type", layer.geometry_type}});
  }
  return layers;
}

}  // namespace tuilerie
