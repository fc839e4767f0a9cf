// The serve command: loads the configuration and styles, opens the cache and
// serves HTTP until SIGINT or SIGTERM; SIGHUP reloads styles and data.
#include "server/serve_command.hpp"

#include "server/seed_command.hpp"

#include "render/mapnik_setup.hpp"
#include "render/render_pool.hpp"
#include "render/shapefile_encoding.hpp"
#include "render/vector_tile_renderer.hpp"
#include "server/config.hpp"
#include "server/feature_api.hpp"
#include "server/http_server.hpp"
#include "server/postgis.hpp"
#include "server/router.hpp"
#include "server/site.hpp"
#include "server/tile_service.hpp"
#include "server/tileset_versions.hpp"
#include "server/vector_layers.hpp"
#include "tilecache/mercator_copies.hpp"
#include "tilecache/tile_store.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <mapnik/map.hpp>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>
#include <set>
#include <thread>

namespace tuilerie {

namespace {

// Loads each tileset's style once on this thread, so a broken style stops
// start-up with its file name instead of failing on the first request, and
// describes the vector layers for TileJSON.
std::map<std::string, nlohmann::json> check_styles(const config& settings) {
  std::map<std::string, nlohmann::json> vector_layers;
  for (const auto& [name, tileset] : settings.tilesets) {
    auto map = load_style(tileset.style);
    apply_shapefile_encodings(*map);
    if (tileset.serves(tile_format::mvt)) vector_layers[name] = vector_layers_json(settings, tileset, *map);
  }
  return vector_layers;
}

void apply_overrides(config& settings, const serve_options& options) {
  if (!options.listen.empty()) {
    try {
      settings.server.listen = parse_listen_address(options.listen);
    } catch (const std::invalid_argument& error) {
      throw config_error(settings.file, "--listen", 0, error.what());
    }
  }
  if (!options.cache_path.empty()) settings.cache.path = options.cache_path;
  if (const char* token = std::getenv("TUILERIE_ADMIN_TOKEN"); token != nullptr && *token != '\0') {
    settings.server.admin_token = token;
  }
}

connection_limits connection_limits_of(const server_limits& limits) {
  connection_limits connection;
  connection.max_connections = limits.max_connections;
  connection.header_bytes = limits.header_bytes;
  connection.request_timeout = std::chrono::seconds(limits.request_timeout_seconds);
  return connection;
}


// In-flight requests get this long to finish after SIGTERM; renders rarely
// take more than a second or two.
constexpr auto drain_deadline = std::chrono::seconds(10);

// Calls done once no request is in flight any more, or at the deadline.
void wait_for_drain(boost::asio::steady_timer& timer, const http_server& server,
                    std::chrono::steady_clock::time_point deadline, std::function<void()> done) {
  if (server.requests_in_flight() == 0 || std::chrono::steady_clock::now() >= deadline) {
    if (server.requests_in_flight() != 0) {
      spdlog::warn("stopping with {} requests still in flight after {} s", server.requests_in_flight(),
                   drain_deadline.count());
    }
    return done();
  }
  timer.expires_after(std::chrono::milliseconds(20));
  timer.async_wait([&timer, &server, deadline, done = std::move(done)](const boost::system::error_code& error) mutable {
    if (!error) wait_for_drain(timer, server, deadline, std::move(done));
  });
}

// A directory deleted with everything in it when this goes out of scope;
// nothing when the path stays empty.
struct removed_at_exit {
  std::filesystem::path path;
  removed_at_exit() = default;
  removed_at_exit(const removed_at_exit&) = delete;
  removed_at_exit& operator=(const removed_at_exit&) = delete;
  ~removed_at_exit() {
    std::error_code ignored;
    if (!path.empty()) std::filesystem::remove_all(path, ignored);
  }
};

// Opens the configured cache, or a temporary one deleted at exit when the
// configured one does not open (a read-only or full disk, a path under a
// file). Tiles are then still rendered and served, and /health and /metrics
// show the problem, which is logged once.
std::unique_ptr<tile_store> open_cache(const config& settings, metrics& counters, std::filesystem::path& temporary) {
  try {
    return std::make_unique<tile_store>(store_options_of(settings.cache));
  } catch (const cache_error& error) {
    std::string pattern = (std::filesystem::temp_directory_path() / "tuilerie-cache-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw;
    temporary = pattern;
    spdlog::error("{}; serving with a temporary cache in {} instead, deleted at exit: fix the cache path and "
                  "restart to keep tiles across restarts",
                  error.what(), temporary.string());
    auto options = store_options_of(settings.cache);
    options.path = temporary;
    counters.cache_fallback = true;
    return std::make_unique<tile_store>(options);
  }
}

// Purges the tiles that PostGIS edits touch, in this process's cache, when
// the configuration names a changes channel; returns null otherwise.
std::unique_ptr<postgis_change_listener> follow_postgis_edits(const config& settings, tile_store& store,
                                                              tile_service& tiles) {
  if (settings.postgis.changes_channel.empty()) return nullptr;
  auto on_change = [&settings, &store, &tiles](const std::vector<table_change>& changes) {
    std::set<std::string> tables;
    for (const auto& change : changes) {
      if (!tables.insert(change.table).second) continue;
      for (const auto& name : tilesets_reading(settings, change.table)) tiles.discard_renders_in_flight(name);
    }
    const auto deleted = purge_changed_tiles(settings, store, changes);
    spdlog::info("edits {} to {} of {}: {} cached tiles purged", changes.front().id, changes.back().id,
                 fmt::join(tables, ", "), deleted);
  };
  auto on_history_unknown = [&settings, &store, &tiles] {
    for (const auto& [name, tileset] : settings.tilesets) {
      if (tileset.postgis_tables.empty()) continue;
      tiles.discard_renders_in_flight(name);
      const auto deleted = store.purge(name, 0, max_zoom);
      spdlog::warn("no record of the PostGIS edits already applied to this cache; purged all {} tiles of tileset {}",
                   deleted, name);
    }
  };
  return std::make_unique<postgis_change_listener>(settings.postgis, settings.cache.path / "postgis-changes.last",
                                                   on_change, on_history_unknown);
}

}  // namespace

int run_serve(const serve_options& options) {
  spdlog::set_level(spdlog::level::from_str(options.log_level));
  config settings = load_config(options.config_file);
  apply_overrides(settings, options);
  apply_postgis_environment(settings.postgis);
  set_postgis_pool_size(settings.postgis.pool_size ? settings.postgis.pool_size : settings.server.render_threads);
  setup_mapnik(default_font_directories());
  const auto vector_layers = check_styles(settings);

  // Declared first so that it outlives everything that posts work to it:
  // feature and render workers may still complete after the drain deadline.
  boost::asio::io_context io(static_cast<int>(settings.server.io_threads));
  style_registry styles(style_files_of(settings));
  tileset_versions versions(settings, styles);
  versions.start_watching();
  metrics counters;
  // Declared before the store, so the store is closed when the directory goes.
  removed_at_exit temporary_cache;
  const auto opened_store = open_cache(settings, counters, temporary_cache.path);
  tile_store& store = *opened_store;
  const std::filesystem::path cache_directory =
      temporary_cache.path.empty() ? settings.cache.path : temporary_cache.path;
  mercator_copies copies(cache_directory / "mercator");
  render_pool pool(styles, {settings.server.render_threads, settings.server.limits.render_queue,
                            settings.cache.mercator_copies ? &copies : nullptr});
  tile_service tiles(settings, store, pool, versions, counters);
  const site_content site(settings);
  feature_api features(settings);
  server_state state{settings, tiles, store, pool, counters, site, vector_layers, features, io};
  const auto edits = follow_postgis_edits(settings, store, tiles);

  http_server server(
      io, settings.server.listen,
      [&state](http_request&& request, responder respond) {
        route_request(state, std::move(request), std::move(respond));
      },
      connection_limits_of(settings.server.limits));
  boost::asio::signal_set reload_signal(io, SIGHUP);
  boost::asio::signal_set stop_signals(io, SIGINT, SIGTERM);
  boost::asio::steady_timer drain_timer(io);
  stop_signals.async_wait([&](const boost::system::error_code& error, int signal) {
    if (error) return;
    spdlog::info("received signal {}; finishing {} requests in flight, then stopping", signal,
                 server.requests_in_flight());
    server.stop();
    reload_signal.cancel();
    wait_for_drain(drain_timer, server, std::chrono::steady_clock::now() + drain_deadline, [&io] { io.stop(); });
  });
  std::function<void()> wait_for_reload = [&] {
    reload_signal.async_wait([&](const boost::system::error_code& error, int) {
      if (error) return;
      spdlog::info("received SIGHUP; reloading styles and data");
      versions.reload_all();
      wait_for_reload();
    });
  };
  wait_for_reload();

  spdlog::info("serving {} tilesets from {} with {} I/O and {} render threads; cache at {}",
               settings.tilesets.size(), settings.file.string(), settings.server.io_threads,
               settings.server.render_threads, settings.cache.path.string());
  // Tests and scripts read the bound port from this line on standard output.
  std::printf("Tuilerie listening on http://%s:%u/\n", settings.server.listen.host.c_str(), server.port());
  std::fflush(stdout);

  std::vector<std::thread> io_threads;
  for (unsigned i = 1; i < settings.server.io_threads; ++i) io_threads.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& thread : io_threads) thread.join();
  pool.stop();
  spdlog::info("stopped");
  return 0;
}

}  // namespace tuilerie

