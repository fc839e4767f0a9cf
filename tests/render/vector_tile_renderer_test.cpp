// Vector tiles from Mapnik layers, decoded by GDAL and @mapbox/vector-tile: orientation, clipping,
// attributes.
#include "render/vector_tile_renderer.hpp"

#include "mvt_test_support.hpp"
#include "render/mapnik_setup.hpp"

#include <gtest/gtest.h>
#include <mapnik/map.hpp>
#include <ogr_geometry.h>
#include <ogr_spatialref.h>
#include <ogrsf_frmts.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace tuilerie {
namespace {

using namespace mvt_test;

vector_settings layer_settings(const std::string& layer, std::uint32_t buffer = 64, double simplify = 1.0) {
  vector_settings settings;
  settings.buffer = buffer;
  settings.simplify = simplify;
  vector_layer_settings configured;
  configured.name = layer;
  settings.layers.push_back(configured);
  return settings;
}

// Cyclic comparison with a tolerance in tile units: the ring (closed, as decoded) has the expected
// vertices in the same direction, starting at any of them.
bool ring_near(const decoded_part& ring, const std::vector<tile_position>& expected, double tolerance) {
  if (ring.size() != expected.size() + 1) return false;
  for (std::size_t start = 0; start < expected.size(); ++start) {
    bool matches = true;
    for (std::size_t i = 0; i < expected.size() && matches; ++i) {
      const decoded_point& point = ring[(start + i) % expected.size()];
      matches =
          std::abs(point.x - expected[i].x) <= tolerance && std::abs(point.y - expected[i].y) <= tolerance;
    }
    if (matches) return true;
  }
  return false;
}

double total_area(const decoded_feature& feature) {
  double area = 0;
  for (const decoded_part& part : feature.parts) area += surveyor_area(part);
  return area;
}

// The area of a lon/lat ring once projected to the tile's units, by the test's own formula.
double projected_area(const std::vector<std::pair<double, double>>& ring, const tile_id& tile) {
  double twice_area = 0;
  for (std::size_t i = 0; i + 1 < ring.size(); ++i) {
    const tile_position a = lonlat_to_tile(ring[i].first, ring[i].second, tile);
    const tile_position b = lonlat_to_tile(ring[i + 1].first, ring[i + 1].second, tile);
    twice_area += a.x * b.y - b.x * a.y;
  }
  return std::abs(twice_area / 2);
}

class VectorTileRenderer : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { setup_mapnik(default_font_directories()); }

  void SetUp() override {
    if (const auto missing = node_decoder_missing())
      GTEST_FAIL() << "JavaScript MVT decoder unavailable: " << *missing;
  }

  static std::unique_ptr<mapnik::Map> cases_map() {
    return load_style(source_path("tests/data/mvt/cases.xml"));
  }

  // Renders the tile, keeps its bytes in tile_bytes_ and its file in tile_file_, decodes it with
  // GDAL and with @mapbox/vector-tile, and expects both to agree. Returns GDAL's decoding, which
  // also has the polygon grouping; an empty tile decodes to no layer.
  decoded_tile render(const mapnik::Map& map, const tile_id& tile, const vector_settings& settings) {
    tile_bytes_ = render_vector_tile(map, tile, settings);
    if (tile_bytes_.empty()) return {};
    tile_file_ = directory_.path() / ("tile-" + std::to_string(tile_count_++) + ".mvt");
    write_file(tile_file_, tile_bytes_);
    decoded_tile gdal = decode_with_gdal(tile_file_, tile, settings.extent);
    node_ = decode_with_node({tile_file_}).at(0);
    expect_same_content(gdal, node_);
    return gdal;
  }

  // Writes the features as a GeoJSON file and a style with one layer of that name.
  std::unique_ptr<mapnik::Map> generated_map(const std::string& layer,
                                             const std::vector<nlohmann::json>& features) {
    const std::filesystem::path geojson = directory_.path() / (layer + ".geojson");
    write_file(geojson, feature_collection(features));
    const std::filesystem::path style =
        write_style(directory_.path(), {{layer, {{"type", "geojson"}, {"file", geojson.string()}}}});
    return load_style(style);
  }

  temporary_directory directory_;
  std::string tile_bytes_;
  std::filesystem::path tile_file_;
  decoded_tile node_;
  int tile_count_ = 0;
};

