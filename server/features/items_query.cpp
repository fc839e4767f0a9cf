// Reading pages of features with OGR spatial and attribute filters.
#include "server/features/items_query.hpp"

#include "server/features/api_error.hpp"
#include "server/features/geojson_writer.hpp"

#include <cpl_error.h>
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <limits>
#include <memory>
#include <set>

namespace tuilerie {

namespace http = boost::beast::http;

namespace {

// A worker thread is one of a few: a scan that runs longer than this (a
// datetime filter over a large layer, a deep offset) is stopped with a 503
// rather than holding it.
constexpr std::chrono::seconds read_time_limit{20};

// Margin around a collection's reprojected extent, about 10 m, because the
// extent is reprojected from a few points per edge.
constexpr double extent_margin_degrees = 1e-4;

// Maximum length of a bbox edge segment before reprojection into the source
// CRS, about 1 km, so that the filter follows the box's curved edges there.
constexpr double crs84_segment_degrees = 0.01;

// Segments per edge of a bbox given in another CRS before it is converted
// to CRS84.
constexpr double bbox_crs_segments_per_edge = 64;

std::unique_ptr<OGRPolygon> rectangle(double minx, double miny, double maxx, double maxy) {
  auto ring = std::make_unique<OGRLinearRing>();
  ring->addPoint(minx, miny);
  ring->addPoint(maxx, miny);
  ring->addPoint(maxx, maxy);
  ring->addPoint(minx, maxy);
  ring->addPoint(minx, miny);
  auto polygon = std::make_unique<OGRPolygon>();
  polygon->addRingDirectly(ring.release());
  return polygon;
}

// The bbox of a request as a CRS84 polygon, split in two when it crosses
// the antimeridian.
std::unique_ptr<OGRGeometry> crs84_bbox(const items_request& request) {
  const auto [a, b, c, d] = *request.bbox;
  if (request.bbox_crs.is_crs84()) {
    if (a <= c) return rectangle(a, b, c, d);
    auto parts = std::make_unique<OGRMultiPolygon>();
    parts->addGeometryDirectly(rectangle(a, b, 180, d).release());
    parts->addGeometryDirectly(rectangle(-180, b, c, d).release());
    return parts;
  }
  const auto crs = epsg_crs(request.bbox_crs.epsg);
  if (!crs) {
    throw bad_request("bbox-crs names EPSG code " + std::to_string(request.bbox_crs.epsg) +
                      ", which PROJ does not know; give a code from the EPSG registry, such as 2154");
  }
  if (a > c || b > d) {
    throw bad_request(
        "bbox in bbox-crs must give the minimum before the maximum on each axis (minx,miny,maxx,maxy)");
  }
  auto box = rectangle(a, b, c, d);
  box->segmentize(std::max(c - a, d - b) / bbox_crs_segments_per_edge);
  const auto transformation = make_transformation(*crs, crs84_crs());
  if (box->transform(transformation.get()) != OGRERR_NONE) {
    throw bad_request(
        "bbox cannot be converted from bbox-crs to longitude and latitude; check that it lies within "
        "the area of use of EPSG:" +
        std::to_string(request.bbox_crs.epsg));
  }
  return box;
}

// The request's bbox clipped to the collection's extent and reprojected into
// the source CRS, or nullptr when it misses the extent (nothing matches).
// Clipping first keeps every point inside the area where the source CRS is
// defined, and drops no feature, since every feature lies in the extent.
std::unique_ptr<OGRGeometry> spatial_filter(open_collection& collection, const items_request& request) {
  const auto& extent = collection.description().extent;
  if (!extent) return nullptr;
  const auto box = crs84_bbox(request);
  const auto margin = extent->buffered(extent_margin_degrees);
  const auto extent_box = rectangle(margin.minx, margin.miny, margin.maxx, margin.maxy);
  std::unique_ptr<OGRGeometry> clipped(box->Intersection(extent_box.get()));
  if (!clipped || clipped->IsEmpty()) return nullptr;
  clipped->segmentize(crs84_segment_degrees);
  if (!collection.from_crs84(*clipped)) {
    throw api_error(http::status::internal_server_error,
                    "the bbox could not be converted to the collection's CRS; the server log has details");
  }
  return clipped;
}

std::string quoted_identifier(const std::string& name) {
  std::string quoted = "\"";
  for (const char c : name) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

std::string sql_literal(const field_description& field, const std::string& value) {
  if (field.type == OFTInteger || field.type == OFTInteger64) {
    std::int64_t number = 0;
    const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), number);
    if (value.empty() || error != std::errc{} || end != value.data() + value.size()) {
      throw bad_request("property '" + field.name + "' is an integer field; give an integer value");
    }
    return std::to_string(number);
  }
  if (field.type == OFTReal) {
    const auto number = parse_number(value);
    if (!number) throw bad_request("property '" + field.name + "' is a real field; give a decimal number");
    return fmt::format("{}", *number);
  }
  std::string quoted = "'";
  for (const char c : value) quoted += c == '\'' ? std::string("''") : std::string(1, c);
  return quoted + "'";
}

// The OGR SQL WHERE clause of the property filters, empty when there is none.
std::string attribute_filter(const collection_description& description,
                             const std::vector<property_filter>& properties) {
  std::string where;
  for (const auto& filter : properties) {
    const field_description* field = description.field(filter.name);
    where += (where.empty() ? "" : " AND ") + quoted_identifier(field->name) + " = " +
             sql_literal(*field, filter.value);
  }
  return where;
}

void apply_filters(open_collection& collection, const OGRGeometry* area, const std::string& where) {
  OGRLayer& layer = collection.layer();
  layer.SetSpatialFilter(const_cast<OGRGeometry*>(area));
  if (layer.SetAttributeFilter(where.empty() ? nullptr : where.c_str()) != OGRERR_NONE) {
    throw api_error(http::status::internal_server_error,
                    "the property filter could not be applied; the server log has details");
  }
  layer.ResetReading();
}

bool has_cheap_count(open_collection& collection, const items_request& request) {
  if (request.datetime) return false;
  return collection.layer().TestCapability(OLCFastFeatureCount) || collection.description().driver == "GPKG";
}

// Reads matching features one after the other: the OGR filters already set on
// the layer, then the datetime test, which OGR SQL cannot express the same way
// across drivers, under the read time limit.
class match_reader {
 public:
  match_reader(open_collection& collection, const std::optional<time_interval>& datetime)
      : collection_(collection),
        datetime_(datetime),
        deadline_(std::chrono::steady_clock::now() + read_time_limit) {}

