// The feature API: routing of /ogc, /query and /wmts requests. Metadata is
// built on the calling thread; feature reads run on the API's worker threads.
#include "server/feature_api.hpp"

#include "server/features/api_error.hpp"
#include "server/features/collection_source.hpp"
#include "server/features/geojson_writer.hpp"
#include "server/features/items_query.hpp"
#include "server/features/ogc_documents.hpp"
#include "server/features/ogc_tiles.hpp"
#include "server/features/openapi.hpp"
#include "server/features/point_query.hpp"
#include "server/features/query_string.hpp"
#include "server/features/wmts.hpp"
#include "server/features/worker_pool.hpp"
#include "server/responses.hpp"

#include <spdlog/spdlog.h>

#include <charconv>
#include <map>
#include <mutex>

namespace tuilerie {

namespace http = boost::beast::http;

namespace {

// Requests waiting for a worker thread beyond this many get a 503, because a
// client that retries later is better served than one whose response comes
// after it gave up.
constexpr std::size_t max_queued_requests = 64;

constexpr const char* cache_control = "public, max-age=60";

// Routing state of the static members handles() and wmts_get_tile(), set by
// each feature_api constructor before the server starts.
struct static_routes {
  std::string base_path = "/ogc";
  std::shared_ptr<const std::map<std::string, tileset_settings>> tilesets;
};

std::mutex static_routes_mutex;
static_routes current_routes;

static_routes routes() {
  const std::lock_guard lock(static_routes_mutex);
  return current_routes;
}

std::string_view path_of(std::string_view target) { return target.substr(0, target.find('?')); }

std::string_view query_of(std::string_view target) {
  const auto question = target.find('?');
  return question == std::string_view::npos ? std::string_view{} : target.substr(question + 1);
}

// The path segments after a prefix, split on '/'.
std::vector<std::string_view> segments_of(std::string_view path) {
  std::vector<std::string_view> segments;
  while (!path.empty()) {
    if (path.front() == '/') path.remove_prefix(1);
    const auto slash = path.find('/');
    segments.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash);
  }
  // A trailing slash names the same resource: "/ogc/" is the landing page.
  if (!segments.empty() && segments.back().empty()) segments.pop_back();
  return segments;
}

http_response document_response(std::string body, std::string_view content_type = "application/json") {
  auto response = json_response(http::status::ok, std::move(body), content_type);
  response.set(http::field::cache_control, cache_control);
  return response;
}

http_response document_response(const nlohmann::ordered_json& document,
                                std::string_view content_type = "application/json") {
  return document_response(dump_json(document), content_type);
}

// Metadata resources take only f=json.
void check_metadata_query(const query_parameters& parameters) {
  parameters.check_names({"f"});
  if (const auto format = parameters.get("f"); format && *format != "json") {
    throw bad_request("f must be json; the server writes no other encoding");
  }
}

std::optional<std::int64_t> parse_feature_id(std::string_view text) {
  std::int64_t id = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (text.empty() || error != std::errc{} || end != text.data() + text.size() || id < 0) return std::nullopt;
  return id;
}

}  // namespace

struct feature_api::impl {
  // GDAL handles of one worker thread, opened on first use and used only by
  // that thread.
  struct worker_state {
    bool logs_gdal_errors = false;
    std::map<std::string, std::unique_ptr<open_collection>> collections;
  };

  config settings;
  std::vector<collection_description> collections;
  std::vector<worker_state> workers;
  worker_pool pool;  // last, so that it stops before the state its jobs use is destroyed

  explicit impl(const config& loaded)
      : settings(loaded),
        collections(describe_collections(settings)),
        workers(settings.ogc.threads),
        pool(settings.ogc.threads, max_queued_requests) {}

  const collection_description& find_collection(std::string_view id) const {
    for (const auto& collection : collections) {
      if (collection.settings.id == id) return collection;
    }
    throw not_found("no collection " + printable_name(id) + "; see " + settings.ogc.base_path +
                    "/collections");
  }

