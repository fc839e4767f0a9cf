// Tile path parsing, strict enough that nothing malformed reaches rendering.
#include "server/tile_path.hpp"

#include "server/config.hpp"

#include <algorithm>
#include <charconv>
#include <optional>
#include <vector>

namespace tuilerie {

namespace {

// Splits on '/', keeping empty segments so that "a//b" is rejected.
std::vector<std::string_view> split_segments(std::string_view path) {
  std::vector<std::string_view> segments;
  std::size_t start = 0;
  while (true) {
    const auto slash = path.find('/', start);
    segments.push_back(path.substr(start, slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return segments;
}

tile_path_error malformed(std::string message) {
  return tile_path_error{tile_path_error::kind::malformed, std::move(message)};
}

tile_path_error outside_grid(const tile_id& tile) {
  const std::string last = std::to_string(tiles_per_side(tile.z) - 1);
  return tile_path_error{tile_path_error::kind::outside_grid,
                         "tile outside the grid; at zoom " + std::to_string(tile.z) + " x and y go from 0 to " + last};
}

}  // namespace

std::optional<std::uint32_t> parse_decimal_index(std::string_view text) {
  if (text.empty() || text.size() > 9) return std::nullopt;
  if (text.size() > 1 && text.front() == '0') return std::nullopt;
  if (!std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) return std::nullopt;
  std::uint32_t value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

std::variant<tile_request, tile_path_error> parse_tile_path(std::string_view path) {
  const auto segments = split_segments(path);
  if (segments.size() != 4) {
    return malformed("a tile path is /tiles/{tileset}/{z}/{x}/{y}.{format}, for example /tiles/flood/12/2070/1410.png");
  }
  tile_request request;
  if (!is_valid_tileset_name(segments[0])) {
    return malformed("invalid tileset name; names have 1 to 64 letters, digits, '-' or '_'");
  }
  request.tileset = std::string(segments[0]);

  const auto z = parse_decimal_index(segments[1]);
  if (!z || *z > static_cast<std::uint32_t>(max_zoom)) {
    return malformed("invalid zoom; z is a whole number from 0 to " + std::to_string(max_zoom));
  }
  request.tile.z = static_cast<int>(*z);

  const auto x = parse_decimal_index(segments[2]);
  if (!x) return malformed("invalid x; x is a whole number without sign or leading zeros");
  request.tile.x = *x;

  std::string_view last = segments[3];
  const auto dot = last.rfind('.');
  if (dot == std::string_view::npos) return malformed("missing format; end the path with .png, .webp or .mvt");
  const auto format = parse_tile_format(last.substr(dot + 1));
  if (!format) return malformed("unknown format; use .png, .webp, .mvt or .pbf");
  request.format = *format;
  std::string_view row = last.substr(0, dot);
  if (row.ends_with("@2x")) {
    if (!is_raster(request.format)) return malformed("@2x applies to .png and .webp tiles only");
    request.scale = 2;
    row.remove_suffix(3);
  }
  const auto y = parse_decimal_index(row);
  if (!y) return malformed("invalid y; y is a whole number without sign or leading zeros, optionally followed by @2x");
  request.tile.y = *y;
  if (!is_in_grid(request.tile)) return outside_grid(request.tile);
  return request;
}

}  // namespace tuilerie
