// Parses tile URL paths: /tiles/{tileset}/{z}/{x}/{y}[@2x].{format}.
#pragma once

#include "render/tile_format.hpp"
#include "render/tile_grid.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace tuilerie {

struct tile_request {
  std::string tileset;
  tile_id tile;
  tile_format format = tile_format::png;
  std::uint8_t scale = 1;  // 2 for "@2x"
};

// Why a path is not a valid tile request. The HTTP layer answers 400 for a
// malformed path and 404 for a well-formed tile outside the grid.
struct tile_path_error {
  enum class kind { malformed, outside_grid };
  kind reason = kind::malformed;
  std::string message;
};

// Parses the part after "/tiles/": "{tileset}/{z}/{x}/{y}[@2x].{ext}". Accepts
// only plain decimal numbers without sign or leading zeros, z up to max_zoom
// and x, y inside the grid; the grid check is here so that no later stage
// ever sees an out-of-grid tile. Tileset names are not looked up here.
std::variant<tile_request, tile_path_error> parse_tile_path(std::string_view path);

// Parses a canonical unsigned decimal of at most 9 digits: no sign, no
// leading zero, no spaces. Returns nullopt otherwise.
std::optional<std::uint32_t> parse_decimal_index(std::string_view text);

}  // namespace tuilerie
