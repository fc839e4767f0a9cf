// OGC API - Features, point queries and WMTS: the routes that are not tiles.
#pragma once

#include "server/config.hpp"
#include "server/http.hpp"

#include <functional>
#include <memory>
#include <string>
#include <variant>

namespace tuilerie {

// Serves /ogc/... (OGC API - Features and Tiles), /query (point queries) and
// /wmts/... (WMTS 1.0.0). Feature reads go through GDAL/OGR on worker
// threads of its own, never on the HTTP I/O threads.
class feature_api {
 public:
  using send_function = std::function<void(http_response)>;

  // Opens every configured collection with GDAL. Throws config_error naming
  // the collection and the file when one cannot be opened.
  explicit feature_api(const config& settings);
  ~feature_api();
  feature_api(const feature_api&) = delete;
  feature_api& operator=(const feature_api&) = delete;

  // Whether the path belongs to this API: ogc.base_path and below (the
  // base path of the most recently constructed feature_api, "/ogc" before
  // one exists), /query, /wmts and below.
  static bool handles(const std::string& path);

  // Answers a GET or HEAD request whose path handles() accepted. base_url is
  // the scheme and authority the client used (for example
  // "http://127.0.0.1:8080"), for absolute links. Calls send exactly once,
  // from any thread; the caller adds CORS headers and finishes HEAD.
  void handle(const http_request& request, const std::string& base_url, send_function send);

  // Checks a WMTS KVP GetTile request (/wmts?SERVICE=WMTS&REQUEST=GetTile&...)
  // and returns the tile path under /tiles/ ("{tileset}/{z}/{x}/{y}.{ext}")
  // for the tile handler, or the OWS ExceptionReport to send. Parameter names
  // are compared ignoring case, as OWS requires. The layer, its formats and
  // its zoom range are checked against the tilesets of the most recently
  // constructed feature_api. Before one exists, only the tile grid is checked.
  static std::variant<std::string, http_response> wmts_get_tile(const http_request& request);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace tuilerie
