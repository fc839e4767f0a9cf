// The cache commands' options and entry points: stats and export.
#pragma once

#include <filesystem>
#include <string>

namespace tuilerie {

struct cache_stats_options {
  std::filesystem::path config_file;
  std::filesystem::path cache_path;  // overrides cache.path when set
  bool json = false;                 // a JSON document instead of a table
  std::string log_level = "warn";
};

// Prints the cache's entries and bytes per tileset, format, scale and zoom,
// with how many are fresh (of the tileset's current data version) and stale,
// as a table or as JSON on standard output. Returns 0. Throws config_error,
// style_error or cache_error.
int run_cache_stats(const cache_stats_options& options);

struct cache_export_options {
  std::filesystem::path config_file;
  std::filesystem::path cache_path;  // overrides cache.path when set
  std::string tileset;
  std::filesystem::path mbtiles;  // the file to write, replaced when it exists
  std::string format = "png";
  unsigned scale = 1;
  std::string log_level = "warn";
};

// Writes the tileset's fresh cached tiles of one format and scale to an
// MBTiles file and prints what it wrote and how many stale tiles it skipped.
// Returns 0, or 1 when the cache contains no fresh tile to export. Throws
// option_error, config_error, style_error, cache_error or mbtiles_error.
int run_cache_export(const cache_export_options& options);

}  // namespace tuilerie