  const tileset_settings& find_tileset(std::string_view name) const {
    const auto found = settings.tilesets.find(std::string(name));
    if (found == settings.tilesets.end()) {
      throw not_found("no tileset " + printable_name(name) + "; see " + settings.ogc.base_path + "/tiles");
    }
    return found->second;
  }

  open_collection& open(std::size_t worker, const std::string& id) {
    auto& handle = workers[worker].collections[id];
    if (handle) return *handle;
    const auto& collection = find_collection(id);
    try {
      handle = std::make_unique<open_collection>(collection);
    } catch (const std::runtime_error& error) {
      if (!is_database_source(collection.settings)) throw;
      spdlog::warn("collection {}: {}", id, error.what());
      throw api_error(http::status::service_unavailable,
                      "the database of collection " + id + " is unavailable at the moment; retry later");
    }
    return *handle;
  }

  // Closes the worker's database handles, so that the next request opens a
  // new connection; returns whether it had any.
  bool close_database_collections(std::size_t worker) {
    bool closed = false;
    auto& handles = workers[worker].collections;
    for (auto handle = handles.begin(); handle != handles.end();) {
      if (handle->second && is_database_source(handle->second->description().settings)) {
        handle = handles.erase(handle);
        closed = true;
      } else {
        ++handle;
      }
    }
    return closed;
  }

  // Runs `work` on a worker thread and sends the response it returns, or the
  // error it throws. When the queue is full, a 503 is sent at once.
  void run_on_worker(send_function send, std::function<http_response(std::size_t)> work) {
    auto shared_send = std::make_shared<send_function>(std::move(send));
    const bool queued = pool.try_post([this, shared_send, work = std::move(work)](std::size_t worker) {
      if (!workers[worker].logs_gdal_errors) {
        log_gdal_errors_on_this_thread();
        workers[worker].logs_gdal_errors = true;
      }
      (*shared_send)(respond_with_fresh_connection_on_failure(work, worker));
    });
    if (!queued) {
      auto response =
          json_error(http::status::service_unavailable, "the server is busy reading features; retry shortly");
      response.set(http::field::retry_after, "1");
      (*shared_send)(std::move(response));
    }
  }

  // A read that made GDAL report errors on a database collection may be
  // incomplete, and an empty list in reply to "is my address in a flood zone"
  // would read as a "no". The worker's connection may only be one the database
  // closed while the worker was idle (a restart, an outage now over), so the
  // read is tried once more on a new connection before the 503.
  http_response respond_with_fresh_connection_on_failure(const std::function<http_response(std::size_t)>& work,
                                                         std::size_t worker) {
    for (int attempt = 1;; ++attempt) {
      const auto failures = gdal_failures_on_this_thread();
      auto response = respond_safely(work, worker);
      if (gdal_failures_on_this_thread() == failures || !close_database_collections(worker)) return response;
      if (attempt == 2) {
        spdlog::warn("feature read on worker {} failed twice on a database collection; responding 503", worker);
        response = json_error(http::status::service_unavailable,
                              "the database of a collection is unavailable at the moment; retry later");
        response.set(http::field::retry_after, "5");
        return response;
      }
    }
  }

  // The request boundary of worker jobs: client errors become their status,
  // anything else a logged 500.
  static http_response respond_safely(const std::function<http_response(std::size_t)>& work,
                                      std::size_t worker) {
    try {
      return work(worker);
    } catch (const api_error& error) {
      auto response = json_error(error.status(), error.what());
      if (error.status() == http::status::service_unavailable) response.set(http::field::retry_after, "5");
      return response;
    } catch (const std::exception& error) {
      spdlog::error("feature request failed: {}", error.what());
      return json_error(http::status::internal_server_error,
                        "reading features failed; the server log has details");
    }
  }

