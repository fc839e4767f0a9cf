// Encoding of Mapbox Vector Tile 2.1 layers and tiles with protozero.
#pragma once

#include "render/mvt_geometry.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

namespace tuilerie {

// An attribute value in a type that MVT 2.1 stores. The layer writes integers as uint_value when
// they are non-negative and as sint_value otherwise, and doubles as double_value, never as the
// narrower float_value. Strings must be valid UTF-8, as protobuf requires. MVT has no null, so
// callers leave null attributes out of the feature.
using property_value = std::variant<std::string, double, std::int64_t, bool>;

struct property {
  std::string key;
  property_value value;
};

// One feature's geometry, already clipped and snapped: points, linestrings or polygons. More than
// one part makes it a multipoint, multilinestring or multipolygon.
using feature_geometry =
    std::variant<std::vector<tile_point>, std::vector<tile_linestring>, std::vector<tile_polygon>>;

// One layer of a tile. Features are encoded as they are added; keys and values are stored once per
// layer and shared by index, as MVT 2.1 requires.
class layer_builder {
 public:
  // Throws std::invalid_argument when the name is empty or the extent is 0.
  layer_builder(std::string name, std::uint32_t extent);

  // Encodes a feature and returns true, or returns false and adds nothing when the geometry has no
  // part left: linestrings need 2 points and rings 4. Rings are written in MVT orientation whatever
  // their input direction: exteriors with a positive surveyor's area, interiors with a negative one.
  // A key repeated in properties keeps its first value, because a key may appear once per feature.
  bool add_feature(std::optional<std::uint64_t> id, const feature_geometry& geometry,
                   const std::vector<property>& properties);

  const std::string& name() const { return name_; }
  std::size_t feature_count() const { return feature_count_; }

  // The Layer message (version 2, name, features, keys, values, extent).
  std::string serialize() const;

 private:
  std::uint32_t key_index(const std::string& key);
  std::uint32_t value_index(const property_value& value);
  std::vector<std::uint32_t> encode_tags(const std::vector<property>& properties);

  std::string name_;
  std::uint32_t extent_;
  std::size_t feature_count_ = 0;
  std::string features_;  // encoded Layer.features fields, one after the other
  std::vector<std::string> keys_;
  std::unordered_map<std::string, std::uint32_t> key_indices_;
  std::vector<std::string> values_;  // encoded Value messages
  // Keyed by the encoded message, so 1 and 1.0 (uint_value and double_value) stay distinct and a
  // NaN is stored once.
  std::unordered_map<std::string, std::uint32_t> value_indices_;
};

// Encodes a Tile message with the layers that have features, in their order; layers without
// features are left out. Returns an empty string when no layer has a feature. Throws
// std::invalid_argument when two layers with features share a name, which MVT 2.1 forbids.
std::string encode_tile(const std::vector<layer_builder>& layers);

}  // namespace tuilerie