// A lon/lat GeoJSON position for a tile position.
nlohmann::json position(const tile_position& where, const tile_id& tile = paris_tile) {
  double lon = 0;
  double lat = 0;
  tile_to_lonlat(where, tile, 4096, lon, lat);
  return {lon, lat};
}

// A copy, so that it outlives the decoded tile.
decoded_feature only_feature(const decoded_tile& tile, const std::string& layer) {
  const decoded_layer* found = tile.find(layer);
  if (found == nullptr || found->features.size() != 1) {
    throw std::runtime_error("expected exactly one feature in layer " + layer);
  }
  return found->features.front();
}

TEST_F(VectorTileRenderer, PolygonWithHoleHasMvtOrientation) {
  const auto map = cases_map();
  // Expected rings from the XYZ formulas (GDAL's MVT writer, ogr2ogr -f MVT, gives the same):
  // exterior positive, hole negative, whatever the ring order in the source. Which vertex a ring
  // starts at carries no meaning in MVT, so the rings are compared as cycles.
  const std::vector<tile_position> exterior{{732, 3319}, {732, 1336}, {2596, 1336}, {2596, 3319}};
  const std::vector<tile_position> hole{{1291, 2753}, {2037, 2753}, {2037, 1903}, {1291, 1903}};
  std::vector<decoded_feature> variants;
  for (const std::string layer : {"zones_rfc7946", "zones_shapefile_order"}) {
    SCOPED_TRACE(layer);
    const decoded_feature feature = only_feature(render(*map, paris_tile, layer_settings(layer)), layer);
    variants.push_back(feature);
    EXPECT_EQ(feature.type, 3);
    ASSERT_EQ(feature.parts.size(), 2u);
    EXPECT_TRUE(ring_near(feature.parts[0], exterior, 0)) << ::testing::PrintToString(feature.parts[0]);
    EXPECT_TRUE(ring_near(feature.parts[1], hole, 0)) << ::testing::PrintToString(feature.parts[1]);
    EXPECT_NEAR(surveyor_area(feature.parts[0]), 3.70e6, 0.01e6);
    EXPECT_NEAR(surveyor_area(feature.parts[1]), -6.34e5, 0.01e5);
    EXPECT_EQ(feature.polygon_ring_counts, (std::vector<std::size_t>{2})) << "one polygon with one hole";
    EXPECT_EQ(feature.properties, nlohmann::json({{"zone", "A"}}));
  }
  ASSERT_EQ(variants.size(), 2u);
  EXPECT_EQ(variants[0].parts, variants[1].parts) << "both ring orders give the same encoding";
  // The expected corner agrees with the test's own formula.
  const tile_position corner = lonlat_to_tile(2.355, 48.853, paris_tile);
  EXPECT_EQ(std::lround(corner.x), 732);
  EXPECT_EQ(std::lround(corner.y), 3319);
}

TEST_F(VectorTileRenderer, MultipolygonKeepsHolesAndIsland) {
  const auto map = cases_map();
  const decoded_feature feature =
      only_feature(render(*map, paris_tile, layer_settings("multipolygon_island")), "multipolygon_island");
  ASSERT_EQ(feature.parts.size(), 5u);
  const std::vector<int> expected_signs{1, -1, 1, -1, 1};
  for (std::size_t i = 0; i < feature.parts.size(); ++i) {
    EXPECT_EQ(surveyor_area(feature.parts[i]) > 0 ? 1 : -1, expected_signs[i]) << "ring " << i;
  }
  EXPECT_EQ(feature.polygon_ring_counts, (std::vector<std::size_t>{2, 2, 1}));
  EXPECT_TRUE(is_valid_multipolygon(feature));

  const double source_area =
      projected_area({{2.353, 48.852}, {2.359, 48.852}, {2.359, 48.856}, {2.353, 48.856}, {2.353, 48.852}},
                     paris_tile) -
      projected_area({{2.355, 48.853}, {2.355, 48.855}, {2.357, 48.855}, {2.357, 48.853}, {2.355, 48.853}},
                     paris_tile) +
      projected_area({{2.362, 48.858}, {2.370, 48.858}, {2.370, 48.863}, {2.362, 48.863}, {2.362, 48.858}},
                     paris_tile) -
      projected_area({{2.364, 48.859}, {2.364, 48.861}, {2.366, 48.861}, {2.366, 48.859}, {2.364, 48.859}},
                     paris_tile) +
      projected_area(
          {{2.3555, 48.8535}, {2.3565, 48.8535}, {2.3565, 48.8545}, {2.3555, 48.8545}, {2.3555, 48.8535}},
          paris_tile);
  EXPECT_NEAR(total_area(feature), source_area, 0.01 * source_area);
}