  void handle(const http_request& request, const std::string& base_url, send_function& send) {
    const std::string_view target = request.target();
    const std::string_view path = path_of(target);
    if (path == "/wmts" || path.starts_with("/wmts/"))
      return send(handle_wmts(path, query_of(target), base_url));
    const auto parameters = query_parameters::parse(query_of(target));
    if (path == "/query") return handle_point_query(parameters, send);
    if (!path.starts_with(settings.ogc.base_path)) throw not_found("no such resource");
    const api_location location{base_url, settings.ogc.base_path};
    const auto segments = segments_of(path.substr(settings.ogc.base_path.size()));
    handle_ogc(segments, parameters, location, send);
  }

  void handle_ogc(const std::vector<std::string_view>& segments, const query_parameters& parameters,
                  const api_location& location, send_function& send) {
    const std::size_t count = segments.size();
    const std::string_view first = count > 0 ? segments[0] : std::string_view{};
    if (first == "collections" && count >= 3 && segments[2] == "items") {
      return handle_items(segments, parameters, location, send);
    }
    check_metadata_query(parameters);
    send(metadata_response(segments, location));
  }

  http_response metadata_response(const std::vector<std::string_view>& segments,
                                  const api_location& location) const {
    const std::size_t count = segments.size();
    const std::string_view first = count > 0 ? segments[0] : std::string_view{};
    if (count == 0) return document_response(landing_page(settings, location));
    if (count == 1 && first == "conformance") return document_response(conformance_document(location));
    if (count == 1 && first == "api") {
      return document_response(openapi_document(settings, collections, location), openapi_media_type);
    }
    if (count == 1 && first == "collections")
      return document_response(collections_document(collections, location));
    if (count == 2 && first == "collections") {
      return document_response(collection_document(find_collection(segments[1]), location));
    }
    if (count == 1 && first == "tileMatrixSets")
      return document_response(tile_matrix_sets_document(location));
    if (count == 2 && first == "tileMatrixSets" && segments[1] == web_mercator_quad) {
      return document_response(web_mercator_quad_document(location));
    }
    if (count == 1 && first == "tiles") return document_response(tilesets_document(settings, location));
    if (count == 2 && first == "tiles") {
      return document_response(tileset_tile_matrix_sets_document(find_tileset(segments[1]), location));
    }
    if (count == 3 && first == "tiles" && segments[2] == web_mercator_quad) {
      return document_response(tileset_document(find_tileset(segments[1]), location));
    }
    throw not_found("no such resource; the landing page " + settings.ogc.base_path + " lists them");
  }

  void handle_items(const std::vector<std::string_view>& segments, const query_parameters& parameters,
                    const api_location& location, send_function& send) {
    const collection_description& collection = find_collection(segments[1]);
    const int precision = settings.ogc.coordinate_precision;
    if (segments.size() == 3) {
      auto request = parse_items_request(parameters, collection.settings, settings.ogc);
      return run_on_worker(
          std::move(send), [this, &collection, request, parameters, location, precision](std::size_t worker) {
            const auto page = read_items(open(worker, collection.settings.id), request, precision);
            return document_response(items_document(page, collection, request, parameters, location),
                                     geojson_media_type);
          });
    }
    if (segments.size() != 4) throw not_found("no such resource; features are at .../items/{featureId}");
    check_metadata_query(parameters);
    const auto feature_id = parse_feature_id(segments[3]);
    if (!feature_id) throw not_found("no such feature; feature ids are integers from 0");
    run_on_worker(
        std::move(send), [this, &collection, id = *feature_id, location, precision](std::size_t worker) {
          auto feature = read_item(open(worker, collection.settings.id), id, precision);
          if (!feature)
            throw not_found("no feature " + std::to_string(id) + " in collection " + collection.settings.id);
          return document_response(item_document(std::move(*feature), collection, id, location),
                                   geojson_media_type);
        });
  }

