// MBTiles export read back by GDAL (gdalinfo, gdal_translate, ogrinfo) and SQLite and compared with the tiles
// that a real server sends, with stale tiles left out, and its option errors.
#include "command_runner.hpp"
#include "images.hpp"
#include "server_process.hpp"

#include "tests/tilecache/cache_test_support.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include <fmt/format.h>

#include <fstream>
#include <map>
#include <regex>
#include <sstream>

namespace tuilerie::testing {
namespace {

namespace fs = std::filesystem;

const fs::path source_dir = TUILERIE_SOURCE_DIR;
const fs::path test_config = source_dir / "config" / "test.yaml";

const std::string seed_bbox = "1.80,47.80,2.20,48.00";
const bbox seed_area{1.80, 47.80, 2.20, 48.00};
constexpr std::uint32_t communes_metatile = 8;  // tilesets.communes.metatile in config/test.yaml

// The z12 tile containing the centre of Orléans (1.909 E, 47.902 N).
const tile_id orleans_tile{12, 2069, 1425};

std::string read_file(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

command_result export_mbtiles(const fs::path& config, const fs::path& cache, const fs::path& output,
                              const std::string& format) {
  return run_tuilerie({"cache", "export", "--config", config.string(), "--cache", cache.string(), "--tileset",
                       "communes", "--mbtiles", output.string(), "--format", format});
}

std::string tile_target(const tile_id& tile, const std::string& extension) {
  return fmt::format("/tiles/communes/{}/{}/{}.{}", tile.z, tile.x, tile.y, extension);
}

// A read-only SQLite connection for checking an MBTiles file.
class sqlite_reader {
 public:
  explicit sqlite_reader(const fs::path& file) {
    if (sqlite3_open_v2(file.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
      throw std::runtime_error("cannot open " + file.string() + ": " + sqlite3_errmsg(db_));
    }
  }
  ~sqlite_reader() { sqlite3_close(db_); }
  sqlite_reader(const sqlite_reader&) = delete;
  sqlite_reader& operator=(const sqlite_reader&) = delete;

  // Runs a query and returns every row, each column as text or blob bytes.
  std::vector<std::vector<std::string>> rows(const std::string& sql) const {
    sqlite3_stmt* statement = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &statement, nullptr) != SQLITE_OK) {
      throw std::runtime_error(sql + ": " + sqlite3_errmsg(db_));
    }
    std::vector<std::vector<std::string>> result;
    while (sqlite3_step(statement) == SQLITE_ROW) {
      std::vector<std::string> row;
      for (int column = 0; column < sqlite3_column_count(statement); ++column) {
        const auto* bytes = static_cast<const char*>(sqlite3_column_blob(statement, column));
        row.emplace_back(bytes == nullptr ? "" : std::string(bytes, sqlite3_column_bytes(statement, column)));
      }
      result.push_back(std::move(row));
    }
    sqlite3_finalize(statement);
    return result;
  }

  std::map<std::string, std::string> metadata() const {
    std::map<std::string, std::string> values;
    for (const auto& row : rows("SELECT name, value FROM metadata")) values[row[0]] = row[1];
    return values;
  }

 private:
  sqlite3* db_ = nullptr;
};

// A cache seeded with the Orléans area as PNG (z0-12) and MVT (z0-10), its
// exports, and a server reading the same cache.
class ExportedCache : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    directory = new temporary_directory();
    for (const auto& [format, zoom] : {std::pair{"png", "0-12"}, std::pair{"mvt", "0-10"}}) {
      seed_results.push_back(run_tuilerie({"seed", "--config", test_config.string(), "--cache", cache().string(),
                                           "--tileset", "communes", "--bbox", seed_bbox, "--zoom", zoom, "--format",
                                           format}));
    }
    // An old file in the way is replaced.
    std::ofstream(raster_file()) << "not an MBTiles file";
    raster_export = new command_result(export_mbtiles(test_config, cache(), raster_file(), "png"));
    vector_export = new command_result(export_mbtiles(test_config, cache(), vector_file(), "mvt"));
    server = new server_process(test_config, cache());
  }
  static void TearDownTestSuite() {
    delete server;
    delete vector_export;
    delete raster_export;
    delete directory;
    seed_results.clear();
  }

