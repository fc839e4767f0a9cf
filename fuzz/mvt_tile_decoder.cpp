// Decoding of MVT 2.1 tiles with protozero's pbf_reader, checking the specification's rules on the way.
#include "mvt_tile_decoder.hpp"

#include <protozero/pbf_reader.hpp>
#include <protozero/varint.hpp>

#include <cstddef>
#include <set>
#include <string>
#include <utility>

namespace tuilerie::fuzz {

namespace {

// Field numbers of vector_tile.proto (MVT 2.1).
constexpr protozero::pbf_tag_type tile_layers = 3;
constexpr protozero::pbf_tag_type layer_name = 1, layer_features = 2, layer_keys = 3, layer_values = 4,
                                  layer_extent = 5, layer_version = 15;
constexpr protozero::pbf_tag_type feature_id = 1, feature_tags = 2, feature_type = 3, feature_geometry = 4;

constexpr std::uint32_t move_to = 1, line_to = 2, close_path = 7;
constexpr int point_type = 1, linestring_type = 2, polygon_type = 3;

// Reads the integers of the geometry field, one at a time, with the cursor of section 4.3.
class geometry_reader {
 public:
  explicit geometry_reader(std::vector<std::uint32_t> integers) : integers_(std::move(integers)) {}

  bool done() const { return next_ == integers_.size(); }

  // The command id and count of the next CommandInteger.
  std::pair<std::uint32_t, std::uint32_t> command() {
    const std::uint32_t integer = take();
    return {integer & 0x7, integer >> 3};
  }

  // The point that the next pair of ParameterIntegers moves the cursor to, and whether both were 0.
  std::pair<decoded_point, bool> point() {
    const std::int32_t dx = protozero::decode_zigzag32(take());
    const std::int32_t dy = protozero::decode_zigzag32(take());
    cursor_.x += dx;
    cursor_.y += dy;
    return {cursor_, dx == 0 && dy == 0};
  }

 private:
  std::uint32_t take() {
    if (done()) throw invalid_tile("geometry ends inside a command: fewer ParameterIntegers than its count");
    return integers_[next_++];
  }