  std::unique_ptr<OGRFeature> next() {
    while (true) {
      if (std::chrono::steady_clock::now() > deadline_) {
        throw api_error(http::status::service_unavailable,
                        "the query ran longer than " + std::to_string(read_time_limit.count()) +
                            " s; narrow it with bbox or a property filter");
      }
      std::unique_ptr<OGRFeature> feature(collection_.layer().GetNextFeature());
      if (!feature || matches(*feature)) return feature;
    }
  }

  // Skips `count` matches; false when fewer remain.
  bool skip(std::uint64_t count) {
    if (count == 0) return true;
    OGRLayer& layer = collection_.layer();
    if (!datetime_ && layer.TestCapability(OLCFastSetNextByIndex)) {
      return count <= static_cast<std::uint64_t>(std::numeric_limits<GIntBig>::max()) &&
             layer.SetNextByIndex(static_cast<GIntBig>(count)) == OGRERR_NONE;
    }
    for (std::uint64_t i = 0; i < count; ++i) {
      if (!next()) return false;
    }
    return true;
  }

 private:
  bool matches(OGRFeature& feature) const {
    if (!datetime_) return true;
    const auto time = feature_time(feature, collection_.description());
    return time && time->intersects(*datetime_);
  }

  open_collection& collection_;
  const std::optional<time_interval>& datetime_;
  std::chrono::steady_clock::time_point deadline_;
};

std::string write_feature(open_collection& collection, OGRFeature& feature, int coordinate_precision) {
  OGRGeometry* geometry = feature.GetGeometryRef();
  if (geometry && !collection.to_crs84(*geometry)) feature.SetGeometryDirectly(nullptr);
  return feature_json(feature, coordinate_precision);
}

}  // namespace

items_request parse_items_request(const query_parameters& parameters, const collection_settings& collection,
                                  const ogc_settings& ogc) {
  std::set<std::string> allowed{"f", "bbox", "bbox-crs", "limit", "offset", "datetime"};
  allowed.insert(collection.queryables.begin(), collection.queryables.end());
  parameters.check_names(allowed);

  items_request request;
  if (const auto format = parameters.get("f"); format && *format != "json" && *format != "geojson") {
    throw bad_request("f must be json (or geojson); the server writes no other encoding");
  }
  if (const auto crs = parameters.get("bbox-crs")) request.bbox_crs = parse_crs_uri(*crs, "bbox-crs");
  if (const auto bbox = parameters.get("bbox")) {
    request.bbox = parse_bbox(*bbox);
    if (request.bbox_crs.is_crs84()) check_crs84_bbox(*request.bbox);
  }
  request.limit = parse_limit(parameters.get("limit"), ogc.default_limit, ogc.max_limit);
  request.offset = parse_offset(parameters.get("offset"));
  if (const auto datetime = parameters.get("datetime")) {
    if (collection.datetime.empty()) {
      throw bad_request("this collection has no time field, so it takes no datetime parameter");
    }
    request.datetime = parse_datetime(*datetime);
  }
  for (const auto& name : collection.queryables) {
    if (const auto value = parameters.get(name)) request.properties.push_back({name, *value});
  }
  return request;
}

items_page read_items(open_collection& collection, const items_request& request, int coordinate_precision) {
  items_page page;
  std::unique_ptr<OGRGeometry> area;
  if (request.bbox) {
    area = spatial_filter(collection, request);
    if (!area) {
      page.number_matched = 0;
      return page;
    }
  }
  apply_filters(collection, area.get(), attribute_filter(collection.description(), request.properties));
  if (has_cheap_count(collection, request)) page.number_matched = collection.layer().GetFeatureCount(TRUE);

  collection.layer().ResetReading();
  match_reader reader(collection, request.datetime);
  if (!reader.skip(request.offset)) return page;
  while (page.features.size() < request.limit) {
    auto feature = reader.next();
    if (!feature) return page;
    page.features.push_back(write_feature(collection, *feature, coordinate_precision));
  }
  page.has_next = reader.next() != nullptr;
  return page;
}

std::optional<std::string> read_item(open_collection& collection, std::int64_t feature_id,
                                     int coordinate_precision) {
  std::unique_ptr<OGRFeature> feature;
  {
    // A missing id is a 404, not something to log: some drivers report it
    // as a GDAL error.
    CPLPushErrorHandler(CPLQuietErrorHandler);
    feature.reset(collection.layer().GetFeature(feature_id));
    CPLPopErrorHandler();
  }
  if (!feature) return std::nullopt;
  return write_feature(collection, *feature, coordinate_precision);
}

}  // namespace tuilerie
