// Shapefile attribute encodings: .cpg and DBF header detection, and UTF-8 strings in vector tiles.
#include "render/shapefile_encoding.hpp"

#include "mvt_test_support.hpp"
#include "render/mapnik_setup.hpp"
#include "render/vector_tile_renderer.hpp"

#include <gtest/gtest.h>
#include <mapnik/datasource.hpp>
#include <mapnik/layer.hpp>
#include <mapnik/map.hpp>

#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace tuilerie {
namespace {

using namespace mvt_test;

// Loiret towns, with the accented letters that Latin-1 stores in one byte.
const std::vector<std::string> town_names{"Saint-Jean-de-la-Ruelle", "Orléans", "Châteauneuf-sur-Loire",
                                          "Meung-sur-Loire, Île"};

// Tile 8/129/89 contains all four towns.
constexpr tile_id loiret_tile{8, 129, 89};

std::string read_bytes(const std::filesystem::path& file) {
  std::ifstream stream(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(stream), std::istreambuf_iterator<char>()};
}

void set_language_driver(const std::filesystem::path& dbf, unsigned char id) {
  std::fstream stream(dbf, std::ios::binary | std::ios::in | std::ios::out);
  stream.seekp(29);
  stream.put(static_cast<char>(id));
}

// Whether nlohmann::json accepts the text as UTF-8: its dump() throws on invalid sequences.
bool is_valid_utf8(const std::string& text) {
  try {
    (void)nlohmann::json(text).dump();
    return true;
  } catch (const nlohmann::json::type_error&) {
    return false;
  }
}

class ShapefileEncoding : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { setup_mapnik(default_font_directories()); }

  // Writes the towns as GeoJSON and converts them with ogr2ogr to a Shapefile in that encoding.
  std::filesystem::path make_shapefile(const std::string& encoding, const std::vector<std::string>& names) {
    const std::vector<std::pair<double, double>> places{
        {1.860, 47.915}, {1.909, 47.902}, {2.220, 47.860}, {1.700, 47.828}};
    std::vector<nlohmann::json> features;
    for (std::size_t i = 0; i < names.size(); ++i) {
      features.push_back(
          {{"properties", {{"nom", names[i]}}},
           {"geometry", {{"type", "Point"}, {"coordinates", {places[i].first, places[i].second}}}}});
    }
    const std::filesystem::path geojson = directory_.path() / "towns.geojson";
    write_file(geojson, feature_collection(features));
    const std::filesystem::path shapefile = directory_.path() / "towns.shp";
    const std::string command = "timeout 60 ogr2ogr -lco ENCODING=" + encoding + " '" + shapefile.string() +
                                "' '" + geojson.string() + "'";
    EXPECT_EQ(std::system(command.c_str()), 0) << command;
    return shapefile;
  }

  std::unique_ptr<mapnik::Map> shapefile_map(const std::filesystem::path& shapefile,
                                             const std::string& explicit_encoding = "") {
    std::map<std::string, std::string> parameters{{"type", "shape"}, {"file", shapefile.string()}};
    if (!explicit_encoding.empty()) parameters["encoding"] = explicit_encoding;
    return load_style(write_style(directory_.path(), {{"towns", parameters}}));
  }

  // The town names in the tile, as both decoders read them (they must agree).
  std::vector<std::string> tile_names(const mapnik::Map& map) {
    vector_settings settings;
    const std::string tile = render_vector_tile(map, loiret_tile, settings);
    EXPECT_FALSE(tile.empty());
    const std::filesystem::path file = directory_.path() / ("tile-" + std::to_string(tile_count_++) + ".mvt");
    write_file(file, tile);
    const decoded_tile gdal = decode_with_gdal(file, loiret_tile);
    std::vector<std::string> names;
    if (gdal.layers.empty()) return names;
    expect_same_content(gdal, decode_with_node({file}).at(0));
    for (const decoded_feature& feature : gdal.layers.front().features) {
      names.push_back(feature.properties.at("nom").get<std::string>());
    }
    return names;
  }

  temporary_directory directory_;
  int tile_count_ = 0;
};

// The tests that render tiles, and so need both decoders.
class ShapefileTiles : public ShapefileEncoding {
 protected:
  void SetUp() override {
    if (const auto missing = node_decoder_missing()) {
      GTEST_FAIL() << "JavaScript MVT decoder unavailable: " << *missing;
    }
  }
};

TEST_F(ShapefileEncoding, CpgFileNamesEncoding) {
  const std::filesystem::path shapefile = directory_.path() / "layer.shp";
  const std::vector<std::pair<std::string, std::string>> cases{
      {"UTF-8", "UTF-8"},         {"ISO-8859-1", "ISO-8859-1"},
      {"LATIN1", "LATIN1"},       {"1252", "windows-1252"},
      {"88591", "ISO-8859-1"},    {"885915", "ISO-8859-15"},
      {"65001", "UTF-8"},         {"437", "cp437"},
      {" CP1252 \r\n", "CP1252"},
  };
  for (const auto& [content, expected] : cases) {
    write_file(directory_.path() / "layer.cpg", content);
    EXPECT_EQ(shapefile_encoding(shapefile), expected) << "cpg '" << content << "'";
  }
  write_file(directory_.path() / "layer.cpg", "KLINGON-1");
  EXPECT_THROW(shapefile_encoding(shapefile), std::runtime_error);
}

TEST_F(ShapefileEncoding, UppercaseCpgIsFound) {
  write_file(directory_.path() / "LAYER.CPG", "UTF-8");
  EXPECT_EQ(shapefile_encoding(directory_.path() / "LAYER.SHP"), "UTF-8");
  EXPECT_EQ(shapefile_encoding(directory_.path() / "LAYER"), "UTF-8") << "path without extension";
}

