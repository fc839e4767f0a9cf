// The tuilerie command line: one binary with a subcommand per task.
#include "render/mapnik_setup.hpp"
#include "server/cache_command.hpp"
#include "server/config.hpp"
#include "server/purge_command.hpp"
#include "server/seed_command.hpp"
#include "server/serve_command.hpp"
#include "tilecache/tile_store.hpp"

#include <CLI/CLI.hpp>

#include <csignal>
#include <iostream>

namespace {

void add_serve_command(CLI::App& app, tuilerie::serve_options& serve) {
  auto* command = app.add_subcommand("serve", "Serve tiles over HTTP.");
  command->add_option("--config,-c", serve.config_file, "YAML configuration file")->required();
  command->add_option("--listen", serve.listen, "HOST:PORT to listen on, overriding server.listen");
  command->add_option("--cache", serve.cache_path, "LMDB cache directory, overriding cache.path");
  command->add_option("--log-level", serve.log_level, "trace, debug, info, warn, error or off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
}

// The options that seed, purge and the cache commands share.
void add_cache_options(CLI::App* command, std::filesystem::path& config_file, std::filesystem::path& cache_path,
                       std::string& log_level) {
  command->add_option("--config,-c", config_file, "YAML configuration file")->required();
  command->add_option("--cache", cache_path, "LMDB cache directory, overriding cache.path");
  command->add_option("--log-level", log_level, "trace, debug, info, warn (the default), error or off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
}

void add_seed_command(CLI::App& app, tuilerie::seed_options& seed) {
  auto* command = app.add_subcommand(
      "seed", "Render and cache the tiles of an area ahead of requests; an interrupted seed resumes.");
  add_cache_options(command, seed.config_file, seed.cache_path, seed.log_level);
  command->add_option("--tileset", seed.tileset, "Tileset to seed")->required();
  command->add_option("--bbox", seed.bbox, "Area as minlon,minlat,maxlon,maxlat in degrees; the tileset's bounds "
                                           "by default");
  command->add_option("--zoom", seed.zoom, "Zoom levels as MIN-MAX (or Z), clamped to the tileset's range")
      ->required();
  command->add_option("--format", seed.format, "png (the default), webp or mvt");
  command->add_option("--scale", seed.scale, "1 for 256 px tiles (the default), 2 for 512 px @2x tiles");
  command->add_option("--threads", seed.threads, "Render threads; server.render_threads by default")
      ->check(CLI::Range(1u, 256u));
}

void add_purge_command(CLI::App& app, tuilerie::purge_options& purge) {
  auto* command =
      app.add_subcommand("purge", "Delete a tileset's cached tiles, in every format and scale, by area and zoom.");
  add_cache_options(command, purge.config_file, purge.cache_path, purge.log_level);
  command->add_option("--tileset", purge.tileset, "Tileset to purge")->required();
  command->add_option("--bbox", purge.bbox, "Area as minlon,minlat,maxlon,maxlat in degrees; everything by default");
  command->add_option("--zoom", purge.zoom, "Zoom levels as MIN-MAX (or Z); all by default");
}

void add_cache_commands(CLI::App& app, tuilerie::cache_stats_options& stats,
                        tuilerie::cache_export_options& export_options) {
  auto* cache = app.add_subcommand("cache", "Inspect or export the tile cache.");
  cache->require_subcommand(1);

  auto* stats_command = cache->add_subcommand("stats", "Count cached entries and bytes per tileset, format, scale "
                                                       "and zoom.");
  add_cache_options(stats_command, stats.config_file, stats.cache_path, stats.log_level);
  stats_command->add_flag("--json", stats.json, "Print JSON instead of a table");

  auto* export_command =
      cache->add_subcommand("export", "Write a tileset's fresh cached tiles to an MBTiles file.");
  add_cache_options(export_command, export_options.config_file, export_options.cache_path, export_options.log_level);
  export_command->add_option("--tileset", export_options.tileset, "Tileset to export")->required();
  export_command->add_option("--mbtiles", export_options.mbtiles, "MBTiles file to write; an existing file is replaced")
      ->required();
  export_command->add_option("--format", export_options.format, "png (the default), webp or mvt");
  export_command->add_option("--scale", export_options.scale, "1 for 256 px tiles (the default), 2 for 512 px @2x tiles");
}

// Runs the chosen command, mapping start-up errors to exit status 2.
template <class Command>
int run_reporting_errors(Command command) {
  try {
    return command();
  } catch (const tuilerie::config_error& error) {
    std::cerr << "tuilerie: invalid configuration: " << error.what() << "\n";
  } catch (const tuilerie::style_error& error) {
    std::cerr << "tuilerie: invalid style: " << error.what() << "\n";
  } catch (const tuilerie::cache_error& error) {
    std::cerr << "tuilerie: cannot open the tile cache: " << error.what() << "\n";
  } catch (const tuilerie::option_error& error) {
    std::cerr << "tuilerie: " << error.what() << "\n";
  } catch (const std::exception& error) {
    std::cerr << "tuilerie: " << error.what() << "\n";
    return 1;
  }
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  // A client that closes early must not kill the server with SIGPIPE.
  std::signal(SIGPIPE, SIG_IGN);

  CLI::App app{"Tuilerie: raster and vector map tiles from Mapnik styles, with an LMDB cache."};
  app.require_subcommand(1);
  tuilerie::serve_options serve;
  add_serve_command(app, serve);
  tuilerie::seed_options seed;
  add_seed_command(app, seed);
  tuilerie::purge_options purge;
  add_purge_command(app, purge);
  tuilerie::cache_stats_options stats;
  tuilerie::cache_export_options export_options;
  add_cache_commands(app, stats, export_options);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    // --help exits 0, and a missing or invalid option exits 2, like a bad
    // value found later.
    return app.exit(error) == 0 ? 0 : 2;
  }

  if (app.got_subcommand("serve")) return run_reporting_errors([&] { return tuilerie::run_serve(serve); });
  if (app.got_subcommand("seed")) return run_reporting_errors([&] { return tuilerie::run_seed(seed); });
  if (app.got_subcommand("purge")) return run_reporting_errors([&] { return tuilerie::run_purge(purge); });
  const auto* cache = app.get_subcommand("cache");
  if (cache->got_subcommand("stats")) return run_reporting_errors([&] { return tuilerie::run_cache_stats(stats); });
  if (cache->got_subcommand("export")) {
    return run_reporting_errors([&] { return tuilerie::run_cache_export(export_options); });
  }
  return 0;
}
