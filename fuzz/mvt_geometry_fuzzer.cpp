// Fuzz target for the vector tile geometry pipeline (make_tile_points, make_tile_linestrings,
// make_tile_polygons) and the MVT writer. The input is a small text format, one directive a line,
// described in fuzz/README.md; for example:
//   extent 4096
//   buffer 64
//   simplify 1
//   polygon 0 0 100 0 100 100 0 100
//   hole 20 20 20 40 40 40 40 20
//   line -100 50 5000 50
//   points 10 10 4096 4096
//   tag name Orléans
// The fuzzer checks each stage's documented output, encodes one layer with every result, decodes it with
// mvt_tile_decoder and compares the decoded tile with what was encoded.
#include "mvt_tile_decoder.hpp"
#include "render/mvt_geometry.hpp"
#include "render/mvt_writer.hpp"

#include <geos_c.h>
#include <protozero/exception.hpp>

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace tuilerie::fuzz {
namespace {

// ---- Input -------------------------------------------------------------------------------------------

// Points, lines and polygons for the pipeline ("points", "line", "polygon", "hole"), and lines and polygons
// given straight to the writer in grid units ("raw-line", "raw-polygon", "raw-hole").
struct fuzz_input {
  tile_geometry_settings settings;
  std::vector<tile_coord> points;
  std::vector<tile_coord_path> linestrings;
  std::vector<tile_coord_polygon> polygons;
  std::vector<tile_linestring> raw_linestrings;
  std::vector<tile_polygon> raw_polygons;
  std::optional<std::uint64_t> id;
  std::vector<property> properties;
};

std::vector<std::string_view> split_words(std::string_view line) {
  std::vector<std::string_view> words;
  while (!line.empty()) {
    const auto start = line.find_first_not_of(" \t\r");
    if (start == std::string_view::npos) break;
    line.remove_prefix(start);
    const auto end = line.find_first_of(" \t\r");
    words.push_back(line.substr(0, end));
    line.remove_prefix(end == std::string_view::npos ? line.size() : end);
  }
  return words;
}

template <typename Number>
std::optional<Number> parse_number(std::string_view word) {
  Number value{};
  const auto [end, error] = std::from_chars(word.data(), word.data() + word.size(), value);
  if (error != std::errc{} || end != word.data() + word.size()) return std::nullopt;
  return value;
}

// The largest coordinate, in tile units, that a position inside the EPSG:3857 square can have: 2^24 tiles
// of 65536 units at zoom 24, the largest zoom and extent that the configuration accepts.
constexpr double mercator_square_in_tile_units = 1099511627776.0;  // 2^40

// Whether a coordinate is one the fuzzer uses: finite, because the renderer drops features with a
// non-finite one (vector_tile_renderer.cpp), and within +-2^40 tile units.
// NOTE: the renderer does let through finite coordinates far outside the Mercator square (a source in
// EPSG:3857 with wrong coordinates), and from about 1e18 tile units Boost.Geometry clips lines wrongly
// (fuzz/regressions/mvt_geometry-line-far-vertex-outside-buffer.txt). Setting the environment variable
// TUILERIE_FUZZ_ANY_FINITE_COORDINATE lifts the bound to replay such cases.
bool is_coordinate_in_range(double value) {
  static const bool any_finite = std::getenv("TUILERIE_FUZZ_ANY_FINITE_COORDINATE") != nullptr;
  return any_finite ? std::isfinite(value) : std::abs(value) <= mercator_square_in_tile_units;
}

std::optional<tile_coord_path> parse_coords(const std::vector<std::string_view>& words) {
  tile_coord_path path;
  for (std::size_t i = 1; i + 1 < words.size(); i += 2) {
    const auto x = parse_number<double>(words[i]);
    const auto y = parse_number<double>(words[i + 1]);
    if (!x || !y || !is_coordinate_in_range(*x) || !is_coordinate_in_range(*y)) return std::nullopt;
    path.push_back({*x, *y});
  }
  return path;
}

// Grid points for the writer, without consecutive duplicates as tile_linestring and tile_ring require.
// Coordinates stay within +-(2^30 - 1), so the delta between two points fits the 32-bit ParameterInteger
// of MVT 2.1 (section 4.3.2). The pipeline's output stays far inside that range.
std::optional<std::vector<tile_point>> parse_grid_points(const std::vector<std::string_view>& words) {
  constexpr std::int32_t limit = (1 << 30) - 1;
  std::vector<tile_point> points;
  for (std::size_t i = 1; i + 1 < words.size(); i += 2) {
    const auto x = parse_number<std::int32_t>(words[i]);
    const auto y = parse_number<std::int32_t>(words[i + 1]);
    if (!x || !y || std::abs(*x) > limit || std::abs(*y) > limit) return std::nullopt;
    const tile_point point{*x, *y};
    if (points.empty() || points.back() != point) points.push_back(point);
  }
  return points;
}

// A tag value's type follows its spelling: true/false, an integer, a decimal number, or else a string.
property_value parse_property_value(std::string_view word) {
  if (word == "true") return true;
  if (word == "false") return false;
  if (const auto integer = parse_number<std::int64_t>(word)) return *integer;
  if (const auto number = parse_number<double>(word)) return *number;
  return std::string(word);
}

// Applies one directive; returns false for a line that makes the whole input invalid.
bool apply_directive(const std::vector<std::string_view>& words, fuzz_input& input) {
  const std::string_view name = words.front();
  if (name == "extent" || name == "buffer") {
    const auto value = words.size() == 2 ? parse_number<std::uint32_t>(words[1]) : std::nullopt;
    if (!value) return false;
    (name == "extent" ? input.settings.extent : input.settings.buffer) = *value;
  } else if (name == "simplify") {
    const auto value = words.size() == 2 ? parse_number<double>(words[1]) : std::nullopt;
    if (!value) return false;
    input.settings.simplify = *value;
  } else if (name == "points" || name == "line" || name == "polygon" || name == "hole") {
    auto path = parse_coords(words);
    if (!path) return false;
    if (name == "points") input.points.insert(input.points.end(), path->begin(), path->end());
    if (name == "line") input.linestrings.push_back(std::move(*path));
    if (name == "polygon") input.polygons.push_back({std::move(*path), {}});
    if (name == "hole" && !input.polygons.empty()) input.polygons.back().interiors.push_back(std::move(*path));
  } else if (name == "raw-line" || name == "raw-polygon" || name == "raw-hole") {
    auto points = parse_grid_points(words);
    if (!points) return false;
    if (name == "raw-line") input.raw_linestrings.push_back(std::move(*points));
    if (name == "raw-polygon") input.raw_polygons.push_back({std::move(*points), {}});
    if (name == "raw-hole" && !input.raw_polygons.empty()) {
      input.raw_polygons.back().interiors.push_back(std::move(*points));
    }
  } else if (name == "id") {
    input.id = words.size() == 2 ? parse_number<std::uint64_t>(words[1]) : std::nullopt;
  } else if (name == "tag" && words.size() == 3) {
    input.properties.push_back({std::string(words[1]), parse_property_value(words[2])});
  }
  return true;
}

// The settings that the configuration loader accepts (server/config.cpp, read_vector): an extent that is a
// power of two from 256 to 65536, a buffer up to the extent, a simplification tolerance from 0 to 64.
bool has_valid_settings(const tile_geometry_settings& settings) {
  const std::uint32_t extent = settings.extent;
  return extent >= 256 && extent <= 65536 && (extent & (extent - 1)) == 0 && settings.buffer <= extent &&
         settings.simplify >= 0 && settings.simplify <= 64;
}

std::optional<fuzz_input> parse_input(std::string_view text) {
  fuzz_input input;
  while (!text.empty()) {
    const auto newline = text.find('\n');
    const std::vector<std::string_view> words = split_words(text.substr(0, newline));
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
    if (words.empty() || words.front().starts_with('#')) continue;
    if (!apply_directive(words, input)) return std::nullopt;
  }
  if (!has_valid_settings(input.settings)) return std::nullopt;
  return input;
}

// ---- Checks --------------------------------------------------------------------------------------------

std::string_view current_input;

[[noreturn]] void fail(const std::string& broken_invariant) {
  std::fprintf(stderr, "mvt_geometry_fuzzer: %s\n--- input ---\n", broken_invariant.c_str());
  std::fwrite(current_input.data(), 1, current_input.size(), stderr);
  std::fprintf(stderr, "\n-------------\n");
  std::abort();
}

// Twice the surveyor's area, exact in 64-bit integers for coordinates within the 32-bit grid.
std::int64_t twice_area(const std::vector<tile_point>& ring) {
  std::int64_t sum = 0;
  for (std::size_t i = 0; i + 1 < ring.size(); ++i) {
    sum += std::int64_t{ring[i].x} * ring[i + 1].y - std::int64_t{ring[i + 1].x} * ring[i].y;
  }
  return sum;
}

void check_inside_buffered_tile(const tile_point& point, const tile_geometry_settings& settings) {
  const std::int64_t low = -std::int64_t{settings.buffer};
  const std::int64_t high = std::int64_t{settings.extent} + settings.buffer;
  if (point.x < low || point.x > high || point.y < low || point.y > high) {
    fail("vertex (" + std::to_string(point.x) + "," + std::to_string(point.y) + ") outside the buffered tile");
  }
}

void check_no_consecutive_duplicates(const std::vector<tile_point>& path, const char* path_kind) {
  for (std::size_t i = 1; i < path.size(); ++i) {
    if (path[i] == path[i - 1]) fail(std::string(path_kind) + " with two consecutive equal points");
  }
}

void check_ring(const tile_ring& ring, bool exterior, const tile_geometry_settings& settings) {
  if (ring.size() < 4) fail("ring of fewer than 4 points");
  if (ring.front() != ring.back()) fail("ring that is not closed");
  check_no_consecutive_duplicates(ring, "ring");
  for (const tile_point& point : ring) check_inside_buffered_tile(point, settings);
  const std::int64_t area = twice_area(ring);
  if (exterior && area <= 0) fail("exterior ring with an area that is not positive: " + std::to_string(area) + "/2");
  if (!exterior && area >= 0) fail("interior ring with an area that is not negative: " + std::to_string(area) + "/2");
}

// A GEOS context of the fuzzer's own, apart from the one the code under test keeps per thread.
GEOSContextHandle_t geos() {
  static const GEOSContextHandle_t handle = GEOS_init_r();
  return handle;
}

GEOSGeometry* to_geos_ring(const tile_ring& ring) {
  GEOSCoordSequence* sequence = GEOSCoordSeq_create_r(geos(), static_cast<unsigned>(ring.size()), 2);
  for (unsigned i = 0; i < ring.size(); ++i) GEOSCoordSeq_setXY_r(geos(), sequence, i, ring[i].x, ring[i].y);
  return GEOSGeom_createLinearRing_r(geos(), sequence);
}

// Validity as GEOS judges it (OGC simple features rules), independent of the Boost.Geometry check that
// make_tile_polygons runs itself.
void check_valid_with_geos(const std::vector<tile_polygon>& polygons) {
  std::vector<GEOSGeometry*> parts;
  for (const tile_polygon& polygon : polygons) {
    std::vector<GEOSGeometry*> holes;
    for (const tile_ring& ring : polygon.interiors) holes.push_back(to_geos_ring(ring));
    parts.push_back(GEOSGeom_createPolygon_r(geos(), to_geos_ring(polygon.exterior), holes.data(),
                                             static_cast<unsigned>(holes.size())));
  }
  GEOSGeometry* multipolygon =
      GEOSGeom_createCollection_r(geos(), GEOS_MULTIPOLYGON, parts.data(), static_cast<unsigned>(parts.size()));
  const char valid = GEOSisValid_r(geos(), multipolygon);
  std::string reason;
  if (valid != 1) {
    char* text = GEOSisValidReason_r(geos(), multipolygon);
    reason = text ? text : "no reason given";
    GEOSFree_r(geos(), text);
  }
  GEOSGeom_destroy_r(geos(), multipolygon);
  if (valid != 1) fail("make_tile_polygons returned a multipolygon that GEOS finds invalid: " + reason);
}

void check_points(const std::vector<tile_point>& points, const fuzz_input& input) {
  if (points.size() > input.points.size()) fail("make_tile_points returned more points than it was given");
  for (const tile_point& point : points) check_inside_buffered_tile(point, input.settings);
}

void check_linestrings(const std::vector<tile_linestring>& linestrings, const fuzz_input& input) {
  for (const tile_linestring& linestring : linestrings) {
    if (linestring.size() < 2) fail("make_tile_linestrings returned a linestring of fewer than 2 points");
    check_no_consecutive_duplicates(linestring, "linestring");
    for (const tile_point& point : linestring) check_inside_buffered_tile(point, input.settings);
  }
}

void check_polygons(const tile_polygons& result, const fuzz_input& input) {
  if (result.repair == polygon_repair::dropped && !result.polygons.empty()) {
    fail("make_tile_polygons reported the geometry dropped but returned polygons");
  }
  for (const tile_polygon& polygon : result.polygons) {
    check_ring(polygon.exterior, true, input.settings);
    for (const tile_ring& ring : polygon.interiors) check_ring(ring, false, input.settings);
  }
  check_valid_with_geos(result.polygons);
}

// ---- What the writer should encode ---------------------------------------------------------------------

decoded_part to_decoded(const std::vector<tile_point>& path) {
  decoded_part part;
  for (const tile_point& point : path) part.push_back({point.x, point.y});
  return part;
}

// The writer's contract for rings (mvt_writer.hpp) leaves out rings of fewer than 4 points, open rings and
// rings of zero area. It writes the others with the exterior's area positive and the holes' negative.
std::optional<decoded_part> expected_ring(const tile_ring& ring, bool exterior) {
  if (ring.size() < 4 || ring.front() != ring.back()) return std::nullopt;
  const std::int64_t area = twice_area(ring);
  if (area == 0) return std::nullopt;
  decoded_part part = to_decoded(ring);
  if ((area > 0) != exterior) std::reverse(part.begin(), part.end());
  return part;
}

std::vector<decoded_part> expected_rings(const std::vector<tile_polygon>& polygons) {
  std::vector<decoded_part> rings;
  for (const tile_polygon& polygon : polygons) {
    const auto exterior = expected_ring(polygon.exterior, true);
    if (!exterior) continue;
    rings.push_back(*exterior);
    for (const tile_ring& interior : polygon.interiors) {
      if (const auto hole = expected_ring(interior, false)) rings.push_back(*hole);
    }
  }
  return rings;
}

std::vector<decoded_part> expected_linestrings(const std::vector<tile_linestring>& linestrings) {
  std::vector<decoded_part> parts;
  for (const tile_linestring& linestring : linestrings) {
    if (linestring.size() >= 2) parts.push_back(to_decoded(linestring));
  }
  return parts;
}

struct expected_feature {
  int type = 0;
  std::vector<decoded_part> parts;
};

// The decoded form of a property value: integers as uint_value from 0 up and sint_value below, doubles as
// double_value, never float_value (mvt_writer.hpp).
decoded_value expected_value(const property_value& value) {
  if (const auto* text = std::get_if<std::string>(&value)) return *text;
  if (const auto* number = std::get_if<double>(&value)) return *number;
  if (const auto* flag = std::get_if<bool>(&value)) return *flag;
  const std::int64_t integer = std::get<std::int64_t>(value);
  if (integer >= 0) return decoded_uint{static_cast<std::uint64_t>(integer)};
  return decoded_sint{integer};
}

// Bitwise equality, so that a NaN property compares equal to itself.
bool same_value(const decoded_value& a, const decoded_value& b) {
  if (a.index() != b.index()) return false;
  if (const auto* x = std::get_if<double>(&a)) return std::bit_cast<std::uint64_t>(*x) == std::bit_cast<std::uint64_t>(std::get<double>(b));
  if (const auto* x = std::get_if<float>(&a)) return std::bit_cast<std::uint32_t>(*x) == std::bit_cast<std::uint32_t>(std::get<float>(b));
  return a == b;
}

// ---- Encoding and decoding -----------------------------------------------------------------------------

void check_properties(const decoded_layer& layer, const decoded_feature& feature,
                      const std::vector<property>& properties) {
  // A key repeated in the input keeps its first value.
  std::vector<const property*> expected;
  std::set<std::string> seen;
  for (const property& entry : properties) {
    if (seen.insert(entry.key).second) expected.push_back(&entry);
  }
  if (feature.tags.size() != expected.size()) fail("feature has " + std::to_string(feature.tags.size()) + " tags, expected " + std::to_string(expected.size()));
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const auto [key, value] = feature.tags[i];
    if (layer.keys[key] != expected[i]->key) fail("tag " + std::to_string(i) + " has another key");
    if (!same_value(layer.values[value], expected_value(expected[i]->value))) {
      fail("tag '" + expected[i]->key + "' decodes to another value or value type");
    }
  }
}

void check_tables_are_unique(const decoded_layer& layer) {
  if (std::set<std::string>(layer.keys.begin(), layer.keys.end()).size() != layer.keys.size()) {
    fail("layer keys table has a key twice");
  }
  for (std::size_t i = 0; i < layer.values.size(); ++i) {
    for (std::size_t j = i + 1; j < layer.values.size(); ++j) {
      if (same_value(layer.values[i], layer.values[j])) fail("layer values table has a value twice");
    }
  }
}

void check_tile(const std::string& tile, const std::vector<expected_feature>& expected, const fuzz_input& input) {
  if (expected.empty()) {
    if (!tile.empty()) fail("encode_tile wrote a tile although no feature had geometry");
    return;
  }
  std::vector<decoded_layer> layers;
  try {
    layers = decode_tile(tile);
  } catch (const invalid_tile& error) {
    fail(std::string("the encoded tile breaks MVT 2.1: ") + error.what());
  } catch (const protozero::exception& error) {
    fail(std::string("the encoded tile is not a protobuf message: ") + error.what());
  }
  if (layers.size() != 1) fail("the tile has " + std::to_string(layers.size()) + " layers, expected 1");
  const decoded_layer& layer = layers.front();
  if (layer.version != 2 || layer.name != "fuzz" || layer.extent != input.settings.extent) {
    fail("the layer's version, name or extent is not what was encoded");
  }
  if (layer.features.size() != expected.size()) fail("the layer has another number of features");
  check_tables_are_unique(layer);
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const decoded_feature& feature = layer.features[i];
    if (feature.id != input.id) fail("feature " + std::to_string(i) + " has another id");
    if (feature.type != expected[i].type) fail("feature " + std::to_string(i) + " has another geometry type");
    if (feature.parts != expected[i].parts) fail("feature " + std::to_string(i) + " decodes to another geometry");
    check_properties(layer, feature, input.properties);
  }
}

