// Routes HTTP requests to Tuilerie's handlers.
#pragma once

#include "server/config.hpp"
#include "server/feature_api.hpp"
#include "server/http.hpp"
#include "server/metrics.hpp"
#include "server/site.hpp"
#include "server/tile_service.hpp"

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include <map>
#include <string>

namespace tuilerie {

class render_pool;

// Everything the handlers read; owned by main and alive while serving.
struct server_state {
  const config& settings;
  tile_service& tiles;
  tile_store& store;
  render_pool& pool;
  metrics& counters;
  const site_content& site;
  // TileJSON vector_layers per tileset, described once at start-up.
  std::map<std::string, nlohmann::json> vector_layers;
  feature_api& features;
  // Runs the render timeout timers; the HTTP server's io_context.
  boost::asio::io_context& io;
};

// Answers one request through `respond`, exactly once. Routes (GET and HEAD):
//   /                                  the viewer
//   /catalog                           the tilesets, as JSON
//   /tiles/{tileset}.json              TileJSON 3.0.0 (?format=png|webp|mvt, ?scale=2)
//   /tiles/{tileset}/{z}/{x}/{y}[@2x].{png|webp|mvt|pbf}
//   /legends/{tileset}.json, /styles/{tileset}.json, /web/...
//   /health, /metrics
//   /ogc/..., /query, /wmts/...        through feature_api
// OPTIONS answers CORS preflights; other methods get 405.
void route_request(server_state& state, http_request&& request, responder respond);

}  // namespace tuilerie
