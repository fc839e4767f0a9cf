// Request dispatch and the handlers of Tuilerie's routes.
#include "server/router.hpp"

#include "render/gzip.hpp"
#include "render/render_pool.hpp"
#include "server/responses.hpp"
#include "server/seed_command.hpp"
#include "server/tilejson.hpp"

#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <memory>
#include <mutex>

namespace tuilerie {

namespace http = boost::beast::http;

namespace {

constexpr const char* default_tile_cache_control = "public, max-age=600";
constexpr const char* metadata_cache_control = "public, max-age=60";

struct request_context {
  server_state& state;
  http_request request;
  responder respond;
  std::string route = "other";
  std::string tileset;  // a configured tileset name, or empty

  // Adds the headers every response carries, counts it and sends it.
  void send(http_response response) {
    if (request.method() != http::verb::options) {
      add_cors_headers(response, request, state.settings.server.cors_origins);
    }
    finish_response(response, request);
    state.counters.count_request(route, tileset, response.result_int());
    respond(std::move(response));
  }
};

using context_ptr = std::shared_ptr<request_context>;

std::string_view path_of(std::string_view target) { return target.substr(0, target.find('?')); }

std::string_view query_of(std::string_view target) {
  const auto question = target.find('?');
  return question == std::string_view::npos ? std::string_view{} : target.substr(question + 1);
}

// The value of a query parameter, or nullopt when absent. Values are taken
// as they are: the parameters read here never need percent-decoding.
std::optional<std::string_view> query_parameter(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto item = query.substr(0, amp);
    const auto equals = item.find('=');
    if (item.substr(0, equals) == name) {
      return equals == std::string_view::npos ? std::string_view{} : item.substr(equals + 1);
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

bool is_safe_host(std::string_view host) {
  return !host.empty() && host.size() <= 255 && std::all_of(host.begin(), host.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
           c == ':' || c == '[' || c == ']';
  });
}

// The URL prefix clients used to reach the server, for absolute URLs in
// TileJSON and styles. Falls back to the listen address for a missing or
// malformed Host header.
std::string base_url(const request_context& context) {
  const auto host = context.request[http::field::host];
  if (is_safe_host(host)) return "http://" + std::string(host);
  const auto& listen = context.state.settings.server.listen;
  return "http://" + listen.host + ":" + std::to_string(listen.port);
}

const tileset_settings* find_tileset(const config& settings, std::string_view name) {
  const auto found = settings.tilesets.find(std::string(name));
  return found == settings.tilesets.end() ? nullptr : &found->second;
}

std::string cache_control_for(const tileset_settings& tileset, int z) {
  for (const auto& rule : tileset.cache_control) {
    if (z >= rule.minzoom && z <= rule.maxzoom) return rule.value;
  }
  return default_tile_cache_control;
}

// Whether the client's validators show it already has this representation.
bool is_not_modified(const http_request& request, std::string_view etag, std::int64_t last_modified) {
  const auto if_none_match = request[http::field::if_none_match];
  if (!if_none_match.empty()) return if_none_match_matches(if_none_match, etag);
  const auto if_modified_since = request[http::field::if_modified_since];
  if (if_modified_since.empty()) return false;
  const auto since = parse_http_date(if_modified_since);
  return since && last_modified <= *since;
}

http_response not_modified(const std::string& etag, const std::string& cache_control) {
  http_response response{http::status::not_modified, 11};
  response.set(http::field::etag, etag);
  response.set(http::field::cache_control, cache_control);
  return response;
}

http_response tile_response(const request_context& context, const tile_request& tile, const cached_tile& cached) {
  const tileset_settings& tileset = context.state.settings.tilesets.at(tile.tileset);
  const std::string cache_control = cache_control_for(tileset, tile.tile.z);
  const bool vector = tile.format == tile_format::mvt;
  const bool send_gzip = vector && accepts_gzip(context.request[http::field::accept_encoding]);
  const std::string etag = format_etag(cached.etag, vector && !send_gzip ? "-identity" : "");

  http_response response{http::status::ok, 11};
  if (is_not_modified(context.request, etag, cached.created_unix)) {
    response = not_modified(etag, cache_control);
  } else if (cached.body.empty()) {
    response.result(http::status::no_content);
  } else {
    response.set(http::field::content_type, content_type_of(tile.format));
    response.body() = send_gzip || !vector ? cached.body : gzip_decompress(cached.body);
    if (send_gzip) response.set(http::field::content_encoding, "gzip");
  }
  if (vector) response.set(http::field::vary, "Accept-Encoding");
  response.set(http::field::etag, etag);
  response.set(http::field::cache_control, cache_control);
  response.set(http::field::last_modified, format_http_date(cached.created_unix));
  return response;
}

void send_tile_result(const context_ptr& context, const tile_request& tile, const tile_result& result) {
  switch (result.outcome) {
    case tile_result::status::ok:
      return context->send(tile_response(*context, tile, *result.tile));
    case tile_result::status::overloaded: {
      auto response = json_error(http::status::service_unavailable, "the server is busy rendering; retry shortly");
      response.set(http::field::retry_after, "1");
      return context->send(std::move(response));
    }
    case tile_result::status::unavailable: {
      auto response = json_error(http::status::service_unavailable,
                                 "this tileset's data is unavailable at the moment; retry later");
      response.set(http::field::retry_after, "30");
      return context->send(std::move(response));
    }
    case tile_result::status::failed:
      return context->send(
          json_error(http::status::internal_server_error, "rendering this tile failed; the server log has details"));
  }
}

// Sends the tile, or a 504 when the render takes longer than
// server.limits.render_timeout_seconds, whichever comes first.
void answer_tile_once(const context_ptr& context, const tile_request& tile) {
  struct pending_answer {
    std::mutex mutex;
    bool answered = false;
    std::unique_ptr<boost::asio::steady_timer> timer;
  };
  auto pending = std::make_shared<pending_answer>();
  context->state.tiles.get_tile(tile, [context, tile, pending](tile_result result) {
    {
      const std::lock_guard lock(pending->mutex);
      if (pending->answered) return;
      pending->answered = true;
      if (pending->timer) pending->timer->cancel();
    }
    send_tile_result(context, tile, result);
  });

  const std::lock_guard arming(pending->mutex);
  if (pending->answered) return;  // a cache hit, already sent
  pending->timer = std::make_unique<boost::asio::steady_timer>(
      context->state.io, std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(
                             context->state.settings.server.limits.render_timeout_seconds)));
  pending->timer->async_wait([context, tile, pending](const boost::system::error_code& error) {
    if (error) return;
    {
      const std::lock_guard lock(pending->mutex);
      if (pending->answered) return;
      pending->answered = true;
    }
    // NOTE: Mapnik cannot cancel a render, so the render thread stays busy
    // until it returns; its tiles are still cached for the next request.
    spdlog::warn("render timed out after {} s: tileset {} tile {}/{}/{}",
                 context->state.settings.server.limits.render_timeout_seconds, tile.tileset, tile.tile.z, tile.tile.x,
                 tile.tile.y);
    context->send(json_error(http::status::gateway_timeout, "rendering this tile took too long; retry later"));
  });
}

void handle_tile(const context_ptr& context, std::string_view path) {
  context->route = "tile";
  const auto parsed = parse_tile_path(path);
  if (const auto* error = std::get_if<tile_path_error>(&parsed)) {
    const auto status = error->reason == tile_path_error::kind::outside_grid ? http::status::not_found
                                                                             : http::status::bad_request;
    return context->send(json_error(status, error->message));
  }
  const auto& tile = std::get<tile_request>(parsed);
  const tileset_settings* tileset = find_tileset(context->state.settings, tile.tileset);
  if (!tileset) return context->send(json_error(http::status::not_found, "unknown tileset; see /catalog"));
  context->tileset = tileset->name;
  if (!tileset->serves(tile.format)) {
    return context->send(json_error(http::status::not_found, "this tileset does not serve that format; see /catalog"));
  }
  if (!tileset->serves_zoom(tile.tile.z)) {
    return context->send(json_error(http::status::not_found,
                                    "zoom outside the tileset's range " + std::to_string(tileset->minzoom) + "-" +
                                        std::to_string(tileset->maxzoom)));
  }
  answer_tile_once(context, tile);
}

void handle_tilejson(const context_ptr& context, std::string_view name) {
  context->route = "tilejson";
  const tileset_settings* tileset = find_tileset(context->state.settings, name);
  if (!tileset) return context->send(json_error(http::status::not_found, "unknown tileset; see /catalog"));
  context->tileset = tileset->name;

  const auto query = query_of(context->request.target());
  tile_format format = tileset->formats.front();
  if (const auto requested = query_parameter(query, "format")) {
    const auto parsed = parse_tile_format(*requested);
    if (!parsed || !tileset->serves(*parsed)) {
      return context->send(json_error(http::status::bad_request, "format must be one this tileset serves; see /catalog"));
    }
    format = *parsed;
  }
  std::uint8_t scale = 1;
  if (const auto requested = query_parameter(query, "scale")) {
    if (*requested != "1" && *requested != "2") {
      return context->send(json_error(http::status::bad_request, "scale must be 1 or 2"));
    }
    scale = *requested == "2" && is_raster(format) ? 2 : 1;
  }
  const auto& layers = context->state.vector_layers;
  const auto found = layers.find(tileset->name);
  const auto document = make_tilejson(*tileset, format, scale, base_url(*context),
                                      found == layers.end() ? nlohmann::json::array() : found->second);
  auto response = json_response(http::status::ok, document.dump());
  response.set(http::field::cache_control, metadata_cache_control);
  context->send(std::move(response));
}

void handle_catalog(const context_ptr& context) {
  context->route = "catalog";
  auto response = json_response(http::status::ok, make_catalog(context->state.settings, base_url(*context)).dump());
  response.set(http::field::cache_control, metadata_cache_control);
  context->send(std::move(response));
}

void handle_health(const context_ptr& context) {
  context->route = "health";
  const auto stats = context->state.store.stats();
  const bool writable = context->state.tiles.cache_writable();
  const bool fallback = context->state.counters.cache_fallback;
  const bool healthy = writable && !fallback;
  nlohmann::json body{
      {"status", healthy ? "ok" : "degraded"},
      {"cache",
       {{"status", healthy ? "ok" : "degraded"},
        {"writable", writable},
        {"temporary", fallback},
        {"entries", stats.entries},
        {"map_size_bytes", stats.map_size_bytes}}},
      {"render_pool",
       {{"status", "ok"},
        {"threads", context->state.pool.threads()},
        {"busy", context->state.pool.busy()},
        {"queued", context->state.pool.queued()}}},
  };
  auto response = json_response(http::status::ok, body.dump());
  response.set(http::field::cache_control, "no-store");
  context->send(std::move(response));
}

void handle_metrics(const context_ptr& context) {
  context->route = "metrics";
  std::string text;
  context->state.counters.write_prometheus(text);
  const auto stats = context->state.store.stats();
  text += fmt::format(
      "# HELP tuilerie_cache_entries Tiles in the LMDB cache.\n# TYPE tuilerie_cache_entries gauge\n"
      "tuilerie_cache_entries {}\n"
      "# HELP tuilerie_cache_map_size_bytes Current LMDB map size.\n# TYPE tuilerie_cache_map_size_bytes gauge\n"
      "tuilerie_cache_map_size_bytes {}\n"
      "# HELP tuilerie_cache_used_bytes LMDB pages in use.\n# TYPE tuilerie_cache_used_bytes gauge\n"
      "tuilerie_cache_used_bytes {}\n"
      "# HELP tuilerie_cache_evictions_total Entries evicted to make room.\n"
      "# TYPE tuilerie_cache_evictions_total counter\ntuilerie_cache_evictions_total {}\n"
      "# HELP tuilerie_render_queue_length Jobs waiting for a render thread.\n"
      "# TYPE tuilerie_render_queue_length gauge\ntuilerie_render_queue_length {}\n",
      stats.entries, stats.map_size_bytes, stats.used_bytes, stats.evictions, context->state.pool.queued());
  auto response = json_response(http::status::ok, std::move(text), "text/plain; version=0.0.4; charset=utf-8");
  response.set(http::field::cache_control, "no-store");
  context->send(std::move(response));
}

void handle_static(const context_ptr& context, const std::string& path) {
  context->route = "static";
  const static_file* file = context->state.site.find(path);
  if (!file) return context->send(json_error(http::status::not_found, "not found; the viewer is at /"));
  std::string body = file->body;
  if (file->has_base_url_placeholder) {
    const std::string base = base_url(*context);
    for (auto at = body.find("{base_url}"); at != std::string::npos; at = body.find("{base_url}", at + base.size())) {
      body.replace(at, 10, base);
    }
  }
  const std::string etag = format_etag(hash_tile_body(body));
  http_response response{http::status::ok, 11};
  if (if_none_match_matches(context->request[http::field::if_none_match], etag)) {
    response.result(http::status::not_modified);
  } else {
    response.set(http::field::content_type, file->content_type);
    response.body() = std::move(body);
  }
  response.set(http::field::etag, etag);
  response.set(http::field::cache_control, file->cache_control);
  context->send(std::move(response));
}

// Compares in time independent of where equal-length strings differ, so the
// token cannot be guessed one character at a time from response times. Its
// length may leak, which is why the configuration requires 16 characters.
bool tokens_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char difference = 0;
  for (std::size_t i = 0; i < a.size(); ++i) difference |= static_cast<unsigned char>(a[i] ^ b[i]);
  return difference == 0;
}

// POST /admin/purge?tileset=NAME[&bbox=minlon,minlat,maxlon,maxlat][&zoom=A-B]
// deletes cached tiles; it needs "Authorization: Bearer <server.admin_token>".
void handle_admin_purge(const context_ptr& context) {
  context->route = "admin";
  const auto& token = context->state.settings.server.admin_token;
  if (token.empty()) {
    return context->send(json_error(http::status::not_found, "admin routes are disabled; set server.admin_token"));
  }
  const auto authorization = context->request[http::field::authorization];
  if (!authorization.starts_with("Bearer ") || !tokens_equal(authorization.substr(7), token)) {
    spdlog::warn("admin purge rejected: missing or wrong bearer token");
    auto response = json_error(http::status::unauthorized, "missing or wrong bearer token");
    response.set(http::field::www_authenticate, "Bearer realm=\"tuilerie-admin\"");
    return context->send(std::move(response));
  }

  const auto query = query_of(context->request.target());
  const auto name = query_parameter(query, "tileset");
  const tileset_settings* tileset = name ? find_tileset(context->state.settings, *name) : nullptr;
  if (!tileset) return context->send(json_error(http::status::bad_request, "tileset must name a configured tileset"));
  context->tileset = tileset->name;

  // The same grammar as the purge command's --bbox and --zoom options.
  std::optional<bbox> box;
  zoom_range zooms;
  try {
    if (const auto text = query_parameter(query, "bbox")) box = parse_bbox_option(std::string(*text));
    if (const auto text = query_parameter(query, "zoom")) zooms = parse_zoom_option(std::string(*text));
  } catch (const option_error& error) {
    // The message names the command-line option ("invalid --bbox ..."); here it is a parameter.
    std::string message = error.what();
    if (message.starts_with("invalid --")) message.erase(8, 2);
    return context->send(json_error(http::status::bad_request, message));
  }

  const auto deleted = context->state.store.purge(tileset->name, zooms.minzoom, zooms.maxzoom, box);
  spdlog::info("admin purge: tileset {} zooms {}-{}{}: {} tiles deleted", tileset->name, zooms.minzoom,
               zooms.maxzoom, box ? " in a box" : "", deleted);
  auto response = json_response(http::status::ok, nlohmann::json{{"tileset", tileset->name}, {"deleted", deleted}}.dump());
  response.set(http::field::cache_control, "no-store");
  context->send(std::move(response));
}

// Whether a WMTS KVP query is a GetTile request. OWS parameter names and the
// request value compare without case.
bool is_wmts_get_tile(std::string_view query) {
  auto lower = [](std::string_view text) {
    std::string result(text);
    std::transform(result.begin(), result.end(), result.begin(), [](unsigned char c) { return std::tolower(c); });
    return result;
  };
  const std::string lowered = lower(query);
  const auto value = query_parameter(lowered, "request");
  return value && *value == "gettile";
}

void dispatch(const context_ptr& context) {
  const std::string path(path_of(context->request.target()));
  if (path.starts_with("/tiles/")) {
    const std::string_view rest = std::string_view(path).substr(7);
    if (rest.ends_with(".json") && rest.find('/') == std::string_view::npos) {
      return handle_tilejson(context, rest.substr(0, rest.size() - 5));
    }
    return handle_tile(context, rest);
  }
  if (path == "/wmts" && is_wmts_get_tile(query_of(context->request.target()))) {
    auto tile_path = feature_api::wmts_get_tile(context->request);
    if (auto* exception = std::get_if<http_response>(&tile_path)) {
      context->route = "wmts";
      return context->send(std::move(*exception));
    }
    return handle_tile(context, std::get<std::string>(tile_path));
  }
  if (feature_api::handles(path)) {
    context->route = "features";
    return context->state.features.handle(context->request, base_url(*context),
                                          [context](http_response response) { context->send(std::move(response)); });
  }
  if (path == "/catalog") return handle_catalog(context);
  if (path == "/health") return handle_health(context);
  if (path == "/metrics") return handle_metrics(context);
  handle_static(context, path);
}

}  // namespace

void route_request(server_state& state, http_request&& request, responder respond) {
  auto context = std::make_shared<request_context>(state, std::move(request), std::move(respond));
  const auto target = context->request.target();
  if (target.empty() || target.front() != '/') {
    return context->send(json_error(http::status::bad_request, "the request target must be a path starting with /"));
  }
  switch (context->request.method()) {
    case http::verb::get:
    case http::verb::head:
      return dispatch(context);
    case http::verb::options:
      return context->send(preflight_response(context->request, state.settings.server.cors_origins));
    case http::verb::post:
      if (path_of(context->request.target()) == "/admin/purge") return handle_admin_purge(context);
      [[fallthrough]];
    default: {
      auto response = json_error(http::status::method_not_allowed, "only GET, HEAD and OPTIONS are allowed");
      response.set(http::field::allow, "GET, HEAD, OPTIONS");
      return context->send(std::move(response));
    }
  }
}

}  // namespace tuilerie
