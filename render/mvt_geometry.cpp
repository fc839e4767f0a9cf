// Tile geometries: Boost.Geometry clips them, GEOS repairs the invalid ones, and both snap to the grid.
#include "render/mvt_geometry.hpp"

#include <boost/geometry.hpp>
#include <geos_c.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <optional>
#include <utility>

namespace tuilerie {

namespace {

namespace bg = boost::geometry;

using bg_point = bg::model::d2::point_xy<double>;
// Boost.Geometry calls a ring counter-clockwise when its surveyor's area is positive, because it
// assumes y grows upwards. Tile coordinates grow downwards, so with this polygon type correct() and
// intersection() give exteriors a positive area, as MVT 2.1 wants (they look clockwise on screen).
// orient_for_mvt() still checks each ring before it leaves this file.
using bg_polygon = bg::model::polygon<bg_point, false, true>;
using bg_ring = bg_polygon::ring_type;
using bg_multi_polygon = bg::model::multi_polygon<bg_polygon>;
using bg_linestring = bg::model::linestring<bg_point>;
using bg_multi_linestring = bg::model::multi_linestring<bg_linestring>;
using bg_box = bg::model::box<bg_point>;

bg_box buffered_tile(const tile_geometry_settings& settings) {
  const double low = -static_cast<double>(settings.buffer);
  const double high = static_cast<double>(settings.extent) + settings.buffer;
  return {{low, low}, {high, high}};
}

tile_point snap(double x, double y) {
  return {static_cast<std::int32_t>(std::lround(x)), static_cast<std::int32_t>(std::lround(y))};
}

tile_point snap(const bg_point& point) { return snap(point.x(), point.y()); }
tile_point snap(const tile_coord& point) { return snap(point.x, point.y); }

// Rounds each vertex to the grid and drops the vertices equal to the one before.
template <typename Path>
std::vector<tile_point> snap_path(const Path& path) {
  std::vector<tile_point> snapped;
  snapped.reserve(path.size());
  for (const auto& vertex : path) {
    const tile_point point = snap(vertex);
    if (snapped.empty() || snapped.back() != point) snapped.push_back(point);
  }
  return snapped;
}

// Snaps a closed ring, or returns an empty ring when it collapses to fewer than 4 points or to a
// zero area.
template <typename Path>
tile_ring snap_ring(const Path& ring) {
  tile_ring snapped = snap_path(ring);
  if (!snapped.empty() && snapped.front() != snapped.back()) snapped.push_back(snapped.front());
  if (snapped.size() < 4 || signed_area(snapped) == 0) return {};
  return snapped;
}

template <typename Geometry>
Geometry simplified(const Geometry& geometry, double tolerance) {
  if (tolerance <= 0) return geometry;
  Geometry result;
  bg::simplify(geometry, result, tolerance);
  return result;
}

void orient_for_mvt(tile_polygon& polygon) {
  if (signed_area(polygon.exterior) < 0) std::reverse(polygon.exterior.begin(), polygon.exterior.end());
  for (tile_ring& ring : polygon.interiors) {
    if (signed_area(ring) > 0) std::reverse(ring.begin(), ring.end());
  }
}

bg_linestring to_boost_linestring(const tile_coord_path& path) {
  bg_linestring linestring;
  linestring.reserve(path.size());
  for (const tile_coord& vertex : path) linestring.emplace_back(vertex.x, vertex.y);
  return linestring;
}

bg_multi_linestring clip_linestring(const bg_linestring& linestring, const bg_box& box) {
  bg_multi_linestring pieces;
  const auto envelope = bg::return_envelope<bg_box>(linestring);
  if (bg::covered_by(envelope, box)) {
    pieces.push_back(linestring);
  } else if (bg::intersects(envelope, box)) {
    bg::intersection(linestring, box, pieces);
  }
  return pieces;
}

bg_ring to_boost_ring(const tile_coord_path& path) {
  bg_ring ring;
  ring.reserve(path.size() + 1);
  for (const tile_coord& vertex : path) ring.emplace_back(vertex.x, vertex.y);
  if (!ring.empty() && !bg::equals(ring.front(), ring.back())) ring.push_back(ring.front());
  return ring;
}

// The polygon with closed rings in Boost's orientation. Rings of fewer than 4 points (3 distinct
// vertices and the closing one) cannot enclose an area, so they are left out.
std::optional<bg_polygon> to_boost_polygon(const tile_coord_polygon& polygon) {
  bg_polygon result;
  result.outer() = to_boost_ring(polygon.exterior);
  if (result.outer().size() < 4) return std::nullopt;
  for (const tile_coord_path& interior : polygon.interiors) {
    bg_ring ring = to_boost_ring(interior);
    if (ring.size() >= 4) result.inners().push_back(std::move(ring));
  }
  bg::correct(result);
  return result;
}

// Throws a boost::geometry::exception on some invalid inputs.
bg_multi_polygon clip_polygons(const std::vector<tile_coord_polygon>& polygons, const bg_box& box) {
  bg_multi_polygon clipped;
  for (const tile_coord_polygon& polygon : polygons) {
    std::optional<bg_polygon> source = to_boost_polygon(polygon);
    if (!source) continue;
    const auto envelope = bg::return_envelope<bg_box>(*source);
    if (bg::covered_by(envelope, box)) {
      clipped.push_back(std::move(*source));
    } else if (bg::intersects(envelope, box)) {
      bg_multi_polygon pieces;
      bg::intersection(*source, box, pieces);
      clipped.insert(clipped.end(), pieces.begin(), pieces.end());
    }
  }
  return clipped;
}

std::vector<tile_polygon> simplify_and_snap(const bg_multi_polygon& polygons, double tolerance) {
  std::vector<tile_polygon> snapped;
  for (const bg_polygon& polygon : polygons) {
    tile_polygon result;
    result.exterior = snap_ring(simplified(polygon.outer(), tolerance));
    // NOTE: a self-intersecting exterior whose lobes cancel out (a symmetric figure eight) has a zero
    // area, so it is dropped here as collapsed instead of reaching the GEOS repair.
    if (result.exterior.empty()) continue;
    for (const bg_ring& interior : polygon.inners()) {
      tile_ring ring = snap_ring(simplified(interior, tolerance));
      if (!ring.empty()) result.interiors.push_back(std::move(ring));
    }
    orient_for_mvt(result);
    snapped.push_back(std::move(result));
  }
  return snapped;
}

bg_ring to_boost_ring(const tile_ring& ring) {
  bg_ring result;
  result.reserve(ring.size());
  for (const tile_point& vertex : ring) result.emplace_back(vertex.x, vertex.y);
  return result;
}

// Whether every vertex lies in the buffered tile. Boost.Geometry's intersection of an invalid input, such
// as holes that cross the exterior, can leave a spike whose vertex is outside the clip box.
bool is_inside_buffered_tile(const std::vector<tile_polygon>& polygons, const tile_geometry_settings& settings) {
  const std::int64_t low = -std::int64_t{settings.buffer};
  const std::int64_t high = std::int64_t{settings.extent} + settings.buffer;
  const auto inside = [low, high](const tile_point& point) {
    return point.x >= low && point.x <= high && point.y >= low && point.y <= high;
  };
  return std::all_of(polygons.begin(), polygons.end(), [&inside](const tile_polygon& polygon) {
    return std::all_of(polygon.exterior.begin(), polygon.exterior.end(), inside) &&
           std::all_of(polygon.interiors.begin(), polygon.interiors.end(),
                       [&inside](const tile_ring& ring) { return std::all_of(ring.begin(), ring.end(), inside); });
  });
}

bool is_valid_multipolygon(const std::vector<tile_polygon>& polygons) {
  bg_multi_polygon multipolygon;
  for (const tile_polygon& polygon : polygons) {
    bg_polygon& part = multipolygon.emplace_back();
    part.outer() = to_boost_ring(polygon.exterior);
    for (const tile_ring& ring : polygon.interiors) part.inners().push_back(to_boost_ring(ring));
  }
  return bg::is_valid(multipolygon);
}

// A GEOS context for the calling thread, because GEOS geometries and contexts are not thread-safe.
class geos_context {
 public:
  geos_context() : handle_(GEOS_init_r()) {}
  ~geos_context() { GEOS_finish_r(handle_); }
  geos_context(const geos_context&) = delete;
  geos_context& operator=(const geos_context&) = delete;