  void handle_point_query(const query_parameters& parameters, send_function& send) {
    auto request = parse_point_query(parameters, settings);
    const int precision = settings.ogc.coordinate_precision;
    run_on_worker(std::move(send), [this, request, precision](std::size_t worker) {
      auto open_in_worker = [this, worker](const std::string& id) -> open_collection& {
        return open(worker, id);
      };
      return document_response(run_point_query(request, open_in_worker, precision), geojson_media_type);
    });
  }

  http_response handle_wmts(std::string_view path, std::string_view query,
                            const std::string& base_url) const {
    if (path == "/wmts/1.0.0/WMTSCapabilities.xml") {
      return document_response(wmts_capabilities(settings, base_url), "application/xml; charset=utf-8");
    }
    if (path != "/wmts") throw not_found("no such WMTS resource; see /wmts/1.0.0/WMTSCapabilities.xml");
    query_parameters parameters;
    try {
      parameters = query_parameters::parse(query);
    } catch (const api_error& error) {
      return ows_exception_response({"NoApplicableCode", "", error.what(), http::status::bad_request});
    }
    const auto request = parameters.get_ignoring_case("REQUEST");
    if (!request) return ows_exception_response({"MissingParameterValue", "REQUEST", "REQUEST is missing"});
    if (*request == "GetCapabilities") {
      if (const auto error = check_get_capabilities(parameters)) return ows_exception_response(*error);
      return document_response(wmts_capabilities(settings, base_url), "application/xml; charset=utf-8");
    }
    if (*request == "GetTile") return redirect_get_tile(parameters, base_url);
    return ows_exception_response({"OperationNotSupported", "REQUEST",
                                   "REQUEST must be GetCapabilities or GetTile",
                                   http::status::not_implemented});
  }

  // The router normally serves KVP GetTile itself through wmts_get_tile();
  // a GetTile that reaches this API is redirected to the tile's URL.
  http_response redirect_get_tile(const query_parameters& parameters, const std::string& base_url) const {
    const auto result = parse_get_tile(parameters, &settings.tilesets);
    if (const auto* exception = std::get_if<ows_exception>(&result))
      return ows_exception_response(*exception);
    http_response response{http::status::found, 11};
    response.set(http::field::location, base_url + "/tiles/" + std::get<std::string>(result));
    return response;
  }
};

feature_api::feature_api(const config& settings) : impl_(std::make_unique<impl>(settings)) {
  {
    const std::lock_guard lock(static_routes_mutex);
    current_routes.base_path = settings.ogc.base_path;
    current_routes.tilesets =
        std::make_shared<const std::map<std::string, tileset_settings>>(settings.tilesets);
  }
  spdlog::info("feature API: {} collections under {}, {} worker threads", impl_->collections.size(),
               settings.ogc.base_path, settings.ogc.threads);
}

feature_api::~feature_api() = default;

bool feature_api::handles(const std::string& path) {
  if (path == "/query" || path == "/wmts" || path.starts_with("/wmts/")) return true;
  const std::string base_path = routes().base_path;
  return path == base_path || (path.starts_with(base_path) && path[base_path.size()] == '/');
}

void feature_api::handle(const http_request& request, const std::string& base_url, send_function send) {
  try {
    impl_->handle(request, base_url, send);
  } catch (const api_error& error) {
    send(json_error(error.status(), error.what()));
  }
}

std::variant<std::string, http_response> feature_api::wmts_get_tile(const http_request& request) {
  const auto current = routes();
  query_parameters parameters;
  try {
    parameters = query_parameters::parse(query_of(request.target()));
  } catch (const api_error& error) {
    return ows_exception_response({"NoApplicableCode", "", error.what(), http::status::bad_request});
  }
  auto result = parse_get_tile(parameters, current.tilesets.get());
  if (auto* exception = std::get_if<ows_exception>(&result)) return ows_exception_response(*exception);
  return std::get<std::string>(std::move(result));
}

}  // namespace tuilerie
