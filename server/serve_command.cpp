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
#include "server/router.hpp"
#include "server/site.hpp"
#include "server/tile_service.hpp"
#include "server/tileset_versions.hpp"
#include "server/vector_layers.hpp"
#include "tilecache/tile_store.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <mapnik/map.hpp>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>
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

}  // namespace

int run_serve(const serve_options& options) {
  spdlog::set_level(spdlog::level::from_str(options.log_level));
  config settings = load_config(options.config_file);
  apply_overrides(settings, options);
  setup_mapnik(default_font_directories());
  const auto vector_layers = check_styles(settings);

  // Declared first so that it outlives everything that posts work to it:
  // feature and render workers may still complete after the drain deadline.
  boost::asio::io_context io(static_cast<int>(settings.server.io_threads));
  style_registry styles(style_files_of(settings));
  tileset_versions versions(settings, styles);
  versions.start_watching();
  tile_store store(store_options_of(settings.cache));
  render_pool pool(styles, {settings.server.render_threads, settings.server.limits.render_queue});
  metrics counters;
  tile_service tiles(settings, store, pool, versions, counters);
  const site_content site(settings);
  feature_api features(settings);
  server_state state{settings, tiles, store, pool, counters, site, vector_layers, features, io};

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

