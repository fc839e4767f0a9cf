// The purge command's options and entry point.
#pragma once

#include <filesystem>
#include <string>

namespace tuilerie {

struct purge_options {
  std::filesystem::path config_file;
  std::filesystem::path cache_path;  // overrides cache.path when set
  std::string tileset;
  std::string bbox;  // empty for the whole grid
  std::string zoom;  // empty for every zoom
  std::string log_level = "warn";
};

// Deletes a tileset's cached tiles in the box and zooms, in every format and
// scale, and prints how many entries it deleted. A tileset missing from the
// configuration is purged too, after a warning, so that the tiles of a
// removed tileset can be deleted. Returns 0. Throws option_error,
// config_error or cache_error.
int run_purge(const purge_options& options);

}  // namespace tuilerie
