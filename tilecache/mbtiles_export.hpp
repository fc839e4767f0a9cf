// Export of a tileset's fresh cached tiles to an MBTiles 1.3 file (SQLite).
#pragma once

#include "render/tile_format.hpp"
#include "render/tile_grid.hpp"
#include "tilecache/tile_store.hpp"

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace tuilerie {

// An MBTiles file that cannot be written. The message names the file and
// SQLite's or the file system's reason.
class mbtiles_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The rows of the MBTiles metadata table that come from the tileset's
// configuration. The exporter adds the others from the tiles it wrote:
// format, bounds, minzoom, maxzoom, version, type=overlay, scheme=tms, and
// tuilerie_data_version (the tiles' data version in hex). The bounds row is
// the extent of the tiles written at the highest zoom, because MBTiles 1.3
// defines bounds as the rendered area that every zoom covers, and tile edges
// keep GDAL's pixel grid on the tiles' pixels. The version row is the newest
// tile's creation time in Unix seconds.
struct mbtiles_metadata {
  std::string name;
  std::string description;
  std::string attribution;
  // The default view. A center outside the bounds row moves to its middle,
  // and the zoom is clamped to the zooms written.
  double center_lon = 0;
  double center_lat = 0;
  int center_zoom = 0;
  // For vector tiles, the `json` row: an object with a vector_layers array.
  // Empty for raster tiles.
  std::string json;
};

struct mbtiles_export_request {
  std::string tileset;
  tile_format format = tile_format::png;
  std::uint8_t scale = 1;
  std::uint64_t data_version = 0;  // entries of other versions are stale and left out
  std::filesystem::path output;
  mbtiles_metadata metadata;
};

struct mbtiles_export_result {
  std::uint64_t tiles_written = 0;
  std::uint64_t bytes_written = 0;  // tile data only
  std::uint64_t stale_skipped = 0;  // of another data version, damaged, or deleted during the export
  std::uint64_t empty_skipped = 0;  // tiles with no data, which MBTiles represents by absence
  int minzoom = 0;                  // of the tiles written; meaningless when none was
  int maxzoom = 0;
};

// The MBTiles format name of a tile format: "png", "webp", or "pbf" for
// gzip-compressed Mapbox Vector Tiles.
std::string mbtiles_format_name(tile_format format);

// Writes the cached tiles of the request's tileset, format and scale whose
// data version matches into an MBTiles 1.3 file: tile_row in TMS order
// (2^z - 1 - y), a unique index on the tile columns, and the metadata rows.
// Tile bytes are copied as cached, so vector tiles stay gzip-compressed, as
// MBTiles requires for pbf. The file is written beside the output under a
// temporary name and renamed over it once complete, so a reader never sees
// half a file. When no tile qualifies, nothing is written and the result's
// tiles_written is 0. Throws mbtiles_error, and cache_error when the store
// cannot be read.
mbtiles_export_result export_mbtiles(tile_store& store, const mbtiles_export_request& request);

}  // namespace tuilerie