  void SetUp() override {
    for (const auto& seed : seed_results) ASSERT_EQ(seed.exit_status, 0) << seed.out << seed.err;
  }

  static fs::path cache() { return directory->path() / "cache"; }
  static fs::path raster_file() { return directory->path() / "communes.mbtiles"; }
  static fs::path vector_file() { return directory->path() / "communes-vector.mbtiles"; }

  static temporary_directory* directory;
  static std::vector<command_result> seed_results;
  static command_result* raster_export;
  static command_result* vector_export;
  static server_process* server;
};

temporary_directory* ExportedCache::directory = nullptr;
std::vector<command_result> ExportedCache::seed_results;
command_result* ExportedCache::raster_export = nullptr;
command_result* ExportedCache::vector_export = nullptr;
server_process* ExportedCache::server = nullptr;

TEST_F(ExportedCache, RasterExportReportsItsTiles) {
  ASSERT_EQ(raster_export->exit_status, 0) << raster_export->err;
  const auto expected = expected_seeded_tiles(seed_area, 0, 12, communes_metatile);
  EXPECT_NE(raster_export->out.find(fmt::format("exported {} png tiles of tileset communes at zooms 0 to 12",
                                                expected.size())),
            std::string::npos)
      << raster_export->out;
  EXPECT_NE(raster_export->out.find("skipped 0 stale"), std::string::npos) << raster_export->out;
  EXPECT_FALSE(fs::exists(raster_file().string() + ".partial"));
}

TEST_F(ExportedCache, GdalinfoReportsBoundsAndZooms) {
  ASSERT_EQ(raster_export->exit_status, 0) << raster_export->err;
  const auto info = run_shell("gdalinfo -json " + raster_file().string());
  ASSERT_EQ(info.exit_status, 0) << info.out;
  const auto document = nlohmann::json::parse(info.out);
  EXPECT_EQ(document.at("driverShortName"), "MBTiles");
  const auto& metadata = document.at("metadata").at("");
  EXPECT_EQ(metadata.at("ZOOM_LEVEL"), "12");
  EXPECT_EQ(metadata.at("minzoom"), "0");
  EXPECT_EQ(metadata.at("maxzoom"), "12");
  EXPECT_EQ(metadata.at("format"), "png");
  EXPECT_EQ(metadata.at("type"), "overlay");
  EXPECT_EQ(metadata.at("name"), "Communes du Loiret");

  // The bounds are the extent of the seeded z12 metatiles, computed here from
  // the tile grid.
  const auto z12 = tiles_at_zoom(expected_seeded_tiles(seed_area, 0, 12, communes_metatile), 12);
  const auto& [first_z, first_x, first_y] = *z12.begin();
  const auto& [last_z, last_x, last_y] = *z12.rbegin();
  const bbox north_west = lonlat_bounds({first_z, first_x, first_y});
  const bbox south_east = lonlat_bounds({last_z, last_x, last_y});
  const bbox expected{north_west.minx, south_east.miny, south_east.maxx, north_west.maxy};
  const auto& ring = document.at("wgs84Extent").at("coordinates").at(0);
  double west = 180, south = 90, east = -180, north = -90;
  for (const auto& point : ring) {
    west = std::min(west, point[0].get<double>());
    east = std::max(east, point[0].get<double>());
    south = std::min(south, point[1].get<double>());
    north = std::max(north, point[1].get<double>());
  }
  constexpr double tolerance = 1e-6;  // degrees, about 10 cm
  EXPECT_NEAR(west, expected.minx, tolerance);
  EXPECT_NEAR(south, expected.miny, tolerance);
  EXPECT_NEAR(east, expected.maxx, tolerance);
  EXPECT_NEAR(north, expected.maxy, tolerance);
}