TEST_F(VectorTileRenderer, TriangleClippedAtTileEdge) {
  const auto map = cases_map();
  const tile_position a = lonlat_to_tile(2.360, 48.852, paris_tile);
  const tile_position b = lonlat_to_tile(2.380, 48.852, paris_tile);
  const tile_position c = lonlat_to_tile(2.370, 48.862, paris_tile);
  const auto crossing = [&](double x) {
    const double t = (b.x - x) / (b.x - c.x);
    return tile_position{x, b.y + t * (c.y - b.y)};
  };

  const decoded_feature cut =
      only_feature(render(*map, paris_tile, layer_settings("triangle_east_edge", 0)), "triangle_east_edge");
  ASSERT_EQ(cut.parts.size(), 1u);
  // Positive orientation: from A up to the apex C, down to the edge, back along the base.
  EXPECT_TRUE(ring_near(cut.parts[0], {a, c, crossing(4096), {4096, b.y}}, 1.0))
      << "≈ (1664,3603) (3528,769) "
         "(4096,1633) (4096,3603)";
  EXPECT_GT(surveyor_area(cut.parts[0]), 0);
  for (const decoded_point& point : cut.parts[0]) {
    EXPECT_GE(point.x, 0);
    EXPECT_LE(point.x, 4096);
  }
  for (std::size_t i = 0; i + 1 < cut.parts[0].size(); ++i)
    EXPECT_FALSE(cut.parts[0][i] == cut.parts[0][i + 1]);

  const tile_id east{14, 8300, 5636};
  const decoded_feature rest =
      only_feature(render(*map, east, layer_settings("triangle_east_edge", 0)), "triangle_east_edge");
  const double whole =
      projected_area({{2.360, 48.852}, {2.380, 48.852}, {2.370, 48.862}, {2.360, 48.852}}, paris_tile);
  EXPECT_NEAR(total_area(cut) + total_area(rest), whole, 0.002 * whole);

  const decoded_feature buffered =
      only_feature(render(*map, paris_tile, layer_settings("triangle_east_edge", 64)), "triangle_east_edge");
  EXPECT_TRUE(ring_near(buffered.parts[0], {a, c, crossing(4160), {4160, b.y}}, 1.0));
}

TEST_F(VectorTileRenderer, NarrowBandStaysValidOrIsDropped) {
  const auto map = cases_map();
  int tiles_with_band = 0;
  for (int z = 5; z <= 9; ++z) {
    const tile_range range = tiles_covering({1.0, 48.8, 3.5, 48.80027}, z);
    for (std::uint32_t x = range.min_x; x <= range.max_x; ++x) {
      for (std::uint32_t y = range.min_y; y <= range.max_y; ++y) {
        const tile_id tile{z, x, y};
        SCOPED_TRACE(std::to_string(z) + "/" + std::to_string(x) + "/" + std::to_string(y));
        const decoded_tile decoded = render(*map, tile, layer_settings("canal"));
        if (decoded.layers.empty()) continue;
        ++tiles_with_band;
        const tile_position south_west = lonlat_to_tile(1.0, 48.8, tile);
        const tile_position north_east = lonlat_to_tile(3.5, 48.80027, tile);
        for (const decoded_feature& feature : decoded.layers.front().features) {
          EXPECT_TRUE(is_valid_multipolygon(feature));
          for (const decoded_part& ring : feature.parts) {
            for (const decoded_point& point : ring) {
              // Within one unit of the band, and inside the buffered tile.
              EXPECT_GE(point.y, std::floor(north_east.y) - 1);
              EXPECT_LE(point.y, std::ceil(south_west.y) + 1);
              EXPECT_GE(point.x, std::max(-64.0, std::floor(south_west.x) - 1));
              EXPECT_LE(point.x, std::min(4160.0, std::ceil(north_east.x) + 1));
            }
          }
        }
      }
    }
  }
  EXPECT_GT(tiles_with_band, 0) << "the band should survive at z9 at least";
}