  std::vector<std::uint32_t> integers_;
  std::size_t next_ = 0;
  decoded_point cursor_;
};

// Section 4.3.4.2: one MoveTo with a count above 0.
std::vector<decoded_part> decode_points(geometry_reader& reader) {
  const auto [id, count] = reader.command();
  if (id != move_to || count == 0) throw invalid_tile("a point geometry must be one MoveTo with a count above 0");
  decoded_part points;
  for (std::uint32_t i = 0; i < count; ++i) points.push_back(reader.point().first);
  if (!reader.done()) throw invalid_tile("a point geometry has commands after its MoveTo");
  return {points};
}

// A MoveTo of count 1 then a LineTo of at least min_line_to points, none repeating the cursor (4.3.3.2).
decoded_part decode_path(geometry_reader& reader, std::uint32_t min_line_to) {
  const auto [move_id, move_count] = reader.command();
  if (move_id != move_to || move_count != 1) throw invalid_tile("a linestring or ring must start with MoveTo of count 1");
  decoded_part path{reader.point().first};
  const auto [line_id, line_count] = reader.command();
  if (line_id != line_to || line_count < min_line_to) {
    throw invalid_tile("a linestring needs LineTo of count 1 or more, a ring LineTo of count 2 or more");
  }
  for (std::uint32_t i = 0; i < line_count; ++i) {
    const auto [point, zero_length] = reader.point();
    if (zero_length) throw invalid_tile("a LineTo parameter pair is (0, 0), a zero-length segment");
    path.push_back(point);
  }
  return path;
}

std::vector<decoded_part> decode_linestrings(geometry_reader& reader) {
  std::vector<decoded_part> linestrings;
  while (!reader.done()) linestrings.push_back(decode_path(reader, 1));
  if (linestrings.empty()) throw invalid_tile("a linestring geometry has no command");
  return linestrings;
}

// Section 4.3.4.4: MoveTo, LineTo of count 2 or more, ClosePath of count 1, per ring. The ring is closed
// again here by repeating its first point, which the encoding leaves out.
std::vector<decoded_part> decode_rings(geometry_reader& reader) {
  std::vector<decoded_part> rings;
  while (!reader.done()) {
    decoded_part ring = decode_path(reader, 2);
    if (ring.back() == ring.front()) throw invalid_tile("a ring repeats its first point before ClosePath");
    const auto [id, count] = reader.command();
    if (id != close_path || count != 1) throw invalid_tile("a ring must end with ClosePath of count 1");
    ring.push_back(ring.front());
    rings.push_back(std::move(ring));
  }
  if (rings.empty()) throw invalid_tile("a polygon geometry has no command");
  return rings;
}

std::vector<decoded_part> decode_geometry(int type, std::vector<std::uint32_t> integers) {
  geometry_reader reader(std::move(integers));
  if (type == point_type) return decode_points(reader);
  if (type == linestring_type) return decode_linestrings(reader);
  if (type == polygon_type) return decode_rings(reader);
  throw invalid_tile("feature type " + std::to_string(type) + " is not POINT, LINESTRING or POLYGON");
}

decoded_feature decode_feature(protozero::pbf_reader message) {
  decoded_feature feature;
  std::vector<std::uint32_t> tags;
  std::vector<std::uint32_t> geometry;
  bool has_geometry = false;
  while (message.next()) {
    switch (message.tag()) {
      case feature_id: feature.id = message.get_uint64(); break;
      case feature_tags: {
        const auto range = message.get_packed_uint32();
        tags.insert(tags.end(), range.begin(), range.end());
        break;
      }
      case feature_type: feature.type = message.get_enum(); break;
      case feature_geometry: {
        const auto range = message.get_packed_uint32();
        geometry.insert(geometry.end(), range.begin(), range.end());
        has_geometry = true;
        break;
      }
      default: throw invalid_tile("feature has unknown field " + std::to_string(message.tag()));
    }
  }
  if (tags.size() % 2 != 0) throw invalid_tile("feature has an odd number of tags");
  for (std::size_t i = 0; i < tags.size(); i += 2) feature.tags.emplace_back(tags[i], tags[i + 1]);
  if (!has_geometry) throw invalid_tile("feature has no geometry");
  feature.parts = decode_geometry(feature.type, std::move(geometry));
  return feature;
}

decoded_value decode_value(protozero::pbf_reader message) {
  std::optional<decoded_value> value;
  while (message.next()) {
    if (value) throw invalid_tile("a Value message has more than one field");
    switch (message.tag()) {
      case 1: value = std::string(message.get_string()); break;
      case 2: value = message.get_float(); break;
      case 3: value = message.get_double(); break;
      case 4: value = message.get_int64(); break;
      case 5: value = decoded_uint{message.get_uint64()}; break;
      case 6: value = decoded_sint{message.get_sint64()}; break;
      case 7: value = message.get_bool(); break;
      default: throw invalid_tile("a Value message has unknown field " + std::to_string(message.tag()));
    }
  }
  if (!value) throw invalid_tile("a Value message is empty");
  return *value;
}

// Section 4.4: every tag pair points into the tables and names each key once per feature.
void check_tags(const decoded_layer& layer) {
  for (const decoded_feature& feature : layer.features) {
    std::set<std::uint32_t> keys;
    for (const auto& [key, value] : feature.tags) {
      if (key >= layer.keys.size() || value >= layer.values.size()) {
        throw invalid_tile("layer '" + layer.name + "' has a tag index beyond its keys or values");
      }
      if (!keys.insert(key).second) throw invalid_tile("layer '" + layer.name + "' has a feature with a key twice");
    }
  }
}

decoded_layer decode_layer(protozero::pbf_reader message) {
  decoded_layer layer;
  bool has_name = false;
  while (message.next()) {
    switch (message.tag()) {
      case layer_version: layer.version = message.get_uint32(); break;
      case layer_name:
        layer.name = std::string(message.get_string());
        has_name = true;
        break;
      case layer_features: layer.features.push_back(decode_feature(message.get_message())); break;
      case layer_keys: layer.keys.emplace_back(message.get_string()); break;
      case layer_values: layer.values.push_back(decode_value(message.get_message())); break;
      case layer_extent: layer.extent = message.get_uint32(); break;
      default: throw invalid_tile("layer has unknown field " + std::to_string(message.tag()));
    }
  }
  if (!has_name) throw invalid_tile("a layer has no name");
  check_tags(layer);
  return layer;
}

}  // namespace

std::vector<decoded_layer> decode_tile(std::string_view tile) {
  std::vector<decoded_layer> layers;
  protozero::pbf_reader message(tile.data(), tile.size());
  while (message.next()) {
    if (message.tag() != tile_layers) throw invalid_tile("tile has unknown field " + std::to_string(message.tag()));
    layers.push_back(decode_layer(message.get_message()));
  }
  return layers;
}

}  // namespace tuilerie::fuzz