TEST_F(ExportedCache, GdalTranslateOfTileAreaMatchesServedTile) {
  ASSERT_EQ(raster_export->exit_status, 0) << raster_export->err;
  const bbox area = mercator_bounds(orleans_tile);
  const fs::path output = directory->path() / "orleans-z12.png";
  const auto translate = run_shell(fmt::format("gdal_translate -q -of PNG -projwin {} {} {} {} {} {}", area.minx,
                                               area.maxy, area.maxx, area.miny, raster_file().string(),
                                               output.string()));
  ASSERT_EQ(translate.exit_status, 0) << translate.out;

  const auto reply = server->get(tile_target(orleans_tile, "png"));
  ASSERT_EQ(reply.status, 200u);
  const rgba_image served = decode_image(reply.body);
  const rgba_image from_gdal = decode_image(read_file(output));
  ASSERT_EQ(from_gdal.width, 256);
  ASSERT_EQ(from_gdal.height, 256);
  // Both decode the same PNG bytes on the same pixel grid. The tolerance of 2
  // only absorbs rounding in how a decoder applies the palette's alpha.
  EXPECT_EQ(differing_pixel_share(served, from_gdal, 2), 0.0);
}

TEST_F(ExportedCache, TileRowIsFlippedOnce) {
  ASSERT_EQ(raster_export->exit_status, 0) << raster_export->err;
  const sqlite_reader mbtiles(raster_file());
  const std::uint32_t last_row = (1u << 12) - 1;

  // Every z12 row, flipped back, is a seeded tile, and every seeded tile is there.
  std::set<tile_triple> flipped_back;
  for (const auto& row : mbtiles.rows("SELECT tile_column, tile_row FROM tiles WHERE zoom_level = 12")) {
    flipped_back.insert({12, std::stoul(row[0]), last_row - std::stoul(row[1])});
  }
  const auto expected = expected_seeded_tiles(seed_area, 0, 12, communes_metatile);
  EXPECT_EQ(flipped_back, tiles_at_zoom(expected, 12));

  const auto rows = mbtiles.rows(fmt::format("SELECT tile_data FROM tiles WHERE zoom_level = 12 AND tile_column = {} "
                                             "AND tile_row = {}",
                                             orleans_tile.x, last_row - orleans_tile.y));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0], server->get(tile_target(orleans_tile, "png")).body);
  EXPECT_EQ(mbtiles.rows("SELECT count(*) FROM tiles")[0][0], std::to_string(expected.size()));
}

TEST_F(ExportedCache, SchemaHasUniqueIndexAndApplicationId) {
  ASSERT_EQ(raster_export->exit_status, 0) << raster_export->err;
  const sqlite_reader mbtiles(raster_file());
  EXPECT_EQ(mbtiles.rows("PRAGMA application_id")[0][0], std::to_string(0x4d504258));
  const auto indexes = mbtiles.rows("SELECT name FROM pragma_index_list('tiles') WHERE \"unique\" = 1");
  ASSERT_EQ(indexes.size(), 1u);
  const auto columns = mbtiles.rows("SELECT name FROM pragma_index_info('" + indexes[0][0] + "')");
  EXPECT_EQ(columns, (std::vector<std::vector<std::string>>{{"zoom_level"}, {"tile_column"}, {"tile_row"}}));

  const auto metadata = mbtiles.metadata();
  for (const char* name : {"name", "format", "bounds", "center", "minzoom", "maxzoom", "attribution", "description",
                           "type", "version"}) {
    EXPECT_TRUE(metadata.contains(name)) << name;
  }
  EXPECT_FALSE(metadata.contains("json")) << "only vector tilesets have a json row";
  EXPECT_EQ(metadata.at("center"), "1.909,47.902,9");
}

