// Tile formats served by Tuilerie, with their file extensions and media types.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace tuilerie {

// The numeric values are stored in cache keys: never renumber them.
enum class tile_format : std::uint8_t { png = 1, webp = 2, mvt = 3 };

// Parses a URL extension ("png", "webp", "mvt", or "pbf" as an alias of mvt).
std::optional<tile_format> parse_tile_format(std::string_view extension);

std::string_view extension_of(tile_format format);
std::string_view content_type_of(tile_format format);
bool is_raster(tile_format format);

}  // namespace tuilerie
