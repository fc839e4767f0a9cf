// The feature routes of a real server, read by GDAL's own clients: the OAPIF driver (ogrinfo, ogr2ogr
// following next links) and the WMTS driver (gdal_translate), plus KVP GetTile through the server.
#include "feature_test_data.hpp"
#include "images.hpp"
#include "server_process.hpp"

#include "server/config.hpp"

#include <fmt/format.h>
#include <gdal_priv.h>
#include <gtest/gtest.h>
#include <ogrsf_frmts.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace tuilerie::testing {
namespace {

const std::filesystem::path source_dir = TUILERIE_SOURCE_DIR;
const std::filesystem::path test_config = source_dir / "config" / "test.yaml";

// GDAL's WMS and WMTS drivers would otherwise keep tiles in ./gdalwmscache, in the source tree, and a
// later run could read those instead of the server's.
const std::string no_tile_cache = "--config GDAL_ENABLE_WMS_CACHE NO";

// Half the side of the EPSG:3857 square, pi * 6378137 m.
constexpr double half_world_m = 20037508.342789244;

struct command_result {
  int exit_status = -1;
  std::string output;  // standard output and error
};

// Runs a shell command under a time limit.
command_result run(const std::string& command, int time_limit_s = 120) {
  command_result result;
  FILE* pipe = popen(("timeout " + std::to_string(time_limit_s) + " " + command + " 2>&1").c_str(), "r");
  if (!pipe) return result;
  char buffer[4096];
  while (const auto count = std::fread(buffer, 1, sizeof buffer, pipe)) result.output.append(buffer, count);
  const int status = pclose(pipe);
  result.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

std::string read_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Every feature's value of one field, counted, read with GDAL directly.
std::multiset<std::string> field_values(OGRLayer& layer, const char* field) {
  std::multiset<std::string> values;
  layer.ResetReading();
  while (auto feature = std::unique_ptr<OGRFeature>(layer.GetNextFeature()))
    values.insert(feature->GetFieldAsString(field));
  return values;
}

GDALDatasetUniquePtr open_vector(const std::filesystem::path& file) {
  return GDALDatasetUniquePtr(GDALDataset::Open(file.c_str(), GDAL_OF_VECTOR | GDAL_OF_READONLY));
}

class FeaturesServer : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    GDALAllRegister();
    server = new server_process(test_config);
    directory =
        std::filesystem::temp_directory_path() / ("tuilerie-features-server-" + std::to_string(getpid()));
    std::filesystem::create_directories(directory);
  }

  static void TearDownTestSuite() {
    delete server;
    server = nullptr;
    std::filesystem::remove_all(directory);
  }

  static std::string url(const std::string& path) {
    return fmt::format("http://127.0.0.1:{}{}", server->port(), path);
  }

  static server_process* server;
  static std::filesystem::path directory;
};

server_process* FeaturesServer::server = nullptr;
std::filesystem::path FeaturesServer::directory;

TEST_F(FeaturesServer, OgrinfoListsEveryCollection) {
  const auto result = run("ogrinfo -ro -q OAPIF:" + url("/ogc"));
  ASSERT_EQ(result.exit_status, 0) << result.output;
  const config settings = load_config(test_config);
  ASSERT_FALSE(settings.collections.empty());
  for (const auto& [id, collection] : settings.collections) {
    EXPECT_NE(result.output.find(": " + id + " "), std::string::npos) << id << "\n" << result.output;
  }
}

