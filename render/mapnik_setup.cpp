// Registers Mapnik's plugins and fonts, and loads styles with clear errors.
#include "render/mapnik_setup.hpp"

#include <mapnik/datasource_cache.hpp>
#include <mapnik/font_engine_freetype.hpp>
#include <mapnik/layer.hpp>
#include <mapnik/load_map.hpp>
#include <mapnik/map.hpp>
#include <spdlog/spdlog.h>

#include <mutex>

namespace tuilerie {

namespace {

std::once_flag plugins_registered;

void register_plugins() {
  const std::string directory = TUILERIE_MAPNIK_INPUT_PLUGINS;
  auto& cache = mapnik::datasource_cache::instance();
  cache.register_datasources(directory);
  if (cache.plugin_names().empty()) {
    throw style_error("no Mapnik input plugin found in " + directory +
                      "; install libmapnik3.1 (scripts/install-deps.sh) or rebuild against the installed Mapnik");
  }
  spdlog::info("Mapnik input plugins from {}: {}", directory, fmt::join(cache.plugin_names(), ", "));
}

void register_fonts(const std::vector<std::filesystem::path>& font_directories) {
  for (const auto& directory : font_directories) {
    std::error_code error;
    if (!std::filesystem::is_directory(directory, error)) {
      spdlog::warn("font directory {} not found; styles naming its fonts will fail to load", directory.string());
      continue;
    }
    mapnik::freetype_engine::register_fonts(directory.string(), true);
  }
}

}  // namespace

void setup_mapnik(const std::vector<std::filesystem::path>& font_directories) {
  std::call_once(plugins_registered, register_plugins);
  register_fonts(font_directories);
}

std::vector<std::filesystem::path> default_font_directories() {
  return {"/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/truetype/noto"};
}

std::unique_ptr<mapnik::Map> load_style(const std::filesystem::path& style_file) {
  auto map = std::make_unique<mapnik::Map>(256, 256);
  try {
    mapnik::load_map(*map, style_file.string(), true);
  } catch (const std::exception& error) {
    throw style_error(style_file.string() + ": cannot load the Mapnik style: " + error.what());
  }
  validate_style(*map, style_file);
  return map;
}

void validate_style(const mapnik::Map& map, const std::filesystem::path& style_file) {
  if (map.layers().empty()) {
    throw style_error(style_file.string() + ": the style has no <Layer>; add at least one");
  }
  for (const auto& layer : map.layers()) {
    if (!layer.datasource()) {
      throw style_error(style_file.string() + ": layer '" + layer.name() + "' has no <Datasource>");
    }
    if (layer.styles().empty()) {
      throw style_error(style_file.string() + ": layer '" + layer.name() +
                        "' names no <StyleName>, so it would never be drawn");
    }
    for (const auto& style_name : layer.styles()) {
      if (!map.find_style(style_name)) {
        throw style_error(style_file.string() + ": layer '" + layer.name() + "' names style '" + style_name +
                          "', which the file does not define");
      }
    }
  }
}

}  // namespace tuilerie
