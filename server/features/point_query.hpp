// Point queries (/query): the features of each queryable collection that
// contain a point, or the nearest one within a radius.
#pragma once

#include "server/config.hpp"
#include "server/features/collection_source.hpp"
#include "server/features/query_string.hpp"

#include <functional>
#include <string>
#include <vector>

namespace tuilerie {

struct point_query_request {
  double lon = 0;
  double lat = 0;
  double radius_m = 500;
  std::vector<std::string> collections;  // ids of point_query collections, in output order
};

// Reads lon, lat, layers (comma-separated collection ids, all point_query
// collections when absent) and radius (metres). Throws api_error (400) for a
// missing or invalid lon or lat, a radius outside (0, max_radius_m], and a
// layer that is unknown or not open to point queries.
point_query_request parse_point_query(const query_parameters& parameters, const config& settings);

// Runs the query and returns a GeoJSON FeatureCollection, where every
// feature carries "collection". A polygonal feature is returned when it
// contains the point, its boundary included. Among points and lines, each
// collection returns the nearest one within the radius, with "distance_m".
//
// Distances are measured in an azimuthal equidistant projection centred on
// the point. PROJ makes the distance from the centre to each vertex the
// geodesic one, and only the straight segments between vertices bend
// differently from the source's, which matters for long segments far away.
// `open` returns the calling thread's handle on a collection.
std::string run_point_query(const point_query_request& request,
                            const std::function<open_collection&(const std::string& id)>& open,
                            int coordinate_precision);

}  // namespace tuilerie
