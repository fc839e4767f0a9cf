// Helpers for the vector tile tests: temporary files, fixture styles, and two independent decoders.
#pragma once

#include "render/tile_grid.hpp"

#include <nlohmann/json.hpp>
#include <ogr_geometry.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace tuilerie::mvt_test {

// Tile 14/8299/5636, central Paris, where most fixtures lie.
inline constexpr tile_id paris_tile{14, 8299, 5636};

// A fresh directory under the system's temporary directory, removed with its content on destruction.
class temporary_directory {
 public:
  temporary_directory();
  ~temporary_directory();
  temporary_directory(const temporary_directory&) = delete;
  temporary_directory& operator=(const temporary_directory&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

void write_file(const std::filesystem::path& file, std::string_view content);

std::filesystem::path source_path(const std::filesystem::path& relative);

// Tile units of a lon/lat position, from the XYZ formulas x = (fx - X) * extent and
// y = (fy - Y) * extent with fx = (lon + 180) / 360 * 2^z and fy = (1 - asinh(tan(lat)) / pi) / 2 * 2^z.
// Written apart from the code under test, which goes through EPSG:3857 metres.
struct tile_position {
  double x = 0;
  double y = 0;
};
tile_position lonlat_to_tile(double lon, double lat, const tile_id& tile, double extent = 4096);

// The inverse of lonlat_to_tile, to place fixtures at chosen tile positions.
void tile_to_lonlat(const tile_position& position, const tile_id& tile, double extent, double& lon,
                    double& lat);

struct decoded_point {
  std::int64_t x = 0;
  std::int64_t y = 0;

  friend bool operator==(const decoded_point&, const decoded_point&) = default;
};

// Prints "(x,y)" in test failure messages.
void PrintTo(const decoded_point& point, std::ostream* stream);

// One point group, linestring or ring (closed) in raw tile coordinates.
using decoded_part = std::vector<decoded_point>;

struct decoded_feature {
  std::optional<std::uint64_t> id;
  int type = 0;  // MVT GeomType: 1 point, 2 linestring, 3 polygon
  nlohmann::json properties = nlohmann::json::object();
  std::vector<decoded_part> parts;
  // Rings of each polygon as GDAL grouped them (exterior first); empty for other decoders and types.
  std::vector<std::size_t> polygon_ring_counts;
};

struct decoded_layer {
  std::string name;
  std::optional<int> version;           // only the JavaScript decoder reports it
  std::optional<std::uint32_t> extent;  // only the JavaScript decoder reports it
  std::vector<decoded_feature> features;
};

struct decoded_tile {
  std::vector<decoded_layer> layers;

  // The layer of that name, or null.
  const decoded_layer* find(std::string_view name) const;
};

// The reason the JavaScript decoder cannot run (node or the npm packages of tests/js missing), or
// nothing when it can.
std::optional<std::string> node_decoder_missing();

// Decodes tiles with tests/js/decode-mvt.mjs (@mapbox/vector-tile). Fails the test on a decoder error.
std::vector<decoded_tile> decode_with_node(const std::vector<std::filesystem::path>& files);

// Decodes a tile with GDAL's MVT driver (CLIP=NO, so the buffer stays) and converts its EPSG:3857
// coordinates back to tile units. Fails the test when a coordinate is not on the integer grid.
decoded_tile decode_with_gdal(const std::filesystem::path& file, const tile_id& tile,
                              std::uint32_t extent = 4096);

// Expects both decoders to report the same layers, features, ids, types, attributes and coordinates.
// Numbers are compared as doubles, because JavaScript reads integers beyond 2^53 approximately.
void expect_same_content(const decoded_tile& gdal, const decoded_tile& node);

// The ring's area by the surveyor's formula in tile coordinates: positive for MVT exteriors.
double surveyor_area(const decoded_part& ring);

// Maps a tile position to the coordinates of the rebuilt geometry.
using position_mapping = std::function<OGRRawPoint(const decoded_point&)>;

// Rebuilds the polygons of a decoded polygon feature by the MVT 2.1 rule: a ring with a positive
// area starts a polygon, a negative one is a hole of the current polygon. Returns null when a hole
// comes before any exterior. Without a mapping, coordinates stay in tile units.
std::unique_ptr<OGRMultiPolygon> to_multipolygon(const decoded_feature& feature,
                                                 const position_mapping& mapping = {});

// Whether GEOS (through GDAL) finds the rebuilt multipolygon valid, in tile units.
bool is_valid_multipolygon(const decoded_feature& feature);

// A field of `protoc --decode_raw` output: a scalar (value set) or a message (fields set).
struct raw_field {
  std::string number;
  std::string value;
  bool is_message = false;
  std::vector<raw_field> fields;
};

// Parses the output of `protoc --decode_raw` on the file into its top-level fields.
std::vector<raw_field> decode_raw(const std::filesystem::path& file);

// A layer of a generated Mapnik style: its datasource parameters and srs.
struct style_layer {
  std::string name;
  std::map<std::string, std::string> parameters;
  std::string srs = "epsg:4326";
};

// Writes a Mapnik XML style with one drawn layer per entry and returns its path.
std::filesystem::path write_style(const std::filesystem::path& directory,
                                  const std::vector<style_layer>& layers);

// A GeoJSON FeatureCollection of the given features (JSON objects with "properties" and "geometry").
std::string feature_collection(const std::vector<nlohmann::json>& features);

}  // namespace tuilerie::mvt_test
