// Protobuf encoding of MVT 2.1 tiles: layers, features, geometry commands and attribute tables.
#include "render/mvt_writer.hpp"

#include <protozero/pbf_builder.hpp>
#include <protozero/varint.hpp>

#include <algorithm>
#include <set>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace tuilerie {

namespace {

// Field numbers of the MVT 2.1 protobuf schema (vector_tile.proto).
enum class tile_field : protozero::pbf_tag_type { layers = 3 };

enum class layer_field : protozero::pbf_tag_type {
  name = 1,
  features = 2,
  keys = 3,
  values = 4,
  extent = 5,
  version = 15,
};

enum class feature_field : protozero::pbf_tag_type { id = 1, tags = 2, type = 3, geometry = 4 };

enum class value_field : protozero::pbf_tag_type {
  string_value = 1,
  double_value = 3,
  uint_value = 5,
  sint_value = 6,
  bool_value = 7,
};

enum class geometry_type : std::int32_t { point = 1, linestring = 2, polygon = 3 };

constexpr std::uint32_t mvt_version = 2;

enum class command : std::uint32_t { move_to = 1, line_to = 2, close_path = 7 };

// Builds the geometry field: command integers and zigzag-encoded deltas from a cursor that carries
// over from one part to the next (MVT 2.1 section 4.3).
class geometry_encoder {
 public:
  void add_points(const std::vector<tile_point>& points) {
    add_command(command::move_to, points.size());
    for (const tile_point& point : points) add_delta(point);
  }

  // Expects at least 2 points.
  void add_linestring(const tile_linestring& linestring) {
    add_command(command::move_to, 1);
    add_delta(linestring.front());
    add_command(command::line_to, linestring.size() - 1);
    for (std::size_t i = 1; i < linestring.size(); ++i) add_delta(linestring[i]);
  }

  // Expects a closed ring of at least 4 points. The closing point is not written: ClosePath
  // draws that segment.
  void add_ring(const tile_ring& ring) {
    add_command(command::move_to, 1);
    add_delta(ring.front());
    add_command(command::line_to, ring.size() - 2);
    for (std::size_t i = 1; i + 1 < ring.size(); ++i) add_delta(ring[i]);
    add_command(command::close_path, 1);
  }

  const std::vector<std::uint32_t>& integers() const { return integers_; }

 private:
  void add_command(command id, std::size_t count) {
    integers_.push_back(static_cast<std::uint32_t>(id) | (static_cast<std::uint32_t>(count) << 3));
  }

  void add_delta(const tile_point& point) {
    integers_.push_back(protozero::encode_zigzag32(point.x - cursor_.x));
    integers_.push_back(protozero::encode_zigzag32(point.y - cursor_.y));
    cursor_ = point;
  }

  std::vector<std::uint32_t> integers_;
  tile_point cursor_;
};

bool is_usable_ring(const tile_ring& ring) { return ring.size() >= 4 && ring.front() == ring.back(); }

// The ring in the direction whose surveyor's area has the wanted sign, or nothing when the area is 0.
std::optional<tile_ring> oriented(const tile_ring& ring, bool exterior) {
  const double area = signed_area(ring);
  if (area == 0) return std::nullopt;
  tile_ring result = ring;
  if ((area > 0) != exterior) std::reverse(result.begin(), result.end());
  return result;
}

void encode_polygon(const tile_polygon& polygon, geometry_encoder& encoder) {
  if (!is_usable_ring(polygon.exterior)) return;
  const std::optional<tile_ring> exterior = oriented(polygon.exterior, true);
  if (!exterior) return;
  encoder.add_ring(*exterior);
  for (const tile_ring& interior : polygon.interiors) {
    if (!is_usable_ring(interior)) continue;
    if (const std::optional<tile_ring> hole = oriented(interior, false)) encoder.add_ring(*hole);
  }
}

struct geometry_encoding {
  geometry_type type;
  std::vector<std::uint32_t> integers;  // empty when no part was usable
};

geometry_encoding encode_geometry(const feature_geometry& geometry) {
  geometry_encoder encoder;
  geometry_type type = geometry_type::point;
  if (const auto* points = std::get_if<std::vector<tile_point>>(&geometry)) {
    if (!points->empty()) encoder.add_points(*points);
  } else if (const auto* linestrings = std::get_if<std::vector<tile_linestring>>(&geometry)) {
    type = geometry_type::linestring;
    for (const tile_linestring& linestring : *linestrings) {
      if (linestring.size() >= 2) encoder.add_linestring(linestring);
    }
  } else {
    type = geometry_type::polygon;
    for (const tile_polygon& polygon : std::get<std::vector<tile_polygon>>(geometry)) {
      encode_polygon(polygon, encoder);
    }
  }
  return {type, encoder.integers()};
}

std::string encode_value(const property_value& value) {
  std::string message;
  protozero::pbf_builder<value_field> builder{message};
  std::visit(
      [&builder](const auto& content) {
        using type = std::decay_t<decltype(content)>;
        if constexpr (std::is_same_v<type, std::string>) {
          builder.add_string(value_field::string_value, content);
        } else if constexpr (std::is_same_v<type, double>) {
          builder.add_double(value_field::double_value, content);
        } else if constexpr (std::is_same_v<type, bool>) {
          builder.add_bool(value_field::bool_value, content);
        } else if (content >= 0) {
          builder.add_uint64(value_field::uint_value, static_cast<std::uint64_t>(content));
        } else {
          builder.add_sint64(value_field::sint_value, content);
        }
      },
      value);
  return message;
}

}  // namespace