TEST_F(ShapefileEncoding, LanguageDriverNamesEncoding) {
  const std::filesystem::path shapefile = make_shapefile("ISO-8859-1", town_names);
  std::filesystem::remove(directory_.path() / "towns.cpg");
  const std::filesystem::path dbf = directory_.path() / "towns.dbf";
  set_language_driver(dbf, 0x03);
  EXPECT_EQ(shapefile_encoding(shapefile), "windows-1252");
  set_language_driver(dbf, 0xC8);
  EXPECT_EQ(shapefile_encoding(shapefile), "windows-1250");
  set_language_driver(dbf, 0x57);
  EXPECT_EQ(shapefile_encoding(shapefile), "ISO-8859-1") << "0x57 names no code page";
  set_language_driver(dbf, 0x00);
  EXPECT_EQ(shapefile_encoding(shapefile), "ISO-8859-1") << "the DBF default";
  EXPECT_EQ(shapefile_encoding(directory_.path() / "missing.shp"), "ISO-8859-1");
}

TEST_F(ShapefileTiles, Latin1ShapefileGivesUtf8Tile) {
  const std::filesystem::path shapefile = make_shapefile("ISO-8859-1", town_names);
  ASSERT_EQ(read_bytes(directory_.path() / "towns.cpg"), "ISO-8859-1");
  ASSERT_NE(read_bytes(directory_.path() / "towns.dbf")
                .find("Orl\xE9"
                      "ans"),
            std::string::npos)
      << "the DBF should hold Latin-1 bytes";

  const auto map = shapefile_map(shapefile);
  apply_shapefile_encodings(*map);
  EXPECT_EQ(map->layers().front().datasource()->params().get<std::string>("encoding").value_or(""),
            "ISO-8859-1");
  EXPECT_EQ(tile_names(*map), town_names);
}

TEST_F(ShapefileTiles, DbfWithoutCpgIsReadAsLatin1) {
  const std::filesystem::path shapefile = make_shapefile("ISO-8859-1", town_names);
  std::filesystem::remove(directory_.path() / "towns.cpg");
  const auto map = shapefile_map(shapefile);
  apply_shapefile_encodings(*map);
  EXPECT_EQ(tile_names(*map), town_names);
}

TEST_F(ShapefileTiles, Windows1252LettersSurvive) {
  // Œ and œ exist in windows-1252 (0x8C, 0x9C) but not in Latin-1.
  const std::vector<std::string> names{"Cœur de ville", "Œuvre", "Orléans", "Île"};
  const std::filesystem::path shapefile = make_shapefile("CP1252", names);
  ASSERT_NE(read_bytes(directory_.path() / "towns.dbf")
                .find("C\x9C"
                      "ur"),
            std::string::npos);
  const auto map = shapefile_map(shapefile);
  apply_shapefile_encodings(*map);
  EXPECT_EQ(tile_names(*map), names);
}

TEST_F(ShapefileTiles, WithoutDetectionStringsStayValidUtf8) {
  // Mapnik alone reads the Latin-1 bytes as UTF-8; the invalid bytes must come out as U+FFFD,
  // never as invalid UTF-8 in the tile.
  const std::filesystem::path shapefile = make_shapefile("ISO-8859-1", town_names);
  const auto map = shapefile_map(shapefile);
  const std::vector<std::string> names = tile_names(*map);
  ASSERT_EQ(names.size(), town_names.size());
  EXPECT_EQ(names[0], "Saint-Jean-de-la-Ruelle");
  EXPECT_EQ(names[1], "Orl\uFFFDans");
  for (const std::string& name : names) EXPECT_TRUE(is_valid_utf8(name)) << name;
}

TEST_F(ShapefileTiles, InvalidByteInUtf8FileBecomesReplacement) {
  const std::filesystem::path shapefile = make_shapefile("UTF-8", town_names);
  const std::filesystem::path dbf = directory_.path() / "towns.dbf";
  std::string bytes = read_bytes(dbf);
  const std::size_t position = bytes.find("Saint-Jean");
  ASSERT_NE(position, std::string::npos);
  bytes[position + 5] = '\xFF';  // the '-' after "Saint"
  write_file(dbf, bytes);

  const auto map = shapefile_map(shapefile);
  apply_shapefile_encodings(*map);
  const std::vector<std::string> names = tile_names(*map);
  ASSERT_FALSE(names.empty());
  EXPECT_EQ(names[0], "Saint\uFFFDJean-de-la-Ruelle");
  EXPECT_EQ(names[1], "Orléans");
}

TEST_F(ShapefileTiles, ExplicitEncodingIsKept) {
  const std::filesystem::path shapefile = make_shapefile("ISO-8859-1", town_names);
  const auto map = shapefile_map(shapefile, "windows-1252");
  const mapnik::datasource_ptr before = map->layers().front().datasource();
  apply_shapefile_encodings(*map);
  EXPECT_EQ(map->layers().front().datasource(), before);
  EXPECT_EQ(tile_names(*map), town_names) << "windows-1252 reads these Latin-1 letters the same";
}

TEST_F(ShapefileEncoding, UnknownCpgFailsWithLayerName) {
  const std::filesystem::path shapefile = make_shapefile("ISO-8859-1", town_names);
  write_file(directory_.path() / "towns.cpg", "KLINGON-1");
  const auto map = shapefile_map(shapefile);
  try {
    apply_shapefile_encodings(*map);
    FAIL() << "expected a style_error";
  } catch (const style_error& error) {
    EXPECT_NE(std::string(error.what()).find("towns"), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("KLINGON-1"), std::string::npos) << error.what();
  }
}

}  // namespace
}  // namespace tuilerie
