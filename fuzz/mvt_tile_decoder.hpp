// A strict Mapbox Vector Tile 2.1 decoder for the fuzzers, written from the specification apart from
// render/mvt_writer.cpp, so that the writer's output is checked by code that does not share its mistakes.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace tuilerie::fuzz {

// A tile that breaks the MVT 2.1 specification; the message names the rule.
class invalid_tile : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct decoded_point {
  std::int64_t x = 0;
  std::int64_t y = 0;

  friend bool operator==(const decoded_point&, const decoded_point&) = default;
};

// A point group, a linestring, or a ring closed again by repeating its first point after ClosePath.
using decoded_part = std::vector<decoded_point>;

// A Value message's content: string_value, float_value, double_value, int_value (int64), uint_value,
// sint_value or bool_value. uint_value and sint_value are kept apart to check which one the writer chose.
struct decoded_uint {
  std::uint64_t value = 0;
  friend bool operator==(const decoded_uint&, const decoded_uint&) = default;
};
struct decoded_sint {
  std::int64_t value = 0;
  friend bool operator==(const decoded_sint&, const decoded_sint&) = default;
};
using decoded_value = std::variant<std::string, float, double, std::int64_t, decoded_uint, decoded_sint, bool>;

struct decoded_feature {
  std::optional<std::uint64_t> id;
  int type = 0;  // GeomType: 1 point, 2 linestring, 3 polygon
  std::vector<std::pair<std::uint32_t, std::uint32_t>> tags;  // key and value indices
  std::vector<decoded_part> parts;
};

struct decoded_layer {
  std::uint32_t version = 1;  // the specification's default when the field is absent
  std::string name;
  std::uint32_t extent = 4096;  // the specification's default when the field is absent
  std::vector<decoded_feature> features;
  std::vector<std::string> keys;
  std::vector<decoded_value> values;
};

// Decodes a Tile message. Throws invalid_tile for a structure that the specification forbids, such as an
// unknown geometry command, a MoveTo with a count other than 1 in a linestring or polygon, a tag index
// beyond the tables, an odd tags count or a layer without a name. Throws protozero::exception for bytes
// that are not a protobuf message.
std::vector<decoded_layer> decode_tile(std::string_view tile);

}  // namespace tuilerie::fuzz
