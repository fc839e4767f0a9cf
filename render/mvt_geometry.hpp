// Clipping, simplification and snapping of geometries to a vector tile's integer grid (MVT 2.1).
#pragma once

#include <cstdint>
#include <vector>

namespace tuilerie {

// A position in tile units before snapping: x grows to the right and y downwards from the tile's
// top-left corner, and the tile spans [0, extent] on both axes.
struct tile_coord {
  double x = 0;
  double y = 0;
};

// A linestring or a ring in tile units. Rings may be open or closed and run in either direction.
using tile_coord_path = std::vector<tile_coord>;

struct tile_coord_polygon {
  tile_coord_path exterior;
  std::vector<tile_coord_path> interiors;
};

// A vertex on the tile's integer grid.
struct tile_point {
  std::int32_t x = 0;
  std::int32_t y = 0;

  friend bool operator==(const tile_point&, const tile_point&) = default;
};

// At least 2 points, no two consecutive points equal.
using tile_linestring = std::vector<tile_point>;

// A closed ring (first point == last point) of at least 4 points, no two consecutive points equal,
// with a non-zero area.
using tile_ring = std::vector<tile_point>;

// A valid polygon (OGC simple features rules) in MVT 2.1 orientation: the exterior ring has a
// positive surveyor's area in tile coordinates, so it looks clockwise on screen, and every interior
// ring has a negative one.
struct tile_polygon {
  tile_ring exterior;
  std::vector<tile_ring> interiors;
};

struct tile_geometry_settings {
  std::uint32_t extent = 4096;  // tile units along one side
  std::uint32_t buffer = 64;    // tile units kept beyond each edge
  double simplify = 1.0;        // Douglas-Peucker tolerance in tile units; 0 keeps every vertex
};

// The path by which make_tile_polygons reached its result.
enum class polygon_repair {
  none,      // clipping, simplification and snapping gave a valid multipolygon
  repaired,  // the fast path gave an invalid result, and the GEOS path gave a valid one
  dropped,   // neither path gave a valid multipolygon, so the geometry was left out
};

struct tile_polygons {
  std::vector<tile_polygon> polygons;
  polygon_repair repair = polygon_repair::none;
};

// Rounds the points to the grid and keeps those inside the buffered tile, edges included.
std::vector<tile_point> make_tile_points(const std::vector<tile_coord>& points,
                                         const tile_geometry_settings& settings);

// Clips the linestrings to the buffered tile, simplifies and snaps each piece, and drops the pieces
// left with fewer than 2 distinct points. A line that crosses only a corner of the buffered tile
// keeps the piece inside it.
std::vector<tile_linestring> make_tile_linestrings(const std::vector<tile_coord_path>& linestrings,
                                                   const tile_geometry_settings& settings);

// Clips the polygons (rings in any orientation) to the buffered tile, simplifies and snaps their
// rings, drops the rings that collapse, and orients the result for MVT 2.1. When that result is not
// a valid multipolygon, or has a vertex outside the buffered tile (Boost.Geometry's clipping of some
// invalid inputs leaves one), the GEOS path starts again from the input: make-valid, clip, simplify
// preserving topology, then snap-round to the grid. If that result is invalid too, the whole
// geometry is dropped. Polygons whose rings all collapse give an empty result.
tile_polygons make_tile_polygons(const std::vector<tile_coord_polygon>& polygons,
                                 const tile_geometry_settings& settings);

// The ring's area by the surveyor's formula, 1/2 * sum(x[i] * y[i+1] - x[i+1] * y[i]), in square
// tile units: positive for an MVT exterior ring, negative for an interior ring. The ring may be open
// or closed.
double signed_area(const std::vector<tile_point>& ring);

}  // namespace tuilerie
