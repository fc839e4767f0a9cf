// Static content served from memory: the viewer, its npm packages, legends
// and MapLibre styles. Loaded once at start-up, so no request path ever
// reaches the file system.
#pragma once

#include "server/config.hpp"

#include <cstdint>
#include <map>
#include <string>

namespace tuilerie {

struct static_file {
  std::string content_type;
  std::string body;
  std::uint64_t etag = 0;
  std::string cache_control;
  // MapLibre styles name their sources with "{base_url}", replaced per
  // request by the URL the client used to reach the server.
  bool has_base_url_placeholder = false;
};

class site_content {
 public:
  // Loads the viewer from the web root, the MapLibre GL JS build from its npm
  // package, and each tileset's legend and MapLibre style. A missing viewer
  // is logged; a tileset's legend named in the configuration but unreadable
  // is a start-up error.
  explicit site_content(const config& settings);

  // The file served at a URL path such as "/web/viewer.js", or nullptr.
  const static_file* find(const std::string& url_path) const;

 private:
  void add_file(const std::string& url_path, const std::filesystem::path& file, const std::string& cache_control);
  void load_viewer(const std::filesystem::path& web_root);
  void load_tileset_files(const tileset_settings& tileset);

  std::map<std::string, static_file> files_;
};

}  // namespace tuilerie