// Adds one feature and records what it should decode to; an empty expectation means the writer must skip it.
void add_feature(layer_builder& layer, std::vector<expected_feature>& expected, const fuzz_input& input,
                 const feature_geometry& geometry, expected_feature expectation) {
  const bool added = layer.add_feature(input.id, geometry, input.properties);
  if (added != !expectation.parts.empty()) {
    fail(added ? "add_feature accepted a geometry with no usable part" : "add_feature rejected a usable geometry");
  }
  if (added) expected.push_back(std::move(expectation));
}

void run(const fuzz_input& input) {
  const std::vector<tile_point> points = make_tile_points(input.points, input.settings);
  check_points(points, input);
  const std::vector<tile_linestring> linestrings = make_tile_linestrings(input.linestrings, input.settings);
  check_linestrings(linestrings, input);
  const tile_polygons polygons = make_tile_polygons(input.polygons, input.settings);
  check_polygons(polygons, input);

  layer_builder layer("fuzz", input.settings.extent);
  std::vector<expected_feature> expected;
  std::vector<decoded_part> point_parts;
  if (!points.empty()) point_parts.push_back(to_decoded(points));
  add_feature(layer, expected, input, points, {1, point_parts});
  add_feature(layer, expected, input, linestrings, {2, expected_linestrings(linestrings)});
  add_feature(layer, expected, input, polygons.polygons, {3, expected_rings(polygons.polygons)});
  add_feature(layer, expected, input, input.raw_linestrings, {2, expected_linestrings(input.raw_linestrings)});
  add_feature(layer, expected, input, input.raw_polygons, {3, expected_rings(input.raw_polygons)});

  // A layer without features is left out of the tile, so its name may repeat another layer's.
  const layer_builder empty("fuzz", input.settings.extent);
  check_tile(encode_tile({layer, empty}), expected, input);
}

}  // namespace
}  // namespace tuilerie::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace fuzz = tuilerie::fuzz;
  fuzz::current_input = std::string_view(reinterpret_cast<const char*>(data), size);
  if (const std::optional<fuzz::fuzz_input> input = fuzz::parse_input(fuzz::current_input)) fuzz::run(*input);
  return 0;
}
