// Tile geometry pipeline: clipping, orientation, simplification, snapping and repair, in tile units.
#include "render/mvt_geometry.hpp"

#include <gtest/gtest.h>
#include <ogr_geometry.h>

#include <algorithm>
#include <cstdint>
#include <vector>

namespace tuilerie {
namespace {

tile_geometry_settings settings_with(std::uint32_t buffer, double simplify = 1.0) {
  return {4096, buffer, simplify};
}

// Surveyor's formula written out for the tests, apart from the code under test.
double area_of(const tile_ring& ring) {
  double twice_area = 0;
  for (std::size_t i = 0; i + 1 < ring.size(); ++i) {
    twice_area += double(ring[i].x) * ring[i + 1].y - double(ring[i + 1].x) * ring[i].y;
  }
  return twice_area / 2;
}

double total_area(const std::vector<tile_polygon>& polygons) {
  double area = 0;
  for (const tile_polygon& polygon : polygons) {
    area += area_of(polygon.exterior);
    for (const tile_ring& ring : polygon.interiors) area += area_of(ring);
  }
  return area;
}

OGRLinearRing to_ogr_ring(const tile_ring& ring) {
  OGRLinearRing result;
  for (const tile_point& point : ring) result.addPoint(point.x, point.y);
  return result;
}

// Validity as GEOS (through GDAL) judges it, independent of the Boost.Geometry check in the code.
bool is_valid_with_geos(const std::vector<tile_polygon>& polygons) {
  OGRMultiPolygon multipolygon;
  for (const tile_polygon& polygon : polygons) {
    OGRPolygon part;
    part.addRingDirectly(new OGRLinearRing(to_ogr_ring(polygon.exterior)));
    for (const tile_ring& ring : polygon.interiors)
      part.addRingDirectly(new OGRLinearRing(to_ogr_ring(ring)));
    multipolygon.addGeometry(&part);
  }
  return multipolygon.IsValid();
}

// Whether the ring has these vertices in this cyclic order, starting anywhere.
bool is_cyclic_match(const tile_ring& ring, std::vector<tile_point> expected) {
  if (ring.size() != expected.size() + 1 || ring.front() != ring.back()) return false;
  const std::vector<tile_point> open(ring.begin(), ring.end() - 1);
  for (std::size_t start = 0; start < expected.size(); ++start) {
    std::rotate(expected.begin(), expected.begin() + 1, expected.end());
    if (open == expected) return true;
  }
  return false;
}

tile_coord_path square(double min, double max) { return {{min, min}, {max, min}, {max, max}, {min, max}}; }

tile_coord_path reversed(tile_coord_path path) {
  std::reverse(path.begin(), path.end());
  return path;
}

TEST(MvtGeometry, SignedAreaIsPositiveForScreenClockwise) {
  // With y down, (0,0) -> (10,0) -> (10,10) -> (0,10) turns clockwise on screen.
  const tile_ring clockwise{{0, 0}, {10, 0}, {10, 10}, {0, 10}, {0, 0}};
  EXPECT_EQ(signed_area(clockwise), 100);
  tile_ring counter_clockwise = clockwise;
  std::reverse(counter_clockwise.begin(), counter_clockwise.end());
  EXPECT_EQ(signed_area(counter_clockwise), -100);
  EXPECT_EQ(signed_area({{0, 0}, {10, 0}, {10, 10}, {0, 10}}), 100) << "open ring";
}

TEST(MvtGeometry, RingOrderInInputDoesNotMatter) {
  const tile_coord_polygon one_way{square(100, 900), {square(300, 500)}};
  const tile_coord_polygon other_way{reversed(square(100, 900)), {reversed(square(300, 500))}};
  const tile_polygons first = make_tile_polygons({one_way}, settings_with(64));
  const tile_polygons second = make_tile_polygons({other_way}, settings_with(64));
  ASSERT_EQ(first.polygons.size(), 1u);
  ASSERT_EQ(second.polygons.size(), 1u);
  for (const tile_polygons* result : {&first, &second}) {
    const tile_polygon& polygon = result->polygons.front();
    EXPECT_EQ(area_of(polygon.exterior), 800.0 * 800.0);
    ASSERT_EQ(polygon.interiors.size(), 1u);
    EXPECT_EQ(area_of(polygon.interiors.front()), -200.0 * 200.0);
    EXPECT_TRUE(is_cyclic_match(polygon.exterior, {{100, 100}, {900, 100}, {900, 900}, {100, 900}}));
    EXPECT_TRUE(is_cyclic_match(polygon.interiors.front(), {{300, 300}, {300, 500}, {500, 500}, {500, 300}}));
    EXPECT_EQ(result->repair, polygon_repair::none);
  }
}

TEST(MvtGeometry, TriangleClippedAtEastEdge) {
  // The edge from (5000,3000) to (3000,1000) crosses x = 4096 at y = 3000 - 904 = 2096 and
  // x = 4160 at y = 3000 - 840 = 2160. The input runs counter-clockwise on screen, so the output
  // runs the other way: up to the apex first.
  const tile_coord_polygon triangle{{{1000, 3000}, {5000, 3000}, {3000, 1000}}, {}};

  const tile_polygons without_buffer = make_tile_polygons({triangle}, settings_with(0));
  ASSERT_EQ(without_buffer.polygons.size(), 1u);
  const tile_ring& cut = without_buffer.polygons.front().exterior;
  EXPECT_TRUE(is_cyclic_match(cut, {{1000, 3000}, {3000, 1000}, {4096, 2096}, {4096, 3000}}));
  EXPECT_GT(area_of(cut), 0);

  const tile_polygons with_buffer = make_tile_polygons({triangle}, settings_with(64));
  ASSERT_EQ(with_buffer.polygons.size(), 1u);
  EXPECT_TRUE(is_cyclic_match(with_buffer.polygons.front().exterior,
                              {{1000, 3000}, {3000, 1000}, {4160, 2160}, {4160, 3000}}));
}

TEST(MvtGeometry, PolygonLargerThanTileFillsBufferedTile) {
  const tile_coord_polygon huge{square(-100000, 100000), {}};
  const tile_polygons result = make_tile_polygons({huge}, settings_with(64));
  ASSERT_EQ(result.polygons.size(), 1u);
  EXPECT_TRUE(is_cyclic_match(result.polygons.front().exterior,
                              {{-64, -64}, {4160, -64}, {4160, 4160}, {-64, 4160}}));
  EXPECT_EQ(area_of(result.polygons.front().exterior), 4224.0 * 4224.0);
}

TEST(MvtGeometry, PolygonOutsideBufferIsDropped) {
  const tile_coord_polygon outside{square(5000, 6000), {}};
  const tile_polygons result = make_tile_polygons({outside}, settings_with(64));
  EXPECT_TRUE(result.polygons.empty());
  EXPECT_EQ(result.repair, polygon_repair::none);
}

TEST(MvtGeometry, SliverCollapsesUnderSimplification) {
  // 1000 units long, 0.6 unit high: Douglas-Peucker with a 1-unit tolerance keeps only the base.
  const tile_coord_polygon sliver{{{100, 100.2}, {1100, 100.2}, {600, 100.8}}, {}};
  EXPECT_TRUE(make_tile_polygons({sliver}, settings_with(64, 1.0)).polygons.empty());

  // Without simplification, snapping moves the apex to y = 101 and the triangle survives.
  const tile_polygons unsimplified = make_tile_polygons({sliver}, settings_with(64, 0));
  ASSERT_EQ(unsimplified.polygons.size(), 1u);
  EXPECT_TRUE(is_cyclic_match(unsimplified.polygons.front().exterior, {{100, 100}, {1100, 100}, {600, 101}}));
  EXPECT_TRUE(is_valid_with_geos(unsimplified.polygons));
}

TEST(MvtGeometry, TinyTrianglesAreDroppedOrValid) {
  // Triangles of 0.2 to 0.7 unit at sub-unit offsets from a fixed linear congruential sequence.
  std::uint32_t state = 2024;
  const auto next_fraction = [&state] {
    state = state * 1664525u + 1013904223u;
    return (state >> 8) / double(1 << 24);
  };
  for (int i = 0; i < 100; ++i) {
    const double x = 100 + 30 * (i % 10) + next_fraction();
    const double y = 100 + 30 * (i / 10) + next_fraction();
    const double size = 0.2 + 0.5 * next_fraction();
    const tile_coord_polygon triangle{{{x, y}, {x + size, y}, {x + size / 2, y + size}}, {}};
    for (const double simplify : {0.0, 1.0}) {
      const tile_polygons result = make_tile_polygons({triangle}, settings_with(64, simplify));
      for (const tile_polygon& polygon : result.polygons) {
        EXPECT_GE(polygon.exterior.size(), 4u);
        EXPECT_GT(area_of(polygon.exterior), 0);
      }
      EXPECT_TRUE(is_valid_with_geos(result.polygons)) << "triangle " << i;
    }
  }
}

TEST(MvtGeometry, SlotClosedBySnappingIsRepaired) {
  // A square with a slot 0.8 unit wide cut from the top edge down to y = 0.4. Snapping merges the
  // slot's sides at x = 50 and moves its end onto the bottom edge: a ring with a spike that touches
  // itself. GEOS's repair fills the slot back in, giving the plain square.
  const tile_coord_polygon slotted{
      {{0, 0}, {100, 0}, {100, 100}, {50.4, 100}, {50.4, 0.4}, {49.6, 0.4}, {49.6, 100}, {0, 100}}, {}};
  const tile_polygons result = make_tile_polygons({slotted}, settings_with(64, 0));
  EXPECT_EQ(result.repair, polygon_repair::repaired);
  EXPECT_TRUE(is_valid_with_geos(result.polygons));
  EXPECT_NEAR(total_area(result.polygons), 10000, 100);
}

TEST(MvtGeometry, SelfIntersectingInputIsRepaired) {
  // A bowtie whose edges cross at (100/3, 100/3): the left triangle has an area of 2500/3 and the
  // right one 10000/3, so both together 12500/3, about 4167. Snapping the crossing moves it by less
  // than a unit, which changes that area by a few tens of units at most.
  const tile_coord_polygon bowtie{{{0, 0}, {100, 100}, {100, 0}, {0, 50}}, {}};
  const tile_polygons result = make_tile_polygons({bowtie}, settings_with(64, 0));
  EXPECT_EQ(result.repair, polygon_repair::repaired);
  EXPECT_TRUE(is_valid_with_geos(result.polygons));
  EXPECT_NEAR(total_area(result.polygons), 12500.0 / 3, 50);
  for (const tile_polygon& polygon : result.polygons) EXPECT_GT(area_of(polygon.exterior), 0);
}

TEST(MvtGeometry, IslandInHoleStaysItsOwnPolygon) {
  const tile_coord_polygon shell{square(0, 1000), {square(200, 800)}};
  const tile_coord_polygon island{square(400, 600), {}};
  const tile_polygons result = make_tile_polygons({shell, island}, settings_with(64));
  ASSERT_EQ(result.polygons.size(), 2u);
  EXPECT_EQ(area_of(result.polygons[0].exterior), 1000.0 * 1000.0);
  ASSERT_EQ(result.polygons[0].interiors.size(), 1u);
  EXPECT_EQ(area_of(result.polygons[0].interiors.front()), -600.0 * 600.0);
  EXPECT_EQ(area_of(result.polygons[1].exterior), 200.0 * 200.0);
  EXPECT_TRUE(is_valid_with_geos(result.polygons));
}

TEST(MvtGeometry, RepeatedPointsAreDropped) {
  const tile_coord_polygon repeated{{{0, 0}, {0.2, 0.1}, {100, 0}, {100, 0}, {100, 100}, {0, 100}}, {}};
  const tile_polygons result = make_tile_polygons({repeated}, settings_with(64, 0));
  ASSERT_EQ(result.polygons.size(), 1u);
  EXPECT_TRUE(is_cyclic_match(result.polygons.front().exterior, {{0, 0}, {100, 0}, {100, 100}, {0, 100}}));

  const std::vector<tile_linestring> lines =
      make_tile_linestrings({{{0, 0}, {0.3, 0}, {10, 0}, {10.2, 0.1}, {20, 5}}}, settings_with(64, 0));
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines.front(), (tile_linestring{{0, 0}, {10, 0}, {20, 5}}));
}

TEST(MvtGeometry, LineCrossingOnlyCornerKeepsCornerPiece) {
  // y = x - 4000 enters the buffered tile at (3936,-64) and leaves it at (4160,160); without a
  // buffer it crosses the tile from (4000,0) to (4096,96).
  const tile_coord_path line{{3800, -200}, {4300, 300}};
  EXPECT_EQ(make_tile_linestrings({line}, settings_with(64)),
            (std::vector<tile_linestring>{{{3936, -64}, {4160, 160}}}));
  EXPECT_EQ(make_tile_linestrings({line}, settings_with(0)),
            (std::vector<tile_linestring>{{{4000, 0}, {4096, 96}}}));
}

TEST(MvtGeometry, LineTouchingOnlyCornerPointIsDropped) {
  // y = x - 4224 meets the buffered tile only at its corner (4160,-64).
  const tile_coord_path line{{4060, -164}, {4260, 36}};
  EXPECT_TRUE(make_tile_linestrings({line}, settings_with(64)).empty());
}

TEST(MvtGeometry, LineLeavingAndReenteringGivesTwoPieces) {
  const tile_coord_path line{{100, 100}, {5000, 100}, {5000, 200}, {100, 200}};
  EXPECT_EQ(make_tile_linestrings({line}, settings_with(0)),
            (std::vector<tile_linestring>{{{100, 100}, {4096, 100}}, {{4096, 200}, {100, 200}}}));
}

TEST(MvtGeometry, LineWiggleBelowToleranceIsSimplified) {
  const tile_coord_path wiggle{{0, 0}, {100, 0.4}, {200, -0.4}, {300, 0}};
  EXPECT_EQ(make_tile_linestrings({wiggle}, settings_with(64, 1.0)),
            (std::vector<tile_linestring>{{{0, 0}, {300, 0}}}));
  EXPECT_EQ(make_tile_linestrings({wiggle}, settings_with(64, 0)).front().size(), 4u);
}

TEST(MvtGeometry, PointsOnEdgeAndInBufferAreKept) {
  // 4294967396 is 2^32 + 100: a point that far must not wrap around into the tile.
  const std::vector<tile_coord> points{{4096.0000001, 2000}, {4150.3, 2000}, {4160.4, 2000},
                                       {4160.6, 2000},       {-64, -64},     {2000, 4224},
                                       {4294967396.0, 100},  {-64.6, 0},     {-64.4, 0}};
  EXPECT_EQ(make_tile_points(points, settings_with(64)),
            (std::vector<tile_point>{{4096, 2000}, {4150, 2000}, {4160, 2000}, {-64, -64}, {-64, 0}}));
  EXPECT_EQ(make_tile_points(points, settings_with(0)), (std::vector<tile_point>{{4096, 2000}}));
}

// The number of vertices outside [-buffer, extent + buffer] on either axis.
std::size_t count_outside(const std::vector<tile_polygon>& polygons, std::int32_t extent, std::int32_t buffer) {
  std::size_t outside = 0;
  const auto count = [&](const tile_ring& ring) {
    for (const tile_point& point : ring) {
      if (point.x < -buffer || point.x > extent + buffer || point.y < -buffer || point.y > extent + buffer) ++outside;
    }
  };
  for (const tile_polygon& polygon : polygons) {
    count(polygon.exterior);
    for (const tile_ring& ring : polygon.interiors) count(ring);
  }
  return outside;
}

TEST(MvtGeometry, CrossingHolesLeaveNoSpikeOutsideBuffer) {
  // Three holes that cross the exterior, the tile's east edge and each other. Boost.Geometry's clipping
  // of this invalid input keeps a vertex at (5000,2753), so the GEOS path has to take over.
  const tile_coord_polygon tangled{
      {{0, 4000}, {1000, 360000}, {2000, 0}, {360000, 0}},
      {{{731.819, 3300}, {731.819, 2752.63}, {5000, 2752.63}, {1000, 0}},
       {{731.819, 332000}, {731.819, 2752.63}, {5000, 2752.63}, {1000, 400}},
       {{731.819, 3000}, {731.819, 2800}, {1000, 3000}, {800, 4200}}}};
  const tile_polygons result = make_tile_polygons({tangled}, settings_with(64, 0));
  EXPECT_FALSE(result.polygons.empty());
  EXPECT_EQ(count_outside(result.polygons, 4096, 64), 0u);
  EXPECT_TRUE(is_valid_with_geos(result.polygons));
  EXPECT_EQ(result.repair, polygon_repair::repaired);
}

TEST(MvtGeometry, FarVertexIsClippedToBufferEdge) {
  // The edge from (1000,1000) to (0,2.2e16) is vertical within 1.5e-10 unit until it leaves the
  // buffered tile, so the clipped polygon is the rectangle from (0,0) to (1000,4160): 4160000 square
  // units. Boost.Geometry's clipping alone puts the corner at (1000,4164), outside the buffer.
  const tile_coord_polygon sliver{{{0, 0}, {1000, 0}, {1000, 1000}, {0, 22222222225678901.0}}, {}};
  const tile_polygons result = make_tile_polygons({sliver}, settings_with(64, 0));
  ASSERT_EQ(result.polygons.size(), 1u);
  EXPECT_EQ(count_outside(result.polygons, 4096, 64), 0u);
  EXPECT_EQ(area_of(result.polygons.front().exterior), 1000.0 * 4160.0);
  EXPECT_TRUE(is_valid_with_geos(result.polygons));
}

}  // namespace
}  // namespace tuilerie