TEST_F(FeaturesServer, Ogr2ogrReadsWholeCollectionThroughPaging) {
  // GDAL requests pages of 1000, which the test server lowers to its ogc.max_limit of 50. So GDAL must
  // follow 6 next links to read the 326 communes in 7 pages.
  const auto output = directory / "communes.geojson";
  const auto result = run("ogr2ogr --debug on -f GeoJSON -oo PAGE_SIZE=1000 " + output.string() +
                          " OAPIF:" + url("/ogc") + " communes");
  ASSERT_EQ(result.exit_status, 0) << result.output;
  std::size_t next_pages = 0;
  std::istringstream lines(result.output);
  for (std::string line; std::getline(lines, line);) {
    const bool fetch = line.find("Fetch(") != std::string::npos;
    if (fetch && line.find("/collections/communes/items") != std::string::npos &&
        line.find("offset=") != std::string::npos) {
      ++next_pages;
    }
  }
  EXPECT_EQ(next_pages, 6u) << "GDAL did not follow the next links:\n" << result.output;

  auto copy = open_vector(output);
  auto source = open_vector(source_dir / "data/admin/communes-45-loiret.geojson");
  ASSERT_TRUE(copy);
  ASSERT_TRUE(source);
  EXPECT_EQ(copy->GetLayer(0)->GetFeatureCount(TRUE), source->GetLayer(0)->GetFeatureCount(TRUE));
  EXPECT_EQ(field_values(*copy->GetLayer(0), "code"), field_values(*source->GetLayer(0), "code"));
  EXPECT_EQ(field_values(*copy->GetLayer(0), "nom"), field_values(*source->GetLayer(0), "nom"));
}

TEST_F(FeaturesServer, Ogr2ogrReadsLambertCollection) {
  const auto output = directory / "flood_hazard.geojson";
  const auto result =
      run("ogr2ogr -f GeoJSON " + output.string() + " OAPIF:" + url("/ogc") + " flood_hazard");
  ASSERT_EQ(result.exit_status, 0) << result.output;
  auto copy = open_vector(output);
  auto source = open_vector(source_dir / "data/flood/pprn-38DDT20130013-inondation-l93.gpkg");
  ASSERT_TRUE(copy);
  ASSERT_TRUE(source);
  OGRLayer* zones = source->GetLayerByName("zone_alea");
  EXPECT_EQ(copy->GetLayer(0)->GetFeatureCount(TRUE), zones->GetFeatureCount(TRUE));
  EXPECT_EQ(field_values(*copy->GetLayer(0), "nivalea"), field_values(*zones, "nivalea"));
  EXPECT_EQ(field_values(*copy->GetLayer(0), "id_zone"), field_values(*zones, "id_zone"));

  // The copy's extent is that of the source geometries, reprojected by GDAL here.
  OGRSpatialReference wgs84;
  wgs84.importFromEPSG(4326);
  wgs84.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  std::unique_ptr<OGRCoordinateTransformation> to_lonlat(
      OGRCreateCoordinateTransformation(zones->GetSpatialRef(), &wgs84));
  OGREnvelope expected;
  zones->ResetReading();
  while (auto zone = std::unique_ptr<OGRFeature>(zones->GetNextFeature())) {
    std::unique_ptr<OGRGeometry> geometry(zone->GetGeometryRef()->clone());
    ASSERT_EQ(geometry->transform(to_lonlat.get()), OGRERR_NONE);
    OGREnvelope envelope;
    geometry->getEnvelope(&envelope);
    expected.Merge(envelope);
  }
  OGREnvelope extent;
  ASSERT_EQ(copy->GetLayer(0)->GetExtent(&extent, TRUE), OGRERR_NONE);
  // 1e-7 degrees is the rounding of the 7 decimals written.
  EXPECT_NEAR(extent.MinX, expected.MinX, 1e-7);
  EXPECT_NEAR(extent.MinY, expected.MinY, 1e-7);
  EXPECT_NEAR(extent.MaxX, expected.MaxX, 1e-7);
  EXPECT_NEAR(extent.MaxY, expected.MaxY, 1e-7);
}

