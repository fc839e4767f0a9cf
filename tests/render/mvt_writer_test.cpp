// MVT 2.1 encoding: geometry commands against the specification's examples, attribute tables, layers.
#include "render/mvt_writer.hpp"

#include <gtest/gtest.h>
#include <protozero/pbf_reader.hpp>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace tuilerie {
namespace {

// A Feature message read back with protozero's reader.
struct read_feature {
  std::optional<std::uint64_t> id;
  std::vector<std::uint32_t> tags;
  std::uint32_t type = 0;
  std::vector<std::uint32_t> geometry;
};

// A Value message: each field number present, with its wire payload.
struct read_value {
  std::vector<std::uint32_t> fields;
  std::string string_value;
  double double_value = 0;
  std::uint64_t uint_value = 0;
  std::int64_t sint_value = 0;
  bool bool_value = false;
};

struct read_layer {
  std::optional<std::uint32_t> version;
  std::string name;
  std::optional<std::uint32_t> extent;
  std::vector<read_feature> features;
  std::vector<std::string> keys;
  std::vector<read_value> values;
};

read_feature read_feature_message(protozero::pbf_reader message) {
  read_feature feature;
  while (message.next()) {
    switch (message.tag()) {
      case 1: feature.id = message.get_uint64(); break;
      case 2: {
        const auto range = message.get_packed_uint32();
        feature.tags.assign(range.begin(), range.end());
        break;
      }
      case 3: feature.type = message.get_uint32(); break;
      case 4: {
        const auto range = message.get_packed_uint32();
        feature.geometry.assign(range.begin(), range.end());
        break;
      }
      default: message.skip();
    }
  }
  return feature;
}

read_value read_value_message(protozero::pbf_reader message) {
  read_value value;
  while (message.next()) {
    value.fields.push_back(message.tag());
    switch (message.tag()) {
      case 1: value.string_value = message.get_string(); break;
      case 3: value.double_value = message.get_double(); break;
      case 5: value.uint_value = message.get_uint64(); break;
      case 6: value.sint_value = message.get_sint64(); break;
      case 7: value.bool_value = message.get_bool(); break;
      default: message.skip();
    }
  }
  return value;
}

read_layer read_layer_message(protozero::pbf_reader message) {
  read_layer layer;
  while (message.next()) {
    switch (message.tag()) {
      case 1: layer.name = message.get_string(); break;
      case 2: layer.features.push_back(read_feature_message(message.get_message())); break;
      case 3: layer.keys.push_back(message.get_string()); break;
      case 4: layer.values.push_back(read_value_message(message.get_message())); break;
      case 5: layer.extent = message.get_uint32(); break;
      case 15: layer.version = message.get_uint32(); break;
      default: message.skip();
    }
  }
  return layer;
}

std::vector<read_layer> read_tile(const std::string& tile) {
  std::vector<read_layer> layers;
  protozero::pbf_reader message{tile};
  while (message.next(3)) layers.push_back(read_layer_message(message.get_message()));
  return layers;
}

// Encodes one feature in a layer "test" and reads it back.
read_feature encode_one(const feature_geometry& geometry, std::optional<std::uint64_t> id = std::nullopt) {
  std::vector<layer_builder> layers;
  layers.emplace_back("test", 4096);
  EXPECT_TRUE(layers.front().add_feature(id, geometry, {}));
  const std::vector<read_layer> tile = read_tile(encode_tile(layers));
  EXPECT_EQ(tile.size(), 1u);
  EXPECT_EQ(tile.front().features.size(), 1u);
  return tile.front().features.front();
}

using commands = std::vector<std::uint32_t>;

// The expected command sequences below are the "Encoded as" arrays of the MVT 2.1 specification's
// examples (section 4.3.5).

TEST(MvtWriter, PointMatchesSpecExample) {
  const read_feature feature = encode_one(std::vector<tile_point>{{25, 17}});
  EXPECT_EQ(feature.type, 1u);
  EXPECT_EQ(feature.geometry, (commands{9, 50, 34}));
}

TEST(MvtWriter, MultiPointMatchesSpecExample) {
  const read_feature feature = encode_one(std::vector<tile_point>{{5, 7}, {3, 2}});
  EXPECT_EQ(feature.geometry, (commands{17, 10, 14, 3, 9}));
}

TEST(MvtWriter, LinestringMatchesSpecExample) {
  const read_feature feature = encode_one(std::vector<tile_linestring>{{{2, 2}, {2, 10}, {10, 10}}});
  EXPECT_EQ(feature.type, 2u);
  EXPECT_EQ(feature.geometry, (commands{9, 4, 4, 18, 0, 16, 16, 0}));
}

TEST(MvtWriter, MultiLinestringMatchesSpecExample) {
  const read_feature feature =
      encode_one(std::vector<tile_linestring>{{{2, 2}, {2, 10}, {10, 10}}, {{1, 1}, {3, 5}}});
  EXPECT_EQ(feature.geometry, (commands{9, 4, 4, 18, 0, 16, 16, 0, 9, 17, 17, 10, 4, 8}));
}

TEST(MvtWriter, PolygonMatchesSpecExample) {
  const tile_polygon polygon{{{3, 6}, {8, 12}, {20, 34}, {3, 6}}, {}};
  const read_feature feature = encode_one(std::vector<tile_polygon>{polygon});
  EXPECT_EQ(feature.type, 3u);
  EXPECT_EQ(feature.geometry, (commands{9, 6, 12, 18, 10, 12, 24, 44, 15}));
}

TEST(MvtWriter, MultiPolygonMatchesSpecExample) {
  const tile_polygon first{{{0, 0}, {10, 0}, {10, 10}, {0, 10}, {0, 0}}, {}};
  const tile_polygon second{{{11, 11}, {20, 11}, {20, 20}, {11, 20}, {11, 11}},
                            {{{13, 13}, {13, 17}, {17, 17}, {17, 13}, {13, 13}}}};
  const read_feature feature = encode_one(std::vector<tile_polygon>{first, second});
  EXPECT_EQ(feature.geometry, (commands{9, 0,  0,  26, 20, 0, 0, 20, 19, 0, 15, 9, 22, 2, 26, 18, 0,
                                        0, 18, 17, 0,  15, 9, 4, 13, 26, 0, 8,  8, 0,  0, 7,  15}));
}

TEST(MvtWriter, RingsInWrongDirectionAreReversed) {
  // The spec example's second polygon with both rings running the other way: the exterior has a
  // negative surveyor's area and the hole a positive one. The writer must emit the same commands as
  // for the correctly oriented rings (MultiPolygonMatchesSpecExample).
  const tile_polygon first{{{0, 0}, {0, 10}, {10, 10}, {10, 0}, {0, 0}}, {}};
  const tile_polygon second{{{11, 11}, {11, 20}, {20, 20}, {20, 11}, {11, 11}},
                            {{{13, 13}, {17, 13}, {17, 17}, {13, 17}, {13, 13}}}};
  const read_feature feature = encode_one(std::vector<tile_polygon>{first, second});
  EXPECT_EQ(feature.geometry, (commands{9, 0,  0,  26, 20, 0, 0, 20, 19, 0, 15, 9, 22, 2, 26, 18, 0,
                                        0, 18, 17, 0,  15, 9, 4, 13, 26, 0, 8,  8, 0,  0, 7,  15}));
}

TEST(MvtWriter, FeatureIdIsWrittenWhenGiven) {
  EXPECT_EQ(encode_one(std::vector<tile_point>{{1, 1}}, 42).id, 42u);
  EXPECT_FALSE(encode_one(std::vector<tile_point>{{1, 1}}).id.has_value());
}

TEST(MvtWriter, DegenerateGeometryAddsNoFeature) {
  layer_builder layer("test", 4096);
  EXPECT_FALSE(layer.add_feature(std::nullopt, std::vector<tile_point>{}, {}));
  EXPECT_FALSE(layer.add_feature(std::nullopt, std::vector<tile_linestring>{{{1, 1}}}, {}));
  const tile_polygon open_ring{{{0, 0}, {10, 0}, {10, 10}}, {}};
  EXPECT_FALSE(layer.add_feature(std::nullopt, std::vector<tile_polygon>{open_ring}, {}));
  const tile_polygon flat_ring{{{0, 0}, {5, 0}, {10, 0}, {0, 0}}, {}};
  EXPECT_FALSE(layer.add_feature(std::nullopt, std::vector<tile_polygon>{flat_ring}, {}));
  EXPECT_EQ(layer.feature_count(), 0u);
}

TEST(MvtWriter, ValuesKeepTheirTypes) {
  std::vector<layer_builder> layers;
  layers.emplace_back("values", 4096);
  const std::vector<property> properties{
      {"nom", std::string("Orléans")},
      {"surface_m2", 1234.5678901},
      {"grand", std::int64_t{1} << 40},
      {"negatif", -(std::int64_t{1} << 40)},
      {"actif", true},
      {"vide", std::string()},
  };
  layers.front().add_feature(std::nullopt, std::vector<tile_point>{{1, 1}}, properties);
  const read_layer layer = read_tile(encode_tile(layers)).front();

  ASSERT_EQ(layer.values.size(), 6u);
  for (const read_value& value : layer.values) ASSERT_EQ(value.fields.size(), 1u) << "one field per Value";
  EXPECT_EQ(layer.values[0].fields.front(), 1u);
  EXPECT_EQ(layer.values[0].string_value, "Orléans");
  EXPECT_EQ(layer.values[1].fields.front(), 3u);
  EXPECT_EQ(layer.values[1].double_value, 1234.5678901);
  EXPECT_EQ(layer.values[2].fields.front(), 5u);
  EXPECT_EQ(layer.values[2].uint_value, 1099511627776u);
  EXPECT_EQ(layer.values[3].fields.front(), 6u);
  EXPECT_EQ(layer.values[3].sint_value, -1099511627776);
  EXPECT_EQ(layer.values[4].fields.front(), 7u);
  EXPECT_TRUE(layer.values[4].bool_value);
  EXPECT_EQ(layer.values[5].fields.front(), 1u);
  EXPECT_EQ(layer.values[5].string_value, "");
  EXPECT_EQ(layer.keys, (std::vector<std::string>{"nom", "surface_m2", "grand", "negatif", "actif", "vide"}));
  EXPECT_EQ(layer.features.front().tags, (commands{0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5}));
}

TEST(MvtWriter, KeysAndValuesAreSharedInLayer) {
  std::vector<layer_builder> layers;
  layers.emplace_back("shared", 4096);
  layers.front().add_feature(std::nullopt, std::vector<tile_point>{{1, 1}},
                             {{"code", std::int64_t{1}}, {"nom", std::string("A")}});
  layers.front().add_feature(std::nullopt, std::vector<tile_point>{{2, 2}},
                             {{"nom", std::string("A")}, {"code", 1.0}});
  const read_layer layer = read_tile(encode_tile(layers)).front();

  EXPECT_EQ(layer.keys, (std::vector<std::string>{"code", "nom"}));
  // 1 (uint_value) and 1.0 (double_value) are different values; "A" is stored once.
  ASSERT_EQ(layer.values.size(), 3u);
  EXPECT_EQ(layer.features[0].tags, (commands{0, 0, 1, 1}));
  EXPECT_EQ(layer.features[1].tags, (commands{1, 1, 0, 2}));
}

TEST(MvtWriter, RepeatedKeyKeepsFirstValue) {
  std::vector<layer_builder> layers;
  layers.emplace_back("repeated", 4096);
  layers.front().add_feature(std::nullopt, std::vector<tile_point>{{1, 1}},
                             {{"nom", std::string("first")}, {"nom", std::string("second")}});
  const read_layer layer = read_tile(encode_tile(layers)).front();
  EXPECT_EQ(layer.features.front().tags, (commands{0, 0}));
  EXPECT_EQ(layer.values.front().string_value, "first");
}

TEST(MvtWriter, LayerHasVersionNameAndExtent) {
  std::vector<layer_builder> layers;
  layers.emplace_back("zones", 512);
  layers.front().add_feature(std::nullopt, std::vector<tile_point>{{1, 1}}, {});
  const read_layer layer = read_tile(encode_tile(layers)).front();
  EXPECT_EQ(layer.version, 2u);
  EXPECT_EQ(layer.name, "zones");
  EXPECT_EQ(layer.extent, 512u);
}

TEST(MvtWriter, LayersWithoutFeaturesAreLeftOut) {
  std::vector<layer_builder> layers;
  layers.emplace_back("empty", 4096);
  layers.emplace_back("full", 4096);
  layers.back().add_feature(std::nullopt, std::vector<tile_point>{{1, 1}}, {});
  const std::vector<read_layer> tile = read_tile(encode_tile(layers));
  ASSERT_EQ(tile.size(), 1u);
  EXPECT_EQ(tile.front().name, "full");
}

TEST(MvtWriter, TileWithoutFeaturesIsEmpty) {
  std::vector<layer_builder> layers;
  layers.emplace_back("empty", 4096);
  EXPECT_EQ(encode_tile(layers), "");
  EXPECT_EQ(encode_tile({}), "");
}

TEST(MvtWriter, DuplicateLayerNamesAreRejected) {
  std::vector<layer_builder> layers;
  layers.emplace_back("zones", 4096);
  layers.emplace_back("zones", 4096);
  for (layer_builder& layer : layers) layer.add_feature(std::nullopt, std::vector<tile_point>{{1, 1}}, {});
  EXPECT_THROW(encode_tile(layers), std::invalid_argument);
}

TEST(MvtWriter, InvalidLayerSettingsAreRejected) {
  EXPECT_THROW(layer_builder("", 4096), std::invalid_argument);
  EXPECT_THROW(layer_builder("zones", 0), std::invalid_argument);
}

}  // namespace
}  // namespace tuilerie