  GEOSContextHandle_t handle() const { return handle_; }

 private:
  GEOSContextHandle_t handle_;
};

GEOSContextHandle_t geos_handle() {
  thread_local const geos_context context;
  return context.handle();
}

struct geos_deleter {
  void operator()(GEOSGeometry* geometry) const { GEOSGeom_destroy_r(geos_handle(), geometry); }
};

using geos_geometry = std::unique_ptr<GEOSGeometry, geos_deleter>;

// A closed GEOS ring, or null when the path has fewer than 4 points once closed.
GEOSGeometry* make_geos_ring(const tile_coord_path& path) {
  std::vector<double> buffer;
  buffer.reserve(2 * path.size() + 2);
  for (const tile_coord& vertex : path) {
    buffer.push_back(vertex.x);
    buffer.push_back(vertex.y);
  }
  const bool closed = !path.empty() && path.front().x == path.back().x && path.front().y == path.back().y;
  if (!path.empty() && !closed) {
    buffer.push_back(path.front().x);
    buffer.push_back(path.front().y);
  }
  const auto size = static_cast<unsigned>(buffer.size() / 2);
  if (size < 4) return nullptr;
  GEOSCoordSequence* sequence = GEOSCoordSeq_copyFromBuffer_r(geos_handle(), buffer.data(), size, 0, 0);
  return sequence ? GEOSGeom_createLinearRing_r(geos_handle(), sequence) : nullptr;
}

GEOSGeometry* make_geos_polygon(const tile_coord_polygon& polygon) {
  GEOSGeometry* shell = make_geos_ring(polygon.exterior);
  if (!shell) return nullptr;
  std::vector<GEOSGeometry*> holes;
  for (const tile_coord_path& interior : polygon.interiors) {
    if (GEOSGeometry* hole = make_geos_ring(interior)) holes.push_back(hole);
  }
  return GEOSGeom_createPolygon_r(geos_handle(), shell, holes.data(), static_cast<unsigned>(holes.size()));
}

geos_geometry make_geos_multipolygon(const std::vector<tile_coord_polygon>& polygons) {
  std::vector<GEOSGeometry*> parts;
  for (const tile_coord_polygon& polygon : polygons) {
    if (GEOSGeometry* part = make_geos_polygon(polygon)) parts.push_back(part);
  }
  return geos_geometry(GEOSGeom_createCollection_r(geos_handle(), GEOS_MULTIPOLYGON, parts.data(),
                                                   static_cast<unsigned>(parts.size())));
}

// Make-valid with the "structure" method keeps the rings' roles from the source and drops the parts
// that collapse to lines or points, so the result stays polygonal.
geos_geometry make_valid(const GEOSGeometry* geometry) {
  GEOSContextHandle_t handle = geos_handle();
  GEOSMakeValidParams* params = GEOSMakeValidParams_create_r(handle);
  GEOSMakeValidParams_setMethod_r(handle, params, GEOS_MAKE_VALID_STRUCTURE);
  GEOSMakeValidParams_setKeepCollapsed_r(handle, params, 0);
  geos_geometry valid(GEOSMakeValidWithParams_r(handle, geometry, params));
  GEOSMakeValidParams_destroy_r(handle, params);
  return valid;
}

tile_ring read_geos_ring(const GEOSGeometry* ring) {
  GEOSContextHandle_t handle = geos_handle();
  const GEOSCoordSequence* sequence = GEOSGeom_getCoordSeq_r(handle, ring);
  unsigned size = 0;
  if (!sequence || !GEOSCoordSeq_getSize_r(handle, sequence, &size)) return {};
  std::vector<double> buffer(2 * std::size_t{size});
  if (!GEOSCoordSeq_copyToBuffer_r(handle, sequence, buffer.data(), 0, 0)) return {};
  tile_coord_path path(size);
  for (unsigned i = 0; i < size; ++i) path[i] = {buffer[2 * i], buffer[2 * i + 1]};
  return snap_ring(path);
}

void read_geos_polygons(const GEOSGeometry* geometry, std::vector<tile_polygon>& polygons) {
  GEOSContextHandle_t handle = geos_handle();
  const int type = GEOSGeomTypeId_r(handle, geometry);
  if (type == GEOS_MULTIPOLYGON || type == GEOS_GEOMETRYCOLLECTION) {
    const int count = GEOSGetNumGeometries_r(handle, geometry);
    for (int i = 0; i < count; ++i) read_geos_polygons(GEOSGetGeometryN_r(handle, geometry, i), polygons);
    return;
  }
  // Points and lines left by collapsed parts have no place in a polygon feature.
  if (type != GEOS_POLYGON) return;
  tile_polygon polygon;
  polygon.exterior = read_geos_ring(GEOSGetExteriorRing_r(handle, geometry));
  if (polygon.exterior.empty()) return;
  const int interior_count = GEOSGetNumInteriorRings_r(handle, geometry);
  for (int i = 0; i < interior_count; ++i) {
    tile_ring ring = read_geos_ring(GEOSGetInteriorRingN_r(handle, geometry, i));
    if (!ring.empty()) polygon.interiors.push_back(std::move(ring));
  }
  orient_for_mvt(polygon);
  polygons.push_back(std::move(polygon));
}

// Whether the bounding box of the polygon's exterior ring meets the box. A polygon that does not
// adds nothing inside the box, even once made valid: make-valid keeps a polygon within its exterior,
// and its holes only take area away.
bool exterior_meets(const tile_coord_polygon& polygon, const bg_box& box) {
  if (polygon.exterior.empty()) return false;
  double min_x = polygon.exterior.front().x, max_x = min_x;
  double min_y = polygon.exterior.front().y, max_y = min_y;
  for (const tile_coord& point : polygon.exterior) {
    min_x = std::min(min_x, point.x);
    max_x = std::max(max_x, point.x);
    min_y = std::min(min_y, point.y);
    max_y = std::max(max_y, point.y);
  }
  return max_x >= box.min_corner().x() && min_x <= box.max_corner().x() && max_y >= box.min_corner().y() &&
         min_y <= box.max_corner().y();
}

// The GEOS path, from the unclipped input: make-valid, clip, simplify without changing the topology,
// and snap-round to the unit grid, whose output geos_c.h documents as always valid
// (GEOS_PREC_VALID_OUTPUT). Parts far from the tile are left out first, so a feature's repair costs
// what its parts near the tile cost. The input is not clipped before make-valid: GEOS 3.11's
// GEOSClipByRect leaks memory on some invalid input (fuzz/regressions/mvt_geometry-clip-invalid-leak.txt).
// Returns nothing when a GEOS step fails.
std::optional<std::vector<tile_polygon>> repair_with_geos(const std::vector<tile_coord_polygon>& polygons,
                                                          const tile_geometry_settings& settings) {
  GEOSContextHandle_t handle = geos_handle();
  const bg_box box = buffered_tile(settings);
  std::vector<tile_coord_polygon> near_tile;
  for (const tile_coord_polygon& polygon : polygons) {
    if (exterior_meets(polygon, box)) near_tile.push_back(polygon);
  }
  if (near_tile.empty()) return std::vector<tile_polygon>{};
  const geos_geometry source = make_geos_multipolygon(near_tile);
  if (!source) return std::nullopt;
  const geos_geometry valid = make_valid(source.get());
  if (!valid) return std::nullopt;
  geos_geometry clipped(GEOSClipByRect_r(handle, valid.get(), box.min_corner().x(), box.min_corner().y(),
                                         box.max_corner().x(), box.max_corner().y()));
  if (!clipped) return std::nullopt;
  if (settings.simplify > 0) {
    clipped.reset(GEOSTopologyPreserveSimplify_r(handle, clipped.get(), settings.simplify));
    if (!clipped) return std::nullopt;
  }
  const geos_geometry snapped(GEOSGeom_setPrecision_r(handle, clipped.get(), 1.0, GEOS_PREC_VALID_OUTPUT));
  if (!snapped) return std::nullopt;
  std::vector<tile_polygon> result;
  read_geos_polygons(snapped.get(), result);
  return result;
}

}  // namespace

std::vector<tile_point> make_tile_points(const std::vector<tile_coord>& points,
                                         const tile_geometry_settings& settings) {
  // A point is kept when it rounds to a grid point inside the buffered tile, so one computed a hair
  // beyond an edge, such as 4096.0000001 for a point on the east edge, still counts as on it. The
  // test runs before rounding, because a far point would overflow the 32-bit grid.
  const bg_box box = buffered_tile(settings);
  const double low = box.min_corner().x() - 0.5;
  const double high = box.max_corner().x() + 0.5;
  std::vector<tile_point> inside;
  for (const tile_coord& point : points) {
    if (point.x > low && point.x < high && point.y > low && point.y < high) inside.push_back(snap(point));
  }
  return inside;
}

std::vector<tile_linestring> make_tile_linestrings(const std::vector<tile_coord_path>& linestrings,
                                                   const tile_geometry_settings& settings) {
  const bg_box box = buffered_tile(settings);
  std::vector<tile_linestring> pieces;
  for (const tile_coord_path& path : linestrings) {
    if (path.size() < 2) continue;
    for (const bg_linestring& piece : clip_linestring(to_boost_linestring(path), box)) {
      tile_linestring snapped = snap_path(simplified(piece, settings.simplify));
      if (snapped.size() >= 2) pieces.push_back(std::move(snapped));
    }
  }
  return pieces;
}

tile_polygons make_tile_polygons(const std::vector<tile_coord_polygon>& polygons,
                                 const tile_geometry_settings& settings) {
  try {
    std::vector<tile_polygon> snapped =
        simplify_and_snap(clip_polygons(polygons, buffered_tile(settings)), settings.simplify);
    if (is_valid_multipolygon(snapped) && is_inside_buffered_tile(snapped, settings)) {
      return {std::move(snapped), polygon_repair::none};
    }
  } catch (const bg::exception&) {
    // Boost.Geometry's overlay rejected an invalid input; the GEOS path makes it valid first.
  }
  std::optional<std::vector<tile_polygon>> repaired = repair_with_geos(polygons, settings);
  if (repaired && is_valid_multipolygon(*repaired)) return {std::move(*repaired), polygon_repair::repaired};
  return {{}, polygon_repair::dropped};
}

double signed_area(const std::vector<tile_point>& ring) {
  // Integer products keep the sum exact: coordinates stay within a few times the extent.
  std::int64_t twice_area = 0;
  const std::size_t size = ring.size();
  for (std::size_t i = 0; i < size; ++i) {
    const tile_point& current = ring[i];
    const tile_point& next = ring[(i + 1) % size];
    twice_area += std::int64_t{current.x} * next.y - std::int64_t{next.x} * current.y;
  }
  return static_cast<double>(twice_area) / 2;
}

}  // namespace tuilerie