TEST_F(FeaturesServer, OgrinfoFiltersByBbox) {
  const auto result = run("ogrinfo -ro -q -spat 1.90 47.89 1.92 47.91 OAPIF:" + url("/ogc") + " tao_stops");
  ASSERT_EQ(result.exit_status, 0) << result.output;
  auto source = open_vector(source_dir / "data/transport/tao-orleans-tram-a-b-bus-40-stops.geojson");
  OGRLayer* stops = source->GetLayer(0);
  stops->SetSpatialFilterRect(1.90, 47.89, 1.92, 47.91);
  std::size_t expected = 0;
  std::size_t listed = 0;
  for (const auto& name : field_values(*stops, "stop_id")) {
    ++expected;
    if (result.output.find(name) != std::string::npos) ++listed;
  }
  EXPECT_GT(expected, 0u);
  EXPECT_EQ(listed, expected) << result.output;
}

// The EPSG:3857 bounds of tile 10/517/356 (Orléans), by hand: 1024 tiles of 2 * half_world_m / 1024 m.
struct mercator_box {
  double west, south, east, north;
};

mercator_box orleans_tile_bounds() {
  const double size = 2 * half_world_m / 1024;
  return {-half_world_m + 517 * size, half_world_m - 357 * size, -half_world_m + 518 * size,
          half_world_m - 356 * size};
}

