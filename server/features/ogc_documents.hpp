// The JSON documents of OGC API - Features: landing page, conformance,
// collections, and the envelopes of feature pages and single features.
#pragma once

#include "server/config.hpp"
#include "server/features/collection_source.hpp"
#include "server/features/items_query.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace tuilerie {

inline constexpr std::string_view geojson_media_type = "application/geo+json";
inline constexpr std::string_view openapi_media_type = "application/vnd.oai.openapi+json;version=3.0";

// The location of the API: base_url is the scheme and authority the client
// used ("http://127.0.0.1:8080"), and base_path is ogc.base_path ("/ogc").
struct api_location {
  std::string base_url;
  std::string base_path;

  // The absolute URL of a path under the base path ("/collections").
  std::string url(std::string_view path = "") const { return base_url + base_path + std::string(path); }
};

// A link object; every link carries rel and type.
nlohmann::ordered_json make_link(const std::string& href, std::string_view rel, std::string_view type,
                                 const std::string& title = "");

nlohmann::ordered_json landing_page(const config& settings, const api_location& location);

// The conformance classes of OGC API - Features Part 1 (core, GeoJSON,
// OpenAPI 3.0) and OGC API - Tiles Part 1 that the server implements.
nlohmann::ordered_json conformance_document(const api_location& location);

nlohmann::ordered_json collection_document(const collection_description& collection,
                                           const api_location& location);

nlohmann::ordered_json collections_document(const std::vector<collection_description>& collections,
                                            const api_location& location);

// The GeoJSON FeatureCollection of one page, with numberReturned always,
// numberMatched when the page has it, and self, collection, next and prev
// links. `query` is the request's own query string, kept in every link.
std::string items_document(const items_page& page, const collection_description& collection,
                           const items_request& request, const query_parameters& query,
                           const api_location& location);

// A GeoJSON Feature text with its self and collection links added.
std::string item_document(std::string feature, const collection_description& collection,
                          std::int64_t feature_id, const api_location& location);

}  // namespace tuilerie
