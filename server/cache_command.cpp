// The cache commands: stats counts the entries per tileset, format, scale and zoom; export writes MBTiles.
#include "server/cache_command.hpp"

#include "server/vector_layers.hpp"

#include "render/mapnik_setup.hpp"
#include "render/render_pool.hpp"
#include "render/shapefile_encoding.hpp"
#include "render/vector_tile_renderer.hpp"
#include "server/config.hpp"
#include "server/seed_command.hpp"
#include "server/tileset_versions.hpp"
#include "tilecache/mbtiles_export.hpp"
#include "tilecache/tile_store.hpp"

#include <fmt/format.h>
#include <mapnik/map.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <compare>
#include <cstdio>
#include <map>

namespace tuilerie {

namespace {

constexpr double bytes_per_mib = 1024.0 * 1024.0;

// The entries of one tileset, format, scale and zoom.
struct group_key {
  std::string tileset;
  tile_format format = tile_format::png;
  std::uint8_t scale = 1;
  int zoom = 0;

  friend auto operator<=>(const group_key&, const group_key&) = default;
};

struct group_counts {
  std::uint64_t entries = 0;
  std::uint64_t bytes = 0;  // stored values: 42-byte header and body
  std::uint64_t fresh = 0;  // of the tileset's current data version
  std::uint64_t stale = 0;  // of another version, damaged, or of a tileset missing from the configuration
};

using cache_groups = std::map<group_key, group_counts>;

// Each configured tileset's current data version, computed as the server
// computes it.
std::map<std::string, std::uint64_t> current_data_versions(const config& settings) {
  style_registry styles(style_files_of(settings));
  const tileset_versions versions(settings, styles);
  std::map<std::string, std::uint64_t> current;
  for (const auto& [name, tileset] : settings.tilesets) current[name] = versions.version(name);
  return current;
}

cache_groups count_entries(tile_store& store, const std::map<std::string, std::uint64_t>& versions) {
  cache_groups groups;
  store.for_each_entry("", [&](const tile_entry& entry) {
    const tile_key& key = entry.key;
    group_counts& counts = groups[{key.tileset, key.format, key.scale, key.tile.z}];
    ++counts.entries;
    counts.bytes += entry.stored_bytes;
    const auto version = versions.find(key.tileset);
    const bool fresh = entry.valid_header && version != versions.end() && entry.data_version == version->second;
    ++(fresh ? counts.fresh : counts.stale);
  });
  return groups;
}

group_counts total_of(const cache_groups& groups) {
  group_counts total;
  for (const auto& [key, counts] : groups) {
    total.entries += counts.entries;
    total.bytes += counts.bytes;
    total.fresh += counts.fresh;
    total.stale += counts.stale;
  }
  return total;
}

void print_stats_table(const cache_groups& groups, const tile_store_stats& stats, const config& settings) {
  std::size_t name_width = std::string_view("tileset").size();
  for (const auto& [key, counts] : groups) name_width = std::max(name_width, key.tileset.size());
  const auto print_row = [name_width](std::string_view tileset, std::string_view format, std::string_view scale,
                                      std::string_view zoom, const group_counts& counts) {
    fmt::print("{:<{}}  {:<6} {:>5} {:>4} {:>10} {:>10} {:>10} {:>14}\n", tileset, name_width, format, scale, zoom,
               counts.entries, counts.fresh, counts.stale, counts.bytes);
  };

  fmt::print("{:<{}}  {:<6} {:>5} {:>4} {:>10} {:>10} {:>10} {:>14}\n", "tileset", name_width, "format", "scale",
             "zoom", "entries", "fresh", "stale", "bytes");
  for (const auto& [key, counts] : groups) {
    print_row(key.tileset, extension_of(key.format), std::to_string(key.scale), std::to_string(key.zoom), counts);
  }
  print_row("total", "", "", "", total_of(groups));
  fmt::print("cache {}: {} entries, map {:.1f} MiB of at most {} MiB, {:.1f} MiB in use\n",
             settings.cache.path.string(), stats.entries, stats.map_size_bytes / bytes_per_mib,
             settings.cache.max_size_mb, stats.used_bytes / bytes_per_mib);
}

nlohmann::json counts_json(const group_counts& counts) {
  return {{"entries", counts.entries}, {"bytes", counts.bytes}, {"fresh", counts.fresh}, {"stale", counts.stale}};
}

void print_stats_json(const cache_groups& groups, const tile_store_stats& stats, const config& settings) {
  auto rows = nlohmann::json::array();
  for (const auto& [key, counts] : groups) {
    nlohmann::json row = counts_json(counts);
    row["tileset"] = key.tileset;
    row["format"] = extension_of(key.format);
    row["scale"] = key.scale;
    row["zoom"] = key.zoom;
    rows.push_back(std::move(row));
  }
  const nlohmann::json document{
      {"cache", settings.cache.path.string()},
      {"map_size_bytes", stats.map_size_bytes},
      {"max_size_bytes", settings.cache.max_size_mb << 20},
      {"used_bytes", stats.used_bytes},
      {"total", counts_json(total_of(groups))},
      {"groups", std::move(rows)},
  };
  fmt::print("{}\n", document.dump(2));
}

mbtiles_metadata metadata_of(const config& settings, const tileset_settings& tileset, tile_format format) {
  mbtiles_metadata metadata;
  metadata.name = tileset.title.empty() ? tileset.name : tileset.title;
  metadata.description = tileset.description;
  metadata.attribution = tileset.attribution;
  metadata.center_lon = tileset.center_lon;
  metadata.center_lat = tileset.center_lat;
  metadata.center_zoom = tileset.center_zoom;
  if (format == tile_format::mvt) {
    auto map = load_style(tileset.style);
    apply_shapefile_encodings(*map);
    metadata.json = nlohmann::json{{"vector_layers", vector_layers_json(settings, tileset, *map)}}.dump();
  }
  return metadata;
}

void print_export_summary(const cache_export_options& options, const tileset_settings& tileset,
                          const mbtiles_export_result& result) {
  fmt::print("exported {} {} tiles of tileset {} at zooms {} to {} ({:.1f} MiB) to {}; skipped {} stale and {} "
             "empty tiles\n",
             result.tiles_written, options.format, tileset.name, result.minzoom, result.maxzoom,
             result.bytes_written / bytes_per_mib, options.mbtiles.string(), result.stale_skipped,
             result.empty_skipped);
}

}  // namespace

int run_cache_stats(const cache_stats_options& options) {
  log_to_stderr(options.log_level);
  const config settings = load_command_config(options.config_file, options.cache_path);
  setup_mapnik(default_font_directories());
  const auto versions = current_data_versions(settings);

  tile_store store(store_options_of(settings.cache));
  const cache_groups groups = count_entries(store, versions);
  const tile_store_stats stats = store.stats();
  if (options.json) {
    print_stats_json(groups, stats, settings);
  } else {
    print_stats_table(groups, stats, settings);
  }
  return 0;
}

int run_cache_export(const cache_export_options& options) {
  log_to_stderr(options.log_level);
  config settings = load_command_config(options.config_file, options.cache_path);
  tileset_option(settings, options.tileset);  // lists every tileset in its error, so it runs before the next line
  keep_only_tileset(settings, options.tileset);
  const tileset_settings& tileset = settings.tilesets.at(options.tileset);
  const tile_format format = format_option(tileset, options.format, options.scale);
  setup_mapnik(default_font_directories());

  mbtiles_export_request request;
  request.tileset = tileset.name;
  request.format = format;
  request.scale = static_cast<std::uint8_t>(options.scale);
  request.data_version = current_data_versions(settings).at(tileset.name);
  request.output = options.mbtiles;
  request.metadata = metadata_of(settings, tileset, format);

  tile_store store(store_options_of(settings.cache));
  const mbtiles_export_result result = export_mbtiles(store, request);
  if (result.tiles_written == 0) {
    fmt::print(stderr,
               "tuilerie: no fresh {} tile of tileset {} in the cache {} ({} stale, {} empty); seed them with "
               "`tuilerie seed` first; {} was not written\n",
               options.format, tileset.name, settings.cache.path.string(), result.stale_skipped,
               result.empty_skipped, options.mbtiles.string());
    return 1;
  }
  print_export_summary(options, tileset, result);
  return 0;
}

}  // namespace tuilerie