TEST_F(VectorTileRenderer, BufferExtendsIntoNeighbour) {
  const auto map = cases_map();
  for (const std::uint32_t buffer : {0u, 64u, 128u}) {
    const decoded_feature feature = only_feature(
        render(*map, paris_tile, layer_settings("rectangle_two_tiles", buffer)), "rectangle_two_tiles");
    std::int64_t max_x = 0;
    for (const decoded_point& point : feature.parts.at(0)) max_x = std::max(max_x, point.x);
    EXPECT_EQ(max_x, 4096 + std::int64_t{buffer});
    ASSERT_EQ(node_.layers.size(), 1u);
    EXPECT_EQ(node_.layers.front().extent, 4096u);
    EXPECT_EQ(node_.layers.front().version, 2);
  }

  vector_settings small = layer_settings("rectangle_two_tiles", 8);
  small.extent = 512;
  const decoded_feature feature = only_feature(render(*map, paris_tile, small), "rectangle_two_tiles");
  std::int64_t max_x = 0;
  for (const decoded_point& point : feature.parts.at(0)) max_x = std::max(max_x, point.x);
  EXPECT_EQ(max_x, 520);
  EXPECT_EQ(node_.layers.front().extent, 512u);
}

TEST_F(VectorTileRenderer, PolygonLargerThanTileCoversBufferedTile) {
  const auto map = cases_map();
  const decoded_feature feature =
      only_feature(render(*map, paris_tile, layer_settings("large_polygon")), "large_polygon");
  ASSERT_EQ(feature.parts.size(), 1u);
  EXPECT_TRUE(ring_near(feature.parts[0], {{-64, -64}, {4160, -64}, {4160, 4160}, {-64, 4160}}, 0));
  EXPECT_EQ(surveyor_area(feature.parts[0]), 4224.0 * 4224.0);
}

TEST_F(VectorTileRenderer, LineCrossingOnlyCornerIsKept) {
  // y = x - 4000 in the Paris tile's units crosses the buffered tile from (3936,-64) to (4160,160) and the
  // tile itself from (4000,0) to (4096,96).
  const auto map = generated_map(
      "corner_line",
      {{{"geometry",
         {{"type", "LineString"}, {"coordinates", {position({3800, -200}), position({4300, 300})}}}}}});
  const decoded_feature buffered =
      only_feature(render(*map, paris_tile, layer_settings("corner_line", 64)), "corner_line");
  EXPECT_EQ(buffered.type, 2);
  EXPECT_EQ(buffered.parts, (std::vector<decoded_part>{{{3936, -64}, {4160, 160}}}));
  const decoded_feature unbuffered =
      only_feature(render(*map, paris_tile, layer_settings("corner_line", 0)), "corner_line");
  EXPECT_EQ(unbuffered.parts, (std::vector<decoded_part>{{{4000, 0}, {4096, 96}}}));
}

TEST_F(VectorTileRenderer, PointsOnEdgeAndInBuffer) {
  const auto point_feature = [](const std::string& name, const tile_position& where) {
    return nlohmann::json{{"properties", {{"nom", name}}},
                          {"geometry", {{"type", "Point"}, {"coordinates", position(where)}}}};
  };
  const auto map = generated_map(
      "edge_points", {point_feature("on edge", {4096, 2000}), point_feature("in buffer", {4126, 1000}),
                      point_feature("beyond buffer", {4200, 1500})});

  const decoded_tile paris_decoded = render(*map, paris_tile, layer_settings("edge_points"));
  const decoded_layer* paris_layer = paris_decoded.find("edge_points");
  ASSERT_NE(paris_layer, nullptr);
  ASSERT_EQ(paris_layer->features.size(), 2u);
  EXPECT_EQ(paris_layer->features[0].parts, (std::vector<decoded_part>{{{4096, 2000}}}));
  EXPECT_EQ(paris_layer->features[0].properties.at("nom"), "on edge");
  EXPECT_EQ(paris_layer->features[1].parts, (std::vector<decoded_part>{{{4126, 1000}}}));

  const decoded_tile east_decoded = render(*map, {14, 8300, 5636}, layer_settings("edge_points"));
  const decoded_layer* east_layer = east_decoded.find("edge_points");
  ASSERT_NE(east_layer, nullptr);
  ASSERT_EQ(east_layer->features.size(), 3u);
  EXPECT_EQ(east_layer->features[0].parts, (std::vector<decoded_part>{{{0, 2000}}}));
  EXPECT_EQ(east_layer->features[1].parts, (std::vector<decoded_part>{{{30, 1000}}}));
  EXPECT_EQ(east_layer->features[2].parts, (std::vector<decoded_part>{{{104, 1500}}}));

  const decoded_tile unbuffered = render(*map, paris_tile, layer_settings("edge_points", 0));
  ASSERT_NE(unbuffered.find("edge_points"), nullptr);
  EXPECT_EQ(unbuffered.find("edge_points")->features.size(), 1u);
}

