// The seed command, and the option checks that the purge and cache commands share with it.
#pragma once

#include "render/render_pool.hpp"
#include "render/tile_format.hpp"
#include "render/tile_grid.hpp"
#include "server/config.hpp"
#include "tilecache/tile_store.hpp"

#include <filesystem>
#include <stdexcept>
#include <string>

namespace tuilerie {

// A command-line option with an invalid value. The message names the option,
// the value and the expected form, and main exits with status 2.
class option_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct zoom_range {
  int minzoom = 0;
  int maxzoom = max_zoom;
};

// Parses --zoom: "Z" or "MIN-MAX", whole numbers with
// 0 <= MIN <= MAX <= max_zoom. Throws option_error.
zoom_range parse_zoom_option(const std::string& text);

// Parses --bbox: "minlon,minlat,maxlon,maxlat" in degrees, longitudes from
// -180 to 180, latitudes from -90 to 90, each minimum below its maximum.
// Throws option_error.
bbox parse_bbox_option(const std::string& text);

// The tileset named by --tileset. Throws option_error listing the
// configured tilesets when there is none of that name.
const tileset_settings& tileset_option(const config& settings, const std::string& name);

// Parses --format ("png", "webp", "mvt" or its alias "pbf") and checks that
// the tileset serves it and that a --scale of 2 goes with a raster format.
// Throws option_error.
tile_format format_option(const tileset_settings& tileset, const std::string& text, unsigned scale = 1);

// Loads the configuration and applies --cache when it is set. Throws config_error.
config load_command_config(const std::filesystem::path& config_file, const std::filesystem::path& cache_path);

// Removes every tileset but one from the settings, so that only its style is
// loaded. Its data version is the same, since it depends on its own style and
// data files only.
void keep_only_tileset(config& settings, const std::string& name);

// The style file of each configured tileset, for a style_registry.
style_files style_files_of(const config& settings);

// The store options of the configured cache, the same as the server's.
tile_store_options store_options_of(const cache_settings& cache);

// Sends log lines to standard error at the level ("warn", "info", ...), so
// that standard output carries only the command's result.
void log_to_stderr(const std::string& level);

struct seed_options {
  std::filesystem::path config_file;
  std::filesystem::path cache_path;  // overrides cache.path when set
  std::string tileset;
  std::string bbox;  // empty for the tileset's bounds
  std::string zoom;  // "MIN-MAX", clamped to the tileset's zoom range
  std::string format = "png";
  unsigned scale = 1;
  unsigned threads = 0;  // render threads; 0 for server.render_threads
  std::string log_level = "warn";
};

// Renders every metatile (or vector tile) of the area and zooms that is not
// cached fresh, through the server's own tile service, and prints a summary
// line. Stops submitting on SIGINT or SIGTERM and lets the renders in flight
// finish and be stored. Returns 0, 1 when a render or a cache write failed,
// or 128 + the signal number when interrupted. Throws option_error,
// config_error, style_error or cache_error when it cannot start.
int run_seed(const seed_options& options);

}  // namespace tuilerie
