// Items requests of OGC API - Features: their parameters, and reading one
// page of features (or one feature) from a collection.
#pragma once

#include "server/config.hpp"
#include "server/features/collection_source.hpp"
#include "server/features/item_parameters.hpp"
#include "server/features/query_string.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tuilerie {

// ?name=value on a queryable property: features whose value equals it.
struct property_filter {
  std::string name;
  std::string value;
};

struct items_request {
  std::optional<std::array<double, 4>> bbox;  // in the axis order of bbox_crs
  crs_reference bbox_crs;
  std::optional<time_interval> datetime;
  std::vector<property_filter> properties;
  unsigned limit = 10;
  std::uint64_t offset = 0;  // matching features skipped before the page
};

// Reads the items parameters: f, bbox, bbox-crs, limit, offset, datetime and
// the collection's queryables. Throws api_error (400) for an unknown or
// repeated parameter and for any invalid value.
items_request parse_items_request(const query_parameters& parameters, const collection_settings& collection,
                                  const ogc_settings& ogc);

struct items_page {
  std::vector<std::string> features;  // GeoJSON Feature texts
  // Features matching the filters, given only when GDAL counts them without
  // reading them all: no datetime filter, and a driver with a fast count or
  // a GeoPackage, whose count is one SQL query.
  std::optional<std::int64_t> number_matched;
  bool has_next = false;  // whether more features follow this page
};

// Reads one page of an items request. Throws api_error: 400 for a bbox-crs
// that PROJ does not know or a property value of the wrong type, 503 when
// the read runs past its time limit.
items_page read_items(open_collection& collection, const items_request& request, int coordinate_precision);

// The feature with this id as GeoJSON text, or nullopt when there is none.
std::optional<std::string> read_item(open_collection& collection, std::int64_t feature_id,
                                     int coordinate_precision);

}  // namespace tuilerie