TEST_F(VectorTileRenderer, SliverOnlyTileIsEmpty) {
  // 1000 units long and 0.6 unit high: simplification removes it, and a tile with no feature is
  // an empty string, not a tile with an empty layer.
  const auto map = generated_map("sliver", {{{"geometry",
                                              {{"type", "Polygon"},
                                               {"coordinates",
                                                {{position({100, 100.2}), position({1100, 100.2}),
                                                  position({600, 100.8}), position({100, 100.2})}}}}}}});
  EXPECT_EQ(render_vector_tile(*map, paris_tile, layer_settings("sliver", 64, 1.0)), "");

  const decoded_feature unsimplified =
      only_feature(render(*map, paris_tile, layer_settings("sliver", 64, 0)), "sliver");
  EXPECT_TRUE(is_valid_multipolygon(unsimplified));
}

TEST_F(VectorTileRenderer, TinyTrianglesAreDroppedOrValid) {
  // At z10 a unit is about 6 m on the ground, so triangles 2 to 5 m across are below a unit. Their
  // offsets come from a fixed linear congruential sequence. One large polygon lies beside them.
  const tile_id tile{10, 518, 352};
  std::uint32_t state = 7;
  const auto next_fraction = [&state] {
    state = state * 1664525u + 1013904223u;
    return (state >> 8) / double(1 << 24);
  };
  std::vector<nlohmann::json> features;
  const double metre_lon = 1 / 73300.0;  // degrees of longitude per metre at 48.85° N
  const double metre_lat = 1 / 111200.0;
  for (int i = 0; i < 100; ++i) {
    const double lon = 2.36 + 0.004 * (i % 10) + 0.0001 * next_fraction();
    const double lat = 48.83 + 0.003 * (i / 10) + 0.0001 * next_fraction();
    const double size = 2 + 3 * next_fraction();
    const nlohmann::json ring = {{lon, lat},
                                 {lon + size * metre_lon, lat},
                                 {lon + size * metre_lon / 2, lat + size * metre_lat},
                                 {lon, lat}};
    features.push_back(
        {{"properties", {{"nom", "petit"}}}, {"geometry", {{"type", "Polygon"}, {"coordinates", {ring}}}}});
  }
  const nlohmann::json large = {{2.40, 48.80}, {2.45, 48.80}, {2.45, 48.82}, {2.40, 48.82}, {2.40, 48.80}};
  features.push_back(
      {{"properties", {{"nom", "grand"}}}, {"geometry", {{"type", "Polygon"}, {"coordinates", {large}}}}});
  const auto map = generated_map("triangles", features);

  const decoded_tile decoded = render(*map, tile, layer_settings("triangles"));
  const decoded_layer* layer = decoded.find("triangles");
  ASSERT_NE(layer, nullptr);
  int large_polygons = 0;
  for (const decoded_feature& feature : layer->features) {
    if (feature.properties.value("nom", "") == "grand") ++large_polygons;
    EXPECT_TRUE(is_valid_multipolygon(feature));
    for (const decoded_part& ring : feature.parts) {
      EXPECT_GE(ring.size(), 4u);
      EXPECT_NE(surveyor_area(ring), 0);
    }
  }
  EXPECT_EQ(large_polygons, 1);
}

