// The purge command: deletes a tileset's cached tiles by box and zoom range.
#include "server/purge_command.hpp"

#include "server/config.hpp"
#include "server/seed_command.hpp"
#include "tilecache/tile_store.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <optional>

namespace tuilerie {

namespace {

std::string describe_box(const std::optional<bbox>& box) {
  if (!box) return "";
  return fmt::format(" in the box {},{},{},{}", box->minx, box->miny, box->maxx, box->maxy);
}

}  // namespace

int run_purge(const purge_options& options) {
  log_to_stderr(options.log_level);
  const config settings = load_command_config(options.config_file, options.cache_path);
  if (!is_valid_tileset_name(options.tileset)) {
    throw option_error("invalid --tileset '" + options.tileset +
                       "': a tileset name has 1 to 64 letters, digits, '-' or '_'");
  }
  if (!settings.tilesets.contains(options.tileset)) {
    spdlog::warn("tileset {} is not in {}; purging its cached tiles anyway", options.tileset,
                 settings.file.string());
  }
  const std::optional<bbox> box =
      options.bbox.empty() ? std::nullopt : std::optional<bbox>(parse_bbox_option(options.bbox));
  const zoom_range zooms = options.zoom.empty() ? zoom_range{} : parse_zoom_option(options.zoom);

  tile_store store(store_options_of(settings.cache));
  const std::uint64_t deleted = store.purge(options.tileset, zooms.minzoom, zooms.maxzoom, box);
  fmt::print("purged {} entries of tileset {} at zooms {} to {}{}\n", deleted, options.tileset, zooms.minzoom,
             zooms.maxzoom, describe_box(box));
  return 0;
}

}  // namespace tuilerie