TEST_F(ExportedCache, VectorExportReadByOgrinfo) {
  ASSERT_EQ(vector_export->exit_status, 0) << vector_export->err;
  const auto summary = run_shell("ogrinfo -ro -so -al " + vector_file().string());
  ASSERT_EQ(summary.exit_status, 0) << summary.out;
  EXPECT_NE(summary.out.find("using driver `MBTiles'"), std::string::npos) << summary.out;
  EXPECT_NE(summary.out.find("Layer name: communes"), std::string::npos) << summary.out;
  EXPECT_NE(summary.out.find("Layer name: departement"), std::string::npos) << summary.out;
  EXPECT_NE(summary.out.find("nom: String"), std::string::npos) << summary.out;

  // Orléans (INSEE code 45234) is in the communes layer, read from the z10
  // tiles of the file.
  const auto orleans = run_shell("ogrinfo -ro -q " + vector_file().string() + " communes -where \"code = '45234'\"");
  ASSERT_EQ(orleans.exit_status, 0) << orleans.out;
  EXPECT_NE(orleans.out.find("nom (String) = Orléans"), std::string::npos) << orleans.out;
}

TEST_F(ExportedCache, VectorExportHasJsonRowAndGzipTiles) {
  ASSERT_EQ(vector_export->exit_status, 0) << vector_export->err;
  const sqlite_reader mbtiles(vector_file());
  const auto metadata = mbtiles.metadata();
  EXPECT_EQ(metadata.at("format"), "pbf");
  const auto json = nlohmann::json::parse(metadata.at("json"));
  std::map<std::string, nlohmann::json> layers;
  for (const auto& layer : json.at("vector_layers")) layers[layer.at("id")] = layer;
  ASSERT_EQ(layers.size(), 2u);
  EXPECT_EQ(layers.at("communes").at("fields"), (nlohmann::json{{"code", "String"}, {"nom", "String"}}));
  EXPECT_EQ(layers.at("communes").at("minzoom"), 6) << "tilesets.communes.vector.layers.communes.minzoom";
  EXPECT_EQ(layers.at("departement").at("description"), "");

  // RFC 1952: a gzip member starts with 0x1f 0x8b.
  for (const auto& row : mbtiles.rows("SELECT tile_data FROM tiles")) {
    ASSERT_GE(row[0].size(), 2u);
    EXPECT_EQ(row[0].substr(0, 2), "\x1f\x8b");
  }
}

TEST_F(ExportedCache, NoFreshTilesWritesNoFile) {
  const fs::path output = directory->path() / "communes-webp.mbtiles";
  const auto result = export_mbtiles(test_config, cache(), output, "webp");
  EXPECT_EQ(result.exit_status, 1) << result.out << result.err;
  EXPECT_NE(result.err.find("no fresh webp tile of tileset communes"), std::string::npos) << result.err;
  EXPECT_FALSE(fs::exists(output));
  EXPECT_FALSE(fs::exists(output.string() + ".partial"));
}

TEST(CacheExport, RejectsBadOptionsWithStatus2) {
  temporary_directory directory;
  const fs::path cache = directory.path() / "cache";
  const fs::path output = directory.path() / "out.mbtiles";
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases{
      {{"--tileset", "communes", "--mbtiles", output.string(), "--format", "jpg"}, "--format"},
      {{"--tileset", "relief", "--mbtiles", output.string(), "--format", "mvt"}, "--format"},
      {{"--tileset", "nowhere", "--mbtiles", output.string()}, "--tileset"},
      {{"--tileset", "communes"}, "--mbtiles"},
      {{"--tileset", "communes", "--mbtiles", output.string(), "--format", "mvt", "--scale", "2"}, "--scale"},
  };
  for (const auto& [options, option] : cases) {
    std::vector<std::string> arguments{"cache", "export", "--config", test_config.string(), "--cache",
                                       cache.string()};
    arguments.insert(arguments.end(), options.begin(), options.end());
    const auto result = run_tuilerie(arguments);
    EXPECT_EQ(result.exit_status, 2) << option << ": " << result.out << result.err;
    EXPECT_NE((result.out + result.err).find(option), std::string::npos) << result.out << result.err;
  }
  EXPECT_FALSE(fs::exists(cache));
  EXPECT_FALSE(fs::exists(output));
}