TEST_F(VectorTileRenderer, AttributesKeepTheirValues) {
  const auto map = cases_map();
  const decoded_tile decoded = render(*map, paris_tile, layer_settings("attributes"));
  const decoded_layer* layer = decoded.find("attributes");
  ASSERT_NE(layer, nullptr);
  ASSERT_EQ(layer->features.size(), 3u);
  ASSERT_EQ(node_.layers.front().features.size(), 3u);

  const nlohmann::json& a = layer->features[0].properties;
  EXPECT_EQ(a.at("nom"), "Zone A");
  EXPECT_EQ(a.at("hauteur_m").get<double>(), 1.5);
  EXPECT_EQ(a.at("commentaire"), "") << "an empty string is kept";
  EXPECT_EQ(a.at("grand").get<std::int64_t>(), std::int64_t{1} << 40);
  EXPECT_EQ(a.at("negatif").get<std::int64_t>(), -(std::int64_t{1} << 40));
  EXPECT_EQ(a.at("surface_m2").get<double>(), 1234.5678901) << "a double, not a float";
  EXPECT_EQ(a.at("actif"), true);
  EXPECT_EQ(a.at("ferme"), false);
  EXPECT_EQ(a.at("id_parcelle").get<std::int64_t>(), 75056000123);
  EXPECT_EQ(a.at("niveau_db").get<std::int64_t>(), 65);
  EXPECT_EQ(a.at("delta").get<std::int64_t>(), -3);
  EXPECT_EQ(a.at("ratio").get<double>(), 0.1);
  EXPECT_EQ(node_.layers.front().features[0].properties.at("surface_m2").get<double>(), 1234.5678901);

  const nlohmann::json& b = layer->features[1].properties;
  EXPECT_EQ(b, nlohmann::json({{"nom", "Zone B"}})) << "null attributes are left out";
  const nlohmann::json& c = layer->features[2].properties;
  EXPECT_EQ(c, nlohmann::json({{"nom", "Zone C"}, {"commentaire", "digue"}}));
}

// Every Value message of every layer, as (field number, protoc's text of the value).
std::vector<std::pair<std::string, std::string>> raw_values(const std::vector<raw_field>& tile) {
  std::vector<std::pair<std::string, std::string>> values;
  for (const raw_field& layer : tile) {
    EXPECT_EQ(layer.number, "3") << "a Tile has only layers";
    for (const raw_field& field : layer.fields) {
      if (field.number != "4") continue;
      EXPECT_TRUE(field.is_message);
      EXPECT_EQ(field.fields.size(), 1u) << "a Value has exactly one field";
      for (const raw_field& value : field.fields) values.emplace_back(value.number, value.value);
    }
  }
  return values;
}

std::string fixed64_text(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "0x%016llx",
                static_cast<unsigned long long>(std::bit_cast<std::uint64_t>(value)));
  return text;
}

TEST_F(VectorTileRenderer, ValueMessagesAreSpecValid) {
  const auto map = cases_map();
  vector_settings all_layers;
  render(*map, paris_tile, all_layers);
  ASSERT_FALSE(tile_bytes_.empty());
  const auto values = raw_values(decode_raw(tile_file_));
  ASSERT_FALSE(values.empty());
  for (const auto& [number, text] : values) EXPECT_NE(number, "2") << "float_value " << text;

  const auto has = [&](const std::string& number, const std::string& text) {
    return std::find(values.begin(), values.end(), std::make_pair(number, text)) != values.end();
  };
  EXPECT_TRUE(has("5", "1099511627776")) << "2^40 as uint_value";
  EXPECT_TRUE(has("6", "2199023255551")) << "-2^40 as sint_value (zigzag 2^41 - 1)";
  EXPECT_TRUE(has("5", "75056000123"));
  EXPECT_TRUE(has("5", "65"));
  EXPECT_TRUE(has("6", "5")) << "-3 as sint_value (zigzag 5)";
  EXPECT_TRUE(has("3", fixed64_text(1234.5678901))) << "double_value";
  EXPECT_TRUE(has("3", fixed64_text(0.1)));
  EXPECT_TRUE(has("7", "1"));
  EXPECT_TRUE(has("7", "0"));
  EXPECT_TRUE(has("1", "\"\"")) << "the empty string is a value";
  EXPECT_TRUE(has("1", "\"digue\""));
}

