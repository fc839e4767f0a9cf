// The Web Mercator (EPSG:3857) tile grid: XYZ tile ids, metatiles and bounds.
#pragma once

#include <cstdint>
#include <vector>

namespace tuilerie {

// Highest zoom the URL grammar accepts. At z24 a 256 px tile covers about
// 2.4 m, beyond any use for these layers, and 2^24 keeps x and y in 32 bits.
inline constexpr int max_zoom = 24;

// Half the extent of the EPSG:3857 square, in metres (pi * 6378137).
inline constexpr double mercator_half_extent = 20037508.342789244;

// Latitude where the EPSG:3857 square ends, in degrees.
inline constexpr double mercator_max_latitude = 85.05112877980659;

// A tile in XYZ addressing: y is counted from the north edge of the grid.
struct tile_id {
  int z = 0;
  std::uint32_t x = 0;
  std::uint32_t y = 0;

  friend bool operator==(const tile_id&, const tile_id&) = default;
};

// An axis-aligned box; in metres for EPSG:3857, in degrees for lon/lat.
struct bbox {
  double minx = 0;
  double miny = 0;
  double maxx = 0;
  double maxy = 0;

  double width() const { return maxx - minx; }
  double height() const { return maxy - miny; }
  bool intersects(const bbox& other) const;
  bool contains(double x, double y) const;
  bbox buffered(double margin) const;

  friend bool operator==(const bbox&, const bbox&) = default;
};

// Number of tiles along one side of the grid at zoom z (2^z).
constexpr std::uint32_t tiles_per_side(int z) { return std::uint32_t{1} << z; }

// Whether z is in [0, max_zoom] and x, y in [0, 2^z - 1].
bool is_in_grid(const tile_id& tile);

// The tile's bounds in EPSG:3857 metres.
bbox mercator_bounds(const tile_id& tile);

// The tile's bounds in degrees (west, south, east, north).
bbox lonlat_bounds(const tile_id& tile);

// Conversions between WGS84 degrees and EPSG:3857 metres. Latitudes beyond
// mercator_max_latitude are clamped to it.
void lonlat_to_mercator(double lon, double lat, double& x, double& y);
void mercator_to_lonlat(double x, double y, double& lon, double& lat);
bbox lonlat_to_mercator(const bbox& lonlat);
bbox mercator_to_lonlat(const bbox& mercator);

// A square block of tiles rendered as one image and then sliced, so that
// labels and symbols are placed once across the tiles it covers. At zooms
// where the grid is smaller than the metatile size it covers the whole grid.
struct metatile {
  int z = 0;
  std::uint32_t x = 0;  // column of the top-left tile
  std::uint32_t y = 0;  // row of the top-left tile
  std::uint32_t size = 1;  // tiles along each side

  bool contains(const tile_id& tile) const;
  std::vector<tile_id> tiles() const;
  bbox mercator_bounds() const;

  friend bool operator==(const metatile&, const metatile&) = default;
};

// The metatile of the given size (in tiles per side, a power of two) that
// contains the tile.
metatile metatile_of(const tile_id& tile, std::uint32_t size);

// An inclusive range of tile columns and rows at one zoom.
struct tile_range {
  int z = 0;
  std::uint32_t min_x = 0;
  std::uint32_t min_y = 0;
  std::uint32_t max_x = 0;
  std::uint32_t max_y = 0;

  std::uint64_t count() const;
};

// The tiles at zoom z that intersect a lon/lat box. Latitudes are clamped to
// the Mercator square.
tile_range tiles_covering(const bbox& lonlat, int z);

}  // namespace tuilerie
