// Loads the viewer, legends and MapLibre styles into memory.
#include "server/site.hpp"

#include "tilecache/tile_store.hpp"

#include <spdlog/spdlog.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace tuilerie {

namespace {

// Revalidated on every use, so a new viewer reaches browsers at once.
constexpr const char* revalidate = "no-cache";
// MapLibre GL JS changes only when its npm package is upgraded.
constexpr const char* one_day = "public, max-age=86400";

std::string content_type_for(const std::filesystem::path& file) {
  const auto extension = file.extension().string();
  if (extension == ".html") return "text/html; charset=utf-8";
  if (extension == ".js") return "text/javascript; charset=utf-8";
  if (extension == ".css") return "text/css; charset=utf-8";
  if (extension == ".json") return "application/json";
  if (extension == ".svg") return "image/svg+xml";
  if (extension == ".png") return "image/png";
  return "application/octet-stream";
}

std::string read_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + file.string());
  std::stringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

bool is_viewer_file(const std::filesystem::directory_entry& entry) {
  const auto name = entry.path().filename().string();
  const auto extension = entry.path().extension().string();
  if (!entry.is_regular_file() || name.starts_with("package")) return false;
  return extension == ".html" || extension == ".js" || extension == ".css" || extension == ".svg" ||
         extension == ".png" || extension == ".json";
}

}  // namespace

site_content::site_content(const config& settings) {
  load_viewer(settings.server.web_root);
  for (const auto& [name, tileset] : settings.tilesets) load_tileset_files(tileset);
}

const static_file* site_content::find(const std::string& url_path) const {
  const auto found = files_.find(url_path);
  return found == files_.end() ? nullptr : &found->second;
}

void site_content::add_file(const std::string& url_path, const std::filesystem::path& file,
                            const std::string& cache_control) {
  static_file entry;
  entry.content_type = content_type_for(file);
  entry.body = read_file(file);
  entry.etag = hash_tile_body(entry.body);
  entry.cache_control = cache_control;
  entry.has_base_url_placeholder = entry.body.find("{base_url}") != std::string::npos;
  files_[url_path] = std::move(entry);
}

void site_content::load_viewer(const std::filesystem::path& web_root) {
  std::error_code error;
  if (!std::filesystem::is_directory(web_root, error)) {
    spdlog::warn("viewer directory {} not found; / will respond 404", web_root.string());
    return;
  }
  for (const auto& entry : std::filesystem::directory_iterator(web_root)) {
    if (is_viewer_file(entry)) add_file("/web/" + entry.path().filename().string(), entry.path(), revalidate);
  }
  if (const auto index = web_root / "index.html"; std::filesystem::is_regular_file(index, error)) {
    add_file("/", index, revalidate);
  }
  const auto maplibre = web_root / "node_modules" / "maplibre-gl" / "dist";
  for (const char* name : {"maplibre-gl.js", "maplibre-gl.css", "maplibre-gl.js.map"}) {
    if (std::filesystem::is_regular_file(maplibre / name, error)) {
      add_file(std::string("/web/maplibre-gl/") + name, maplibre / name, one_day);
    } else {
      spdlog::warn("{} not found; run scripts/install-deps.sh to install the viewer's npm packages",
                   (maplibre / name).string());
    }
  }
}

void site_content::load_tileset_files(const tileset_settings& tileset) {
  if (tileset.legend) add_file("/legends/" + tileset.name + ".json", *tileset.legend, revalidate);
  std::error_code error;
  const auto maplibre_style = tileset.style.parent_path() / (tileset.name + ".maplibre.json");
  if (std::filesystem::is_regular_file(maplibre_style, error)) {
    add_file("/styles/" + tileset.name + ".json", maplibre_style, revalidate);
  }
}

}  // namespace tuilerie