// A private copy of the communes style and data with its own configuration,
// so that a test can edit the style and make the cached tiles stale.
class editable_communes {
 public:
  explicit editable_communes(const fs::path& root) : root_(root) {
    fs::create_directories(root_ / "styles");
    fs::create_directories(root_ / "data" / "admin");
    fs::copy_file(source_dir / "styles" / "communes.xml", style());
    for (const char* name : {"communes-45-loiret.geojson", "departement-45-loiret.geojson"}) {
      fs::copy_file(source_dir / "data" / "admin" / name, root_ / "data" / "admin" / name);
    }
    std::ofstream(config()) << "cache:\n  path: cache\n"
                            << "tilesets:\n  communes:\n    style: styles/communes.xml\n"
                            << "    formats: [png]\n    bounds: [1.45, 47.45, 3.20, 48.40]\n";
  }

  fs::path config() const { return root_ / "config.yaml"; }
  fs::path cache() const { return root_ / "cache"; }
  fs::path style() const { return root_ / "styles" / "communes.xml"; }

  // Changes the style's bytes, and so the tileset's data version, without
  // changing what it draws.
  void touch_style() const {
    std::string text = read_file(style());
    const auto end = text.rfind("</Map>");
    ASSERT_NE(end, std::string::npos);
    text.insert(end, "<!-- edited by the test -->\n");
    std::ofstream(style(), std::ios::binary | std::ios::trunc) << text;
  }

 private:
  fs::path root_;
};

TEST(CacheExport, LeavesOutStaleTilesAndCountsThem) {
  temporary_directory directory;
  const editable_communes tileset(directory.path());
  const auto seed = [&](const std::string& zoom) {
    return run_tuilerie({"seed", "--config", tileset.config().string(), "--tileset", "communes", "--bbox", seed_bbox,
                         "--zoom", zoom});
  };
  ASSERT_EQ(seed("0-8").exit_status, 0);
  tileset.touch_style();
  const auto reseed = seed("0-6");
  ASSERT_EQ(reseed.exit_status, 0) << reseed.err;
  const auto fresh = expected_seeded_tiles(seed_area, 0, 6, communes_metatile);
  const auto all = expected_seeded_tiles(seed_area, 0, 8, communes_metatile);
  EXPECT_EQ(parse_seed_summary(reseed.out).rendered, static_cast<long long>(fresh.size()))
      << "tiles of the old data version are rendered again";

  const auto stats = run_tuilerie({"cache", "stats", "--config", tileset.config().string(), "--json"});
  ASSERT_EQ(stats.exit_status, 0) << stats.err;
  const auto total = nlohmann::json::parse(stats.out).at("total");
  EXPECT_EQ(total.at("fresh").get<std::size_t>(), fresh.size());
  EXPECT_EQ(total.at("stale").get<std::size_t>(), all.size() - fresh.size());

  const fs::path output = directory.path() / "fresh.mbtiles";
  const auto result = export_mbtiles(tileset.config(), tileset.cache(), output, "png");
  ASSERT_EQ(result.exit_status, 0) << result.err;
  EXPECT_NE(result.out.find(fmt::format("exported {} png tiles", fresh.size())), std::string::npos) << result.out;
  EXPECT_NE(result.out.find(fmt::format("skipped {} stale", all.size() - fresh.size())), std::string::npos)
      << result.out;
  const sqlite_reader mbtiles(output);
  EXPECT_EQ(mbtiles.metadata().at("maxzoom"), "6");
  EXPECT_EQ(mbtiles.rows("SELECT count(*) FROM tiles")[0][0], std::to_string(fresh.size()));
}

}  // namespace
}  // namespace tuilerie::testing
