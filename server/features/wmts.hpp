// WMTS 1.0.0: the capabilities document, KVP GetTile and GetCapabilities
// validation, and OWS 1.1 exception reports.
#pragma once

#include "server/config.hpp"
#include "server/features/query_string.hpp"
#include "server/http.hpp"

#include <boost/beast/http/status.hpp>

#include <map>
#include <optional>
#include <string>
#include <variant>

namespace tuilerie {

// The tile matrix set of every WMTS layer: Web Mercator quad tiles of 256
// pixels, the well-known scale set GoogleMapsCompatible.
inline constexpr std::string_view wmts_tile_matrix_set = "GoogleMapsCompatible";

// One exception of an OWS 1.1 ExceptionReport.
struct ows_exception {
  std::string code;     // MissingParameterValue, InvalidParameterValue, TileOutOfRange, ...
  std::string locator;  // the parameter at fault, as named in WMTS (LAYER, TILEROW, ...)
  std::string text;
  boost::beast::http::status status = boost::beast::http::status::bad_request;
};

// The ExceptionReport as an XML response with the exception's status.
http_response ows_exception_response(const ows_exception& exception);

// The capabilities document (RESTful and KVP) for the raster tilesets, with
// tile URL templates on the /tiles route under base_url.
std::string wmts_capabilities(const config& settings, const std::string& base_url);

// Checks the KVP parameters of GetTile (names compared ignoring case, as OWS
// requires) and returns the tile path under /tiles/, "{tileset}/{z}/{x}/{y}.{ext}",
// or the exception to send. With `tilesets`, the layer, its formats and its
// zoom range are checked too; without, only the tile grid is.
// HTTP statuses follow WMTS 1.0.0 (OGC 07-057r7): 400 for
// MissingParameterValue, InvalidParameterValue and TileOutOfRange, 501 for
// OperationNotSupported.
std::variant<std::string, ows_exception> parse_get_tile(
    const query_parameters& parameters, const std::map<std::string, tileset_settings>* tilesets);

// Checks the KVP parameters of GetCapabilities; nullopt when they are valid.
std::optional<ows_exception> check_get_capabilities(const query_parameters& parameters);

}  // namespace tuilerie