layer_builder::layer_builder(std::string name, std::uint32_t extent)
    : name_(std::move(name)), extent_(extent) {
  if (name_.empty())
    throw std::invalid_argument("an MVT layer needs a name; give the layer one in the style");
  if (extent_ == 0) throw std::invalid_argument("MVT layer '" + name_ + "': extent must be positive, not 0");
}

bool layer_builder::add_feature(std::optional<std::uint64_t> id, const feature_geometry& geometry,
                                const std::vector<property>& properties) {
  const geometry_encoding encoding = encode_geometry(geometry);
  if (encoding.integers.empty()) return false;
  const std::vector<std::uint32_t> tags = encode_tags(properties);

  protozero::pbf_builder<layer_field> layer{features_};
  protozero::pbf_builder<feature_field> feature{layer, layer_field::features};
  if (id) feature.add_uint64(feature_field::id, *id);
  if (!tags.empty()) feature.add_packed_uint32(feature_field::tags, tags.begin(), tags.end());
  feature.add_enum(feature_field::type, static_cast<std::int32_t>(encoding.type));
  feature.add_packed_uint32(feature_field::geometry, encoding.integers.begin(), encoding.integers.end());
  ++feature_count_;
  return true;
}

std::vector<std::uint32_t> layer_builder::encode_tags(const std::vector<property>& properties) {
  std::vector<std::uint32_t> tags;
  tags.reserve(2 * properties.size());
  std::set<std::uint32_t> keys_in_feature;
  for (const property& entry : properties) {
    const std::uint32_t key = key_index(entry.key);
    if (!keys_in_feature.insert(key).second) continue;
    tags.push_back(key);
    tags.push_back(value_index(entry.value));
  }
  return tags;
}

std::uint32_t layer_builder::key_index(const std::string& key) {
  const auto [position, inserted] = key_indices_.try_emplace(key, static_cast<std::uint32_t>(keys_.size()));
  if (inserted) keys_.push_back(key);
  return position->second;
}

std::uint32_t layer_builder::value_index(const property_value& value) {
  std::string message = encode_value(value);
  const auto [position, inserted] =
      value_indices_.try_emplace(message, static_cast<std::uint32_t>(values_.size()));
  if (inserted) values_.push_back(std::move(message));
  return position->second;
}

std::string layer_builder::serialize() const {
  std::string message;
  {
    protozero::pbf_builder<layer_field> header{message};
    header.add_uint32(layer_field::version, mvt_version);
    header.add_string(layer_field::name, name_);
  }
  message += features_;
  protozero::pbf_builder<layer_field> tables{message};
  for (const std::string& key : keys_) tables.add_string(layer_field::keys, key);
  for (const std::string& value : values_) tables.add_message(layer_field::values, value);
  tables.add_uint32(layer_field::extent, extent_);
  return message;
}

std::string encode_tile(const std::vector<layer_builder>& layers) {
  std::string tile;
  protozero::pbf_builder<tile_field> builder{tile};
  std::set<std::string> names;
  for (const layer_builder& layer : layers) {
    if (layer.feature_count() == 0) continue;
    if (!names.insert(layer.name()).second) {
      throw std::invalid_argument("two MVT layers are named '" + layer.name() +
                                  "'; a tile needs unique layer names, so rename one in the style");
    }
    builder.add_message(tile_field::layers, layer.serialize());
  }
  return tile;
}

}  // namespace tuilerie
