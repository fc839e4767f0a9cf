// Tile grid math: bounds, grid limits, metatiles and tile ranges.
#include "render/tile_grid.hpp"

#include <gtest/gtest.h>

namespace tuilerie {
namespace {

constexpr double metre_tolerance = 1e-6;
constexpr double degree_tolerance = 1e-7;

TEST(TileGrid, ZoomZeroCoversMercatorSquare) {
  const bbox bounds = mercator_bounds({0, 0, 0});
  EXPECT_NEAR(bounds.minx, -mercator_half_extent, metre_tolerance);
  EXPECT_NEAR(bounds.maxx, mercator_half_extent, metre_tolerance);
  EXPECT_NEAR(bounds.miny, -mercator_half_extent, metre_tolerance);
  EXPECT_NEAR(bounds.maxy, mercator_half_extent, metre_tolerance);
}

TEST(TileGrid, ParisTileLonLatBounds) {
  // Tile 14/8299/5636 covers central Paris; bounds from the XYZ formulas.
  const bbox bounds = lonlat_bounds({14, 8299, 5636});
  EXPECT_NEAR(bounds.minx, 2.35107421875, degree_tolerance);
  EXPECT_NEAR(bounds.maxx, 2.373046875, degree_tolerance);
  EXPECT_NEAR(bounds.miny, 48.8502582, degree_tolerance);
  EXPECT_NEAR(bounds.maxy, 48.8647148, degree_tolerance);
}

TEST(TileGrid, RowZeroIsNorth) {
  const bbox north = mercator_bounds({1, 0, 0});
  const bbox south = mercator_bounds({1, 0, 1});
  EXPECT_GT(north.miny, south.miny);
  EXPECT_NEAR(north.miny, 0, metre_tolerance);
}

TEST(TileGrid, LastTileAtHighestZoomIsInGrid) {
  const std::uint32_t last = tiles_per_side(max_zoom) - 1;
  EXPECT_TRUE(is_in_grid({max_zoom, last, last}));
  const bbox bounds = mercator_bounds({max_zoom, last, last});
  EXPECT_NEAR(bounds.maxx, mercator_half_extent, metre_tolerance);
  EXPECT_NEAR(bounds.miny, -mercator_half_extent, metre_tolerance);
}

TEST(TileGrid, OutOfRangeTilesAreNotInGrid) {
  EXPECT_FALSE(is_in_grid({0, 0, 1}));
  EXPECT_FALSE(is_in_grid({0, 1, 0}));
  EXPECT_FALSE(is_in_grid({4, 16, 15}));
  EXPECT_FALSE(is_in_grid({4, 15, 16}));
  EXPECT_FALSE(is_in_grid({-1, 0, 0}));
  EXPECT_FALSE(is_in_grid({max_zoom + 1, 0, 0}));
}

TEST(TileGrid, MetatileAlignsToSize) {
  const metatile meta = metatile_of({14, 8299, 5636}, 8);
  EXPECT_EQ(meta.z, 14);
  EXPECT_EQ(meta.x, 8296u);
  EXPECT_EQ(meta.y, 5632u);
  EXPECT_EQ(meta.size, 8u);
  EXPECT_TRUE(meta.contains({14, 8299, 5636}));
  EXPECT_FALSE(meta.contains({14, 8304, 5636}));
  EXPECT_EQ(meta.tiles().size(), 64u);
}

TEST(TileGrid, MetatileShrinksToGridAtLowZoom) {
  const metatile meta = metatile_of({1, 1, 1}, 8);
  EXPECT_EQ(meta.size, 2u);
  EXPECT_EQ(meta.x, 0u);
  EXPECT_EQ(meta.y, 0u);
  const bbox bounds = meta.mercator_bounds();
  EXPECT_NEAR(bounds.minx, -mercator_half_extent, metre_tolerance);
  EXPECT_NEAR(bounds.maxy, mercator_half_extent, metre_tolerance);
}

TEST(TileGrid, MetatileBoundsEqualUnionOfTiles) {
  const metatile meta = metatile_of({10, 518, 352}, 8);
  const bbox first = mercator_bounds({10, meta.x, meta.y});
  const bbox last = mercator_bounds({10, meta.x + 7, meta.y + 7});
  const bbox bounds = meta.mercator_bounds();
  EXPECT_NEAR(bounds.minx, first.minx, metre_tolerance);
  EXPECT_NEAR(bounds.maxy, first.maxy, metre_tolerance);
  EXPECT_NEAR(bounds.maxx, last.maxx, metre_tolerance);
  EXPECT_NEAR(bounds.miny, last.miny, metre_tolerance);
}

TEST(TileGrid, LonLatMercatorRoundTrip) {
  double x = 0;
  double y = 0;
  lonlat_to_mercator(1.909, 47.902, x, y);
  double lon = 0;
  double lat = 0;
  mercator_to_lonlat(x, y, lon, lat);
  EXPECT_NEAR(lon, 1.909, 1e-9);
  EXPECT_NEAR(lat, 47.902, 1e-9);
}

TEST(TileGrid, TilesCoveringOrleans) {
  const tile_range range = tiles_covering({1.85, 47.85, 1.95, 47.95}, 12);
  EXPECT_EQ(range.min_x, 2069u);
  EXPECT_EQ(range.max_x, 2070u);
  EXPECT_LE(range.min_y, range.max_y);
  EXPECT_EQ(range.count(), 2u * (range.max_y - range.min_y + 1));
}

TEST(TileGrid, TilesCoveringWholeWorldAtZoomTwo) {
  const tile_range range = tiles_covering({-180, -90, 180, 90}, 2);
  EXPECT_EQ(range.min_x, 0u);
  EXPECT_EQ(range.max_x, 3u);
  EXPECT_EQ(range.min_y, 0u);
  EXPECT_EQ(range.max_y, 3u);
  EXPECT_EQ(range.count(), 16u);
}

}  // namespace
}  // namespace tuilerie
