// The Web Mercator tile grid: bounds and coordinate conversions.
#include "render/tile_grid.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace tuilerie {

namespace {

double tile_span(int z) { return 2 * mercator_half_extent / tiles_per_side(z); }

std::uint32_t clamp_index(double value, int z) {
  const double last = tiles_per_side(z) - 1;
  return static_cast<std::uint32_t>(std::clamp(std::floor(value), 0.0, last));
}

}  // namespace

bool bbox::intersects(const bbox& other) const {
  return minx <= other.maxx && other.minx <= maxx && miny <= other.maxy && other.miny <= maxy;
}

bool bbox::contains(double x, double y) const {
  return x >= minx && x <= maxx && y >= miny && y <= maxy;
}

bbox bbox::buffered(double margin) const {
  return {minx - margin, miny - margin, maxx + margin, maxy + margin};
}

bool is_in_grid(const tile_id& tile) {
  return tile.z >= 0 && tile.z <= max_zoom && tile.x < tiles_per_side(tile.z) &&
         tile.y < tiles_per_side(tile.z);
}

bbox mercator_bounds(const tile_id& tile) {
  const double span = tile_span(tile.z);
  const double minx = -mercator_half_extent + tile.x * span;
  const double maxy = mercator_half_extent - tile.y * span;
  return {minx, maxy - span, minx + span, maxy};
}

bbox lonlat_bounds(const tile_id& tile) { return mercator_to_lonlat(mercator_bounds(tile)); }

void lonlat_to_mercator(double lon, double lat, double& x, double& y) {
  const double clamped = std::clamp(lat, -mercator_max_latitude, mercator_max_latitude);
  const double radians = clamped * std::numbers::pi / 180;
  x = lon * mercator_half_extent / 180;
  y = std::log(std::tan(std::numbers::pi / 4 + radians / 2)) * mercator_half_extent / std::numbers::pi;
}

void mercator_to_lonlat(double x, double y, double& lon, double& lat) {
  lon = x * 180 / mercator_half_extent;
  lat = std::atan(std::sinh(y * std::numbers::pi / mercator_half_extent)) * 180 / std::numbers::pi;
}

bbox lonlat_to_mercator(const bbox& lonlat) {
  bbox result;
  lonlat_to_mercator(lonlat.minx, lonlat.miny, result.minx, result.miny);
  lonlat_to_mercator(lonlat.maxx, lonlat.maxy, result.maxx, result.maxy);
  return result;
}

bbox mercator_to_lonlat(const bbox& mercator) {
  bbox result;
  mercator_to_lonlat(mercator.minx, mercator.miny, result.minx, result.miny);
  mercator_to_lonlat(mercator.maxx, mercator.maxy, result.maxx, result.maxy);
  return result;
}

bool metatile::contains(const tile_id& tile) const {
  return tile.z == z && tile.x >= x && tile.x < x + size && tile.y >= y && tile.y < y + size;
}

std::vector<tile_id> metatile::tiles() const {
  std::vector<tile_id> result;
  result.reserve(std::size_t{size} * size);
  for (std::uint32_t row = 0; row < size; ++row) {
    for (std::uint32_t column = 0; column < size; ++column) {
      result.push_back({z, x + column, y + row});
    }
  }
  return result;
}

bbox metatile::mercator_bounds() const {
  const bbox top_left = tuilerie::mercator_bounds(tile_id{z, x, y});
  const double span = tile_span(z) * size;
  return {top_left.minx, top_left.maxy - span, top_left.minx + span, top_left.maxy};
}

metatile metatile_of(const tile_id& tile, std::uint32_t size) {
  const std::uint32_t clamped = std::min(size, tiles_per_side(tile.z));
  return {tile.z, tile.x - tile.x % clamped, tile.y - tile.y % clamped, clamped};
}

std::uint64_t tile_range::count() const {
  return std::uint64_t{max_x - min_x + 1} * (max_y - min_y + 1);
}

tile_range tiles_covering(const bbox& lonlat, int z) {
  const bbox mercator = lonlat_to_mercator(lonlat);
  const double span = tile_span(z);
  tile_range range{z, 0, 0, 0, 0};
  range.min_x = clamp_index((mercator.minx + mercator_half_extent) / span, z);
  range.max_x = clamp_index((mercator.maxx + mercator_half_extent) / span, z);
  range.min_y = clamp_index((mercator_half_extent - mercator.maxy) / span, z);
  range.max_y = clamp_index((mercator_half_extent - mercator.miny) / span, z);
  return range;
}

}  // namespace tuilerie
