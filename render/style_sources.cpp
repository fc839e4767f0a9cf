// Lists the data files behind a Mapnik style, and points its layers at Web Mercator copies of them.
#include "render/style_sources.hpp"

#include "tilecache/mercator_copies.hpp"

#include <mapnik/datasource.hpp>
#include <mapnik/datasource_cache.hpp>
#include <mapnik/layer.hpp>
#include <mapnik/map.hpp>
#include <mapnik/mapped_memory_cache.hpp>
#include <mapnik/params.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <optional>
#include <set>
#include <string>

namespace tuilerie {

namespace {

std::filesystem::path layer_file(const mapnik::parameters& params) {
  const auto file = params.get<std::string>("file");
  if (!file) return {};
  std::filesystem::path path = *file;
  if (const auto base = params.get<std::string>("base"); base && path.is_relative()) path = *base / path;
  return std::filesystem::absolute(path).lexically_normal();
}

void add_shapefile_parts(std::filesystem::path shp, std::vector<std::filesystem::path>& files) {
  if (shp.extension() != ".shp") shp += ".shp";
  for (const char* extension : {".shp", ".shx", ".dbf", ".prj", ".cpg"}) {
    files.push_back(std::filesystem::path(shp).replace_extension(extension));
  }
}

std::string lower_case(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

// The source of an ogr layer that a Web Mercator copy can replace, if any.
std::optional<layer_source> copyable_source(const mapnik::layer& layer, const std::string& map_srs) {
  const auto datasource = layer.datasource();
  if (!datasource) return std::nullopt;
  const mapnik::parameters& params = datasource->params();
  if (params.get<std::string>("type").value_or("") != "ogr") return std::nullopt;
  const std::string srs = lower_case(layer.srs());
  if (srs == map_srs || srs == "epsg:4326") return std::nullopt;
  // Any other parameter (layer_by_index, a driver, an extent in the source
  // SRS, an encoding) changes what is read in a way the copy would not keep.
  static const std::set<std::string> known{"type", "file", "base", "layer", "layer_by_sql"};
  for (const auto& [key, value] : params) {
    if (!known.contains(key)) return std::nullopt;
  }
  layer_source source{layer_file(params), params.get<std::string>("layer").value_or(""),
                      params.get<std::string>("layer_by_sql").value_or(""), layer.srs()};
  if (source.file.empty() || source.layer.empty() == source.sql.empty()) return std::nullopt;
  return source;
}

}  // namespace

void use_mercator_copies(mapnik::Map& map, mercator_copies& copies) {
  const std::string map_srs = lower_case(map.srs());
  if (map_srs != "epsg:3857") return;
  for (mapnik::layer& layer : map.layers()) {
    const auto source = copyable_source(layer, map_srs);
    if (!source) continue;
    try {
      mapnik::parameters params;
      params["type"] = "ogr";
      params["file"] = copies.copy_of(*source).string();
      // The source's SQL may order the features for drawing, and a layer read
      // through its spatial index comes back in no set order.
      if (source->sql.empty()) {
        params["layer"] = mercator_copies::copy_layer;
      } else {
        params["layer_by_sql"] = mercator_copies::copy_sql;
      }
      layer.set_datasource(mapnik::datasource_cache::instance().create(params));
      layer.set_srs(map.srs());
    } catch (const std::exception& error) {
      spdlog::warn("layer '{}': rendering from {} and reprojecting each time, as no Web Mercator copy could be "
                   "made: {}", layer.name(), source->file.string(), error.what());
    }
  }
}

std::vector<std::filesystem::path> style_data_files(const mapnik::Map& map) {
  std::vector<std::filesystem::path> files;
  for (const auto& layer : map.layers()) {
    const auto datasource = layer.datasource();
    if (!datasource) continue;
    const auto& params = datasource->params();
    const auto path = layer_file(params);
    if (path.empty()) continue;
    if (params.get<std::string>("type") == std::string("shape")) {
      add_shapefile_parts(path, files);
    } else {
      files.push_back(path);
    }
  }
  std::sort(files.begin(), files.end());
  files.erase(std::unique(files.begin(), files.end()), files.end());
  return files;
}

void forget_mapped_files() { mapnik::mapped_memory_cache::instance().clear(); }

}  // namespace tuilerie
