// Tile format names and media types.
#include "render/tile_format.hpp"

namespace tuilerie {

std::optional<tile_format> parse_tile_format(std::string_view extension) {
  if (extension == "png") return tile_format::png;
  if (extension == "webp") return tile_format::webp;
  if (extension == "mvt" || extension == "pbf") return tile_format::mvt;
  return std::nullopt;
}

std::string_view extension_of(tile_format format) {
  switch (format) {
    case tile_format::png: return "png";
    case tile_format::webp: return "webp";
    case tile_format::mvt: return "mvt";
  }
  return "bin";
}

std::string_view content_type_of(tile_format format) {
  switch (format) {
    case tile_format::png: return "image/png";
    case tile_format::webp: return "image/webp";
    case tile_format::mvt: return "application/vnd.mapbox-vector-tile";
  }
  return "application/octet-stream";
}

bool is_raster(tile_format format) { return format != tile_format::mvt; }

}  // namespace tuilerie
