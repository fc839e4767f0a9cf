// Lists the data files behind a Mapnik style.
#include "render/style_sources.hpp"

#include <mapnik/datasource.hpp>
#include <mapnik/layer.hpp>
#include <mapnik/map.hpp>
#include <mapnik/mapped_memory_cache.hpp>
#include <mapnik/params.hpp>

#include <algorithm>
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

}  // namespace

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
