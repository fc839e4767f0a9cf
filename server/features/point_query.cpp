// Point queries: containing polygons and nearest points or lines.
#include "server/features/point_query.hpp"

#include "server/features/api_error.hpp"
#include "server/features/geojson_writer.hpp"
#include "server/features/item_parameters.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <memory>

namespace tuilerie {

namespace {

// Points per edge when the search square is reprojected into a source CRS.
constexpr int search_densify_points = 21;

double coordinate(const query_parameters& parameters, const std::string& name, double limit) {
  const auto text = parameters.get(name);
  if (!text) throw bad_request(name + " is missing; give it in decimal degrees");
  const auto value = parse_number(*text);
  if (!value || *value < -limit || *value > limit) {
    throw bad_request(
        fmt::format("{} must be a decimal number of degrees from {} to {}", name, -limit, limit));
  }
  return *value;
}

double radius(const query_parameters& parameters, const point_query_settings& settings) {
  const auto text = parameters.get("radius");
  if (!text) return settings.default_radius_m;
  const auto value = parse_number(*text);
  if (!value || *value <= 0) throw bad_request("radius must be a number of metres above 0");
  // Clamped like the items limit, so a client need not know the server's maximum.
  return std::min(*value, settings.max_radius_m);
}

std::vector<std::string> queryable_collections(const config& settings) {
  std::vector<std::string> ids;
  for (const auto& [id, collection] : settings.collections) {
    if (collection.point_query) ids.push_back(id);
  }
  return ids;
}

std::vector<std::string> requested_collections(const std::string& layers, const config& settings) {
  std::vector<std::string> ids;
  std::string_view rest = layers;
  while (true) {
    const auto comma = rest.find(',');
    const std::string id(rest.substr(0, comma));
    const auto found = settings.collections.find(id);
    if (found == settings.collections.end() || !found->second.point_query) {
      throw bad_request("layers must list collections open to point queries, separated by commas; " +
                        printable_name(id) + " is not one (see the point_query collections in the API)");
    }
    if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
    if (comma == std::string_view::npos) return ids;
    rest.remove_prefix(comma + 1);
  }
}

bool is_surface(const OGRGeometry& geometry) {
  const auto type = wkbFlatten(geometry.getGeometryType());
  return OGR_GT_IsSurface(type) || type == wkbMultiPolygon || type == wkbMultiSurface;
}

OGRSpatialReference local_crs(const point_query_request& request) {
  OGRSpatialReference crs;
  crs.SetFromUserInput(
      fmt::format("+proj=aeqd +lat_0={} +lon_0={} +x_0=0 +y_0=0 +datum=WGS84 +units=m +no_defs", request.lat,
                  request.lon)
          .c_str());
  crs.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  return crs;
}

// Searches one collection, appending GeoJSON features to `output`.
class collection_search {
 public:
  collection_search(open_collection& collection, const point_query_request& request,
                    const OGRSpatialReference& local, int coordinate_precision)
      : collection_(collection),
        request_(request),
        local_(local),
        precision_(coordinate_precision),
        point_(request.lon, request.lat) {}

  void run(std::vector<std::string>& output) {
    if (!collection_.from_crs84(point_)) return;  // outside the area where the source CRS is defined
    to_local_ = make_transformation(collection_.source_crs(), local_);
    set_search_area();
    std::unique_ptr<OGRFeature> nearest;
    double nearest_distance = 0;
    OGRLayer& layer = collection_.layer();
    while (auto feature = std::unique_ptr<OGRFeature>(layer.GetNextFeature())) {
      const OGRGeometry* geometry = feature->GetGeometryRef();
      if (!geometry) continue;
      if (is_surface(*geometry)) {
        if (geometry->Intersects(&point_)) output.push_back(write(*feature, nullptr));
        continue;
      }
      const auto distance = local_distance(*geometry);
      if (distance && *distance <= request_.radius_m && (!nearest || *distance < nearest_distance)) {
        nearest = std::move(feature);
        nearest_distance = *distance;
      }
    }
    if (nearest) output.push_back(write(*nearest, &nearest_distance));
  }

 private:
  // Polygon layers need only the features whose box contains the point.
  // Other layers need those within the radius: a square in the local
  // projection, reprojected into the source CRS.
  void set_search_area() {
    OGRLayer& layer = collection_.layer();
    layer.SetAttributeFilter(nullptr);
    if (collection_.description().is_polygonal()) {
      layer.SetSpatialFilterRect(point_.getX(), point_.getY(), point_.getX(), point_.getY());
    } else {
      const auto to_source = make_transformation(local_, collection_.source_crs());
      const double r = request_.radius_m;
      double minx = 0, miny = 0, maxx = 0, maxy = 0;
      if (!to_source->TransformBounds(-r, -r, r, r, &minx, &miny, &maxx, &maxy, search_densify_points)) {
        throw api_error(
            boost::beast::http::status::internal_server_error,
            "the search area could not be converted to a collection's CRS; the server log has details");
      }
      layer.SetSpatialFilterRect(minx, miny, maxx, maxy);
    }
    layer.ResetReading();
  }

  std::optional<double> local_distance(const OGRGeometry& geometry) const {
    std::unique_ptr<OGRGeometry> local(geometry.clone());
    if (local->transform(to_local_.get()) != OGRERR_NONE) return std::nullopt;
    const OGRPoint centre(0, 0);
    const double distance = local->Distance(&centre);
    return distance >= 0 ? std::optional<double>(distance) : std::nullopt;
  }

  std::string write(OGRFeature& feature, const double* distance) {
    OGRGeometry* geometry = feature.GetGeometryRef();
    if (geometry && !collection_.to_crs84(*geometry)) feature.SetGeometryDirectly(nullptr);
    nlohmann::ordered_json extra{{"collection", collection_.description().settings.id}};
    // Centimetres: the data are not more precise than that.
    if (distance) extra["distance_m"] = std::round(*distance * 100) / 100;
    return feature_json(feature, precision_, extra);
  }

  open_collection& collection_;
  const point_query_request& request_;
  const OGRSpatialReference& local_;
  int precision_;
  OGRPoint point_;  // the queried point, in the source CRS once run() starts
  std::unique_ptr<OGRCoordinateTransformation> to_local_;
};

}  // namespace

point_query_request parse_point_query(const query_parameters& parameters, const config& settings) {
  parameters.check_names({"lon", "lat", "layers", "radius", "f"});
  if (const auto format = parameters.get("f"); format && *format != "json" && *format != "geojson") {
    throw bad_request("f must be json (or geojson); the server writes no other encoding");
  }
  point_query_request request;
  request.lon = coordinate(parameters, "lon", 180);
  request.lat = coordinate(parameters, "lat", 90);
  request.radius_m = radius(parameters, settings.ogc.point_query);
  const auto layers = parameters.get("layers");
  request.collections = layers ? requested_collections(*layers, settings) : queryable_collections(settings);
  return request;
}

std::string run_point_query(const point_query_request& request,
                            const std::function<open_collection&(const std::string& id)>& open,
                            int coordinate_precision) {
  const OGRSpatialReference local = local_crs(request);
  std::vector<std::string> features;
  for (const auto& id : request.collections) {
    collection_search(open(id), request, local, coordinate_precision).run(features);
  }
  std::string text = "{\"type\":\"FeatureCollection\",\"numberReturned\":" + std::to_string(features.size()) +
                     ",\"features\":[";
  for (std::size_t i = 0; i < features.size(); ++i) text += (i ? "," : "") + features[i];
  return text + "]}";
}

}  // namespace tuilerie