TEST_F(VectorTileRenderer, GeoPackageInt64IsExact) {
  // 2^53 + 1 is the first integer that a double cannot hold, so only an exact int64 path keeps it.
  constexpr std::int64_t beyond_double = 9007199254740993;
  const std::filesystem::path gpkg = directory_.path() / "parcelles.gpkg";
  {
    GDALAllRegister();
    GDALDriver* driver = GetGDALDriverManager()->GetDriverByName("GPKG");
    ASSERT_NE(driver, nullptr);
    const GDALDatasetUniquePtr dataset(driver->Create(gpkg.c_str(), 0, 0, 0, GDT_Unknown, nullptr));
    ASSERT_NE(dataset, nullptr);
    OGRSpatialReference wgs84;
    wgs84.importFromEPSG(4326);
    OGRLayer* layer = dataset->CreateLayer("parcelles", &wgs84, wkbPoint, nullptr);
    OGRFieldDefn field("gros", OFTInteger64);
    ASSERT_EQ(layer->CreateField(&field), OGRERR_NONE);
    OGRFeature feature(layer->GetLayerDefn());
    feature.SetField("gros", static_cast<GIntBig>(beyond_double));
    OGRPoint point(2.36, 48.856);
    feature.SetGeometry(&point);
    ASSERT_EQ(layer->CreateFeature(&feature), OGRERR_NONE);
  }
  const std::filesystem::path style = write_style(
      directory_.path(), {{"parcelles", {{"type", "ogr"}, {"file", gpkg.string()}, {"layer", "parcelles"}}}});
  const auto map = load_style(style);

  const decoded_feature feature =
      only_feature(render(*map, paris_tile, layer_settings("parcelles")), "parcelles");
  EXPECT_EQ(feature.properties.at("gros").get<std::int64_t>(), beyond_double);
  // The only feature has fid 1; Mapnik 3.1's OGR datasource reports OGR's FID + 1 as the feature id.
  EXPECT_EQ(feature.id, 2u);
  const auto values = raw_values(decode_raw(tile_file_));
  EXPECT_NE(std::find(values.begin(), values.end(),
                      std::make_pair(std::string("5"), std::string("9007199254740993"))),
            values.end());
}

TEST_F(VectorTileRenderer, Lambert93PointLandsAtItsPosition) {
  OGRSpatialReference lambert;
  lambert.importFromEPSG(2154);
  OGRSpatialReference wgs84;
  wgs84.importFromEPSG(4326);
  wgs84.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  const std::unique_ptr<OGRCoordinateTransformation> transform(
      OGRCreateCoordinateTransformation(&lambert, &wgs84));
  ASSERT_NE(transform, nullptr);
  double lon = 652469;
  double lat = 6862035;
  ASSERT_TRUE(transform->Transform(1, &lon, &lat));
  const tile_position expected = lonlat_to_tile(lon, lat, paris_tile);

  const auto map = cases_map();
  const decoded_feature feature =
      only_feature(render(*map, paris_tile, layer_settings("lambert93_point")), "lambert93_point");
  ASSERT_EQ(feature.parts.size(), 1u);
  EXPECT_NEAR(feature.parts[0][0].x, expected.x, 1.0);
  EXPECT_NEAR(feature.parts[0][0].y, expected.y, 1.0);
  EXPECT_NEAR(feature.parts[0][0].x, 210, 2) << "gdaltransform's position, rounded";
  EXPECT_NEAR(feature.parts[0][0].y, 2299, 2);
  EXPECT_EQ(feature.properties.at("nom"), "Hôtel de Ville");
}

TEST_F(VectorTileRenderer, FieldsSettingKeepsOnlyThoseAttributes) {
  const auto map = cases_map();
  vector_settings settings = layer_settings("attributes");
  settings.layers.front().fields = {"nom", "delta"};
  const decoded_tile decoded = render(*map, paris_tile, settings);
  const decoded_layer* layer = decoded.find("attributes");
  ASSERT_NE(layer, nullptr);
  EXPECT_EQ(layer->features[0].properties, nlohmann::json({{"nom", "Zone A"}, {"delta", -3}}));
  EXPECT_EQ(layer->features[2].properties, nlohmann::json({{"nom", "Zone C"}}));
}

TEST_F(VectorTileRenderer, LayerOutsideZoomRangeIsLeftOut) {
  const auto map = cases_map();
  vector_settings settings = layer_settings("attributes");
  settings.layers.front().minzoom = 15;
  EXPECT_EQ(render_vector_tile(*map, paris_tile, settings), "");
  settings.layers.front().minzoom = 10;
  settings.layers.front().maxzoom = 13;
  EXPECT_EQ(render_vector_tile(*map, paris_tile, settings), "");
  settings.layers.front().maxzoom = 14;
  EXPECT_NE(render_vector_tile(*map, paris_tile, settings), "");
}