TEST_F(FeaturesServer, GdalWmtsDriverOpensCapabilities) {
  const auto result = run("gdalinfo " + no_tile_cache + " \"WMTS:" + url("/wmts/1.0.0/WMTSCapabilities.xml") +
                          ",layer=communes\"");
  ASSERT_EQ(result.exit_status, 0) << result.output;
  EXPECT_NE(result.output.find("Driver: WMTS"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("Pseudo-Mercator"), std::string::npos) << result.output;
}

TEST_F(FeaturesServer, GdalWmtsReadMatchesServerTile) {
  const auto box = orleans_tile_bounds();
  const auto output = directory / "wmts-tile.png";
  const auto result = run(fmt::format(
      "gdal_translate -q -of PNG -r nearest -oo TILEMATRIX=10 -outsize 256 256 -projwin {:.6f} {:.6f} {:.6f} "
      "{:.6f} "
      "--config GDAL_HTTP_TIMEOUT 60 {} \"WMTS:{},layer=communes\" {}",
      box.west, box.north, box.east, box.south, no_tile_cache, url("/wmts/1.0.0/WMTSCapabilities.xml"),
      output.string()));
  ASSERT_EQ(result.exit_status, 0) << result.output;

  const rgba_image from_gdal = decode_image(read_file(output));
  const auto tile = server->get("/tiles/communes/10/517/356.png");
  ASSERT_EQ(tile.status, 200u);
  const rgba_image from_server = decode_image(tile.body);
  ASSERT_EQ(from_gdal.width, 256);
  std::size_t opaque = 0;
  for (int y = 0; y < from_server.height; ++y) {
    for (int x = 0; x < from_server.width; ++x) opaque += from_server.at(x, y)[3] > 0;
  }
  EXPECT_GT(opaque, 1000u) << "the tile over Orléans should show communes";
  EXPECT_LT(differing_pixel_share(from_gdal, from_server, 2), 0.001);
}

TEST_F(FeaturesServer, KvpGetTileServesTheTile) {
  const auto direct = server->get("/tiles/communes/10/517/356.png");
  ASSERT_EQ(direct.status, 200u);
  auto reply = server->get(
      "/wmts?service=WMTS&request=GetTile&version=1.0.0&layer=communes&style=default"
      "&tilematrixset=GoogleMapsCompatible&tilematrix=10&tilerow=356&tilecol=517"
      "&format=image/png");
  if (reply.status == 302) {
    // Served by a redirect until the router hands KVP GetTile to the tile handler itself.
    const std::string location = reply.header("location");
    ASSERT_EQ(location, url("/tiles/communes/10/517/356.png"));
    reply = server->get("/tiles/communes/10/517/356.png");
  }
  ASSERT_EQ(reply.status, 200u);
  EXPECT_EQ(reply.header("content-type"), "image/png");
  EXPECT_EQ(reply.body, direct.body);
}

TEST_F(FeaturesServer, KvpErrorsAreExceptionReports) {
  const std::tuple<std::string, unsigned, std::string> cases[] = {
      {"/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=communes&STYLE=default"
       "&TILEMATRIXSET=GoogleMapsCompatible&TILEMATRIX=10&TILEROW=1024&TILECOL=517&FORMAT=image/png",
       400, "exceptionCode=\"TileOutOfRange\" locator=\"TILEROW\""},
      {"/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&STYLE=default", 400,
       "exceptionCode=\"MissingParameterValue\" locator=\"LAYER\""},
      {"/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=nope&STYLE=default"
       "&TILEMATRIXSET=GoogleMapsCompatible&TILEMATRIX=10&TILEROW=356&TILECOL=517&FORMAT=image/png",
       400, "exceptionCode=\"InvalidParameterValue\" locator=\"LAYER\""},
      {"/wmts?SERVICE=WMTS&REQUEST=GetFeatureInfo", 501, "exceptionCode=\"OperationNotSupported\""},
      {"/wmts?REQUEST=GetCapabilities", 400, "exceptionCode=\"MissingParameterValue\" locator=\"SERVICE\""},
  };
  for (const auto& [target, status, expected] : cases) {
    const auto reply = server->get(target);
    EXPECT_EQ(reply.status, status) << target;
    EXPECT_NE(reply.header("content-type").find("xml"), std::string::npos) << target;
    EXPECT_NE(reply.body.find(expected), std::string::npos) << target << "\n" << reply.body;
  }
  EXPECT_TRUE(server->alive());
}

TEST_F(FeaturesServer, KvpGetCapabilities) {
  const auto reply = server->get("/wmts?SERVICE=WMTS&REQUEST=GetCapabilities");
  ASSERT_EQ(reply.status, 200u);
  EXPECT_NE(reply.body.find("<ows:Identifier>communes</ows:Identifier>"), std::string::npos);
}

TEST_F(FeaturesServer, ResponsesCarryCorsAndHeadWorks) {
  const auto get = server->get("/ogc/collections", {{"Origin", "https://carte.example.fr"}});
  ASSERT_EQ(get.status, 200u);
  EXPECT_EQ(get.header("access-control-allow-origin"), "*");
  const auto head = server->get("/ogc/collections", {}, boost::beast::http::verb::head);
  EXPECT_EQ(head.status, 200u);
  EXPECT_TRUE(head.body.empty());
  EXPECT_EQ(head.header("content-length"), std::to_string(get.body.size()));
}

TEST_F(FeaturesServer, PointQueryThroughServer) {
  const auto reply = server->get("/query?lon=1.9093&lat=47.9029&layers=communes,air_stations&radius=2000");
  ASSERT_EQ(reply.status, 200u) << reply.body;
  EXPECT_EQ(reply.header("content-type"), "application/geo+json");
  const auto document = nlohmann::json::parse(reply.body);
  std::set<std::string> collections;
  for (const auto& feature : document["features"])
    collections.insert(feature["collection"].get<std::string>());
  EXPECT_EQ(collections, (std::set<std::string>{"communes", "air_stations"}));
}

TEST(FeaturesStartup, SourceWithoutCrsStopsServer) {
  temporary_directory data;
  const auto shapefile = write_lambert_point_shapefile(data.path(), false);
  const auto config_file = data.path() / "no-crs.yaml";
  std::ofstream(config_file) << "tilesets:\n  communes:\n    style: "
                             << (source_dir / "tests/data/config/minimal.xml").string()
                             << "\ncollections:\n  pts:\n    source: " << shapefile.string() << "\n";
  const auto result = run(tuilerie_binary().string() + " serve --config " + config_file.string() +
                              " --listen 127.0.0.1:0 --cache " + (data.path() / "cache").string(),
                          30);
  // main() exits with status 2 for an invalid configuration, before listening.
  EXPECT_EQ(result.exit_status, 2) << result.output;
  EXPECT_NE(result.output.find("invalid configuration"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("collections.pts.srs"), std::string::npos) << result.output;
  EXPECT_EQ(result.output.find("listening on"), std::string::npos) << result.output;
}

}  // namespace
}  // namespace tuilerie::testing
