// Keeps each tileset's data version current: watches its style and data
// files, and reloads them on change or on SIGHUP.
#pragma once

#include "render/render_pool.hpp"
#include "server/config.hpp"
#include "tilecache/file_watcher.hpp"

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace tuilerie {

class tileset_versions {
 public:
  // Loads every style once to find its data files and computes the first
  // versions. Throws style_error for a style that does not load.
  tileset_versions(const config& settings, style_registry& styles);
  ~tileset_versions();

  // The version of the data that fresh tiles of the tileset come from.
  std::uint64_t version(const std::string& tileset) const;

  // False while a data file the tileset reads is missing: its tiles then get
  // 503 rather than tiles rendered from whatever Mapnik still holds.
  bool available(const std::string& tileset) const;

  // Starts watching every style and data file with inotify.
  void start_watching();

  // Reloads the given tilesets: a style that loads gets its data files and
  // version recomputed, and render threads reload it before their next
  // render; a style that fails keeps the previous one, and the error is
  // logged with the file. Returns the tilesets whose version changed.
  std::set<std::string> reload(const std::set<std::string>& tilesets);

  // Reloads every tileset and restarts the watch, so that files a changed
  // style newly reads are watched too (SIGHUP).
  std::set<std::string> reload_all();

 private:
  struct tileset_state {
    std::filesystem::path style;
    std::vector<std::filesystem::path> data_files;
    std::uint64_t version = 0;
    bool available = true;
  };

  void mark_unavailable_if_data_missing(const std::string& name);

  void on_files_changed(const std::set<std::filesystem::path>& changed);
  std::vector<std::filesystem::path> watched_files() const;

  style_registry& styles_;
  mutable std::mutex mutex_;
  std::map<std::string, tileset_state> tilesets_;
  std::mutex reload_mutex_;   // one reload at a time, from the watcher or SIGHUP
  std::mutex watcher_mutex_;  // guards watcher_
  std::unique_ptr<file_watcher> watcher_;
};

}  // namespace tuilerie
