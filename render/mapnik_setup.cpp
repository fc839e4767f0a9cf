// Registers Mapnik's plugins and fonts, and loads styles with clear errors.
#include "render/mapnik_setup.hpp"

#include <mapnik/datasource.hpp>
#include <mapnik/datasource_cache.hpp>
#include <mapnik/font_engine_freetype.hpp>
#include <mapnik/layer.hpp>
#include <mapnik/load_map.hpp>
#include <mapnik/map.hpp>
#include <spdlog/spdlog.h>

#include <atomic>
#include <mutex>
#include <regex>

namespace tuilerie {

namespace {

std::once_flag plugins_registered;
std::atomic<unsigned> postgis_pool_size{0};
// Mapnik's own max_size when a postgis datasource sets none.
constexpr unsigned mapnik_default_pool_size = 10;
std::atomic<unsigned> largest_postgis_pool{0};

void note_pool_size(unsigned size) {
  unsigned largest = largest_postgis_pool;
  while (size > largest && !largest_postgis_pool.compare_exchange_weak(largest, size)) {
  }
}

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

// Creates the layer's datasource again with max_size set, when it is a
// postgis one that leaves it to Mapnik's default.
void size_postgis_pool(mapnik::layer& layer, const std::filesystem::path& style_file) {
  if (!layer.datasource()) return;
  mapnik::parameters params = layer.datasource()->params();
  if (params.get<std::string>("type").value_or("") != "postgis") return;
  // A pool grows to the largest max_size of the layers sharing it.
  note_pool_size(mapnik_default_pool_size);
  if (const auto own = params.get<mapnik::value_integer>("max_size")) {
    note_pool_size(static_cast<unsigned>(std::max<mapnik::value_integer>(*own, 0)));
    return;
  }
  const unsigned size = postgis_pool_size;
  if (size == 0) return;
  note_pool_size(size);
  params["max_size"] = std::to_string(size);
  try {
    layer.set_datasource(mapnik::datasource_cache::instance().create(params));
  } catch (const std::exception& error) {
    throw style_error(style_file.string() + ": layer '" + layer.name() + "': " + without_passwords(error.what()));
  }
}

}  // namespace

std::string without_passwords(const std::string& text) {
  static const std::regex password(R"(password\s*=\s*('[^']*'|[^\s']+))", std::regex::icase);
  return std::regex_replace(text, password, "password=(hidden)");
}

void set_postgis_pool_size(unsigned connections) { postgis_pool_size = connections; }

unsigned largest_postgis_pool_size() { return largest_postgis_pool; }

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
    throw style_error(style_file.string() + ": cannot load the Mapnik style: " + without_passwords(error.what()));
  }
  for (auto& layer : map->layers()) size_postgis_pool(layer, style_file);
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
