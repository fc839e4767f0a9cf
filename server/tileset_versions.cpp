// Data versions of tilesets, recomputed when their files change.
#include "server/tileset_versions.hpp"

#include "render/mapnik_setup.hpp"
#include "render/style_sources.hpp"
#include "tilecache/data_version.hpp"

#include <mapnik/map.hpp>
#include <spdlog/spdlog.h>

namespace tuilerie {

tileset_versions::tileset_versions(const config& settings, style_registry& styles) : styles_(styles) {
  for (const auto& [name, tileset] : settings.tilesets) {
    const auto map = load_style(tileset.style);
    tileset_state state{tileset.style, style_data_files(*map), 0};
    state.version = compute_data_version(state.style, state.data_files);
    tilesets_.emplace(name, std::move(state));
  }
}

tileset_versions::~tileset_versions() {
  const std::lock_guard lock(watcher_mutex_);
  watcher_.reset();
}

std::uint64_t tileset_versions::version(const std::string& tileset) const {
  const std::lock_guard lock(mutex_);
  return tilesets_.at(tileset).version;
}

bool tileset_versions::available(const std::string& tileset) const {
  const std::lock_guard lock(mutex_);
  return tilesets_.at(tileset).available;
}

void tileset_versions::mark_unavailable_if_data_missing(const std::string& name) {
  const std::lock_guard lock(mutex_);
  auto& state = tilesets_.at(name);
  for (const auto& file : state.data_files) {
    std::error_code error;
    // Shapefile siblings such as .cpg are optional; the main files are not.
    const auto extension = file.extension();
    if (extension == ".cpg" || extension == ".prj" || std::filesystem::exists(file, error)) continue;
    if (state.available) {
      spdlog::error("tileset {}: data file {} is missing; its tiles get 503 until the file is back", name,
                    file.string());
    }
    state.available = false;
    return;
  }
}

std::vector<std::filesystem::path> tileset_versions::watched_files() const {
  const std::lock_guard lock(mutex_);
  std::vector<std::filesystem::path> files;
  for (const auto& [name, state] : tilesets_) {
    files.push_back(state.style);
    files.insert(files.end(), state.data_files.begin(), state.data_files.end());
  }
  return files;
}

void tileset_versions::start_watching() {
  const std::lock_guard lock(watcher_mutex_);
  watcher_.reset();
  watcher_ = std::make_unique<file_watcher>(
      watched_files(), [this](const std::set<std::filesystem::path>& changed) { on_files_changed(changed); });
}

void tileset_versions::on_files_changed(const std::set<std::filesystem::path>& changed) {
  std::set<std::string> affected;
  {
    const std::lock_guard lock(mutex_);
    for (const auto& [name, state] : tilesets_) {
      bool reads_changed_file = changed.contains(std::filesystem::absolute(state.style).lexically_normal());
      for (const auto& file : state.data_files) reads_changed_file = reads_changed_file || changed.contains(file);
      if (reads_changed_file) affected.insert(name);
    }
  }
  reload(affected);
}

std::set<std::string> tileset_versions::reload(const std::set<std::string>& tilesets) {
  const std::lock_guard reloading(reload_mutex_);
  std::set<std::string> changed;
  for (const auto& name : tilesets) {
    std::filesystem::path style;
    std::uint64_t old_version = 0;
    {
      const std::lock_guard lock(mutex_);
      style = tilesets_.at(name).style;
      old_version = tilesets_.at(name).version;
    }
    std::vector<std::filesystem::path> data_files;
    try {
      data_files = style_data_files(*load_style(style));
    } catch (const std::exception& error) {
      spdlog::error("reload of tileset {} failed, still serving the previous style: {}", name, error.what());
      mark_unavailable_if_data_missing(name);
      continue;
    }
    const std::uint64_t new_version = compute_data_version(style, data_files);
    bool was_available = true;
    {
      const std::lock_guard lock(mutex_);
      auto& state = tilesets_.at(name);
      was_available = state.available;
      state.available = true;
      if (new_version != old_version) state = {style, std::move(data_files), new_version, true};
    }
    if (!was_available) spdlog::info("tileset {}: its data files are back; serving it again", name);
    if (new_version == old_version) continue;
    forget_mapped_files();
    styles_.bump(name);
    changed.insert(name);
    spdlog::info("tileset {}: data changed, version {:016x} -> {:016x}; cached tiles of the old version are stale",
                 name, old_version, new_version);
  }
  return changed;
}

std::set<std::string> tileset_versions::reload_all() {
  std::set<std::string> names;
  {
    const std::lock_guard lock(mutex_);
    for (const auto& [name, state] : tilesets_) names.insert(name);
  }
  auto changed = reload(names);
  start_watching();
  return changed;
}

}  // namespace tuilerie