TEST_F(VectorTileRenderer, TileWithoutDataIsEmpty) {
  const auto map = cases_map();
  EXPECT_EQ(render_vector_tile(*map, {10, 483, 368}, vector_settings{}), "") << "Atlantic";
}

TEST_F(VectorTileRenderer, AllLayersInMapOrder) {
  const auto map = cases_map();
  const decoded_tile decoded = render(*map, paris_tile, vector_settings{});
  std::vector<std::string> names;
  for (const decoded_layer& layer : node_.layers) names.push_back(layer.name);
  // The canal lies south of the Paris tile; every other layer of cases.xml meets it.
  EXPECT_EQ(names, (std::vector<std::string>{"zones_rfc7946", "zones_shapefile_order", "multipolygon_island",
                                             "triangle_east_edge", "rectangle_two_tiles", "large_polygon",
                                             "attributes", "lambert93_point"}));
  EXPECT_EQ(decoded.layers.size(), names.size());
}

TEST_F(VectorTileRenderer, ThreadsWithOwnMapsAgree) {
  // Render threads each own a map, as the render pool runs them; the projection and GEOS caches are
  // per thread, so concurrent renders must give the single-thread bytes.
  const std::string expected = render_vector_tile(*cases_map(), paris_tile, vector_settings{});
  ASSERT_FALSE(expected.empty());
  std::vector<std::unique_ptr<mapnik::Map>> maps;
  for (int i = 0; i < 2; ++i) maps.push_back(cases_map());
  std::vector<std::vector<std::string>> results(maps.size());
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < maps.size(); ++i) {
    threads.emplace_back([&, i] {
      for (int round = 0; round < 5; ++round) {
        results[i].push_back(render_vector_tile(*maps[i], paris_tile, vector_settings{}));
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (const auto& thread_results : results) {
    ASSERT_EQ(thread_results.size(), 5u);
    for (const std::string& tile : thread_results) EXPECT_EQ(tile, expected);
  }
}

TEST_F(VectorTileRenderer, UnknownLayerIsRejected) {
  const auto map = cases_map();
  EXPECT_THROW(render_vector_tile(*map, paris_tile, layer_settings("communes")), std::invalid_argument);
  EXPECT_THROW(describe_vector_layers(*map, layer_settings("communes")), std::invalid_argument);
}

TEST_F(VectorTileRenderer, DescribeListsFieldsAndTypes) {
  const auto map = cases_map();
  vector_settings settings = layer_settings("attributes");
  settings.layers.front().fields = {"nom", "hauteur_m", "actif"};
  settings.layers.front().minzoom = 10;
  settings.layers.front().maxzoom = 16;
  vector_layer_settings zones;
  zones.name = "zones_rfc7946";
  settings.layers.push_back(zones);

  const std::vector<vector_layer_description> layers = describe_vector_layers(*map, settings);
  ASSERT_EQ(layers.size(), 2u);
  EXPECT_EQ(layers[0].id, "zones_rfc7946");
  EXPECT_EQ(layers[0].geometry_type, "Polygon");
  ASSERT_EQ(layers[0].fields.size(), 1u);
  EXPECT_EQ(layers[0].fields[0].name, "zone");
  EXPECT_EQ(layers[0].fields[0].type, "String");

  EXPECT_EQ(layers[1].id, "attributes");
  EXPECT_EQ(layers[1].minzoom, 10);
  EXPECT_EQ(layers[1].maxzoom, 16);
  EXPECT_EQ(layers[1].geometry_type, "Point");
  std::map<std::string, std::string> types;
  for (const vector_field& field : layers[1].fields) types[field.name] = field.type;
  // hauteur_m is listed although feature B has it null.
  EXPECT_EQ(types, (std::map<std::string, std::string>{
                       {"nom", "String"}, {"hauteur_m", "Number"}, {"actif", "Boolean"}}));

  settings.layers.back().fields = {"absent"};
  EXPECT_THROW(describe_vector_layers(*map, settings), std::invalid_argument);
}

}  // namespace
}  // namespace tuilerie
