// Fidelity on real data: the Romanche flood hazard zones (Lambert-93 GeoPackage) as vector tiles.
#include "render/vector_tile_renderer.hpp"

#include "mvt_test_support.hpp"
#include "render/mapnik_setup.hpp"

#include <gdal_priv.h>
#include <gtest/gtest.h>
#include <mapnik/map.hpp>
#include <ogr_spatialref.h>
#include <ogrsf_frmts.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

namespace tuilerie {
namespace {

using namespace mvt_test;

const std::filesystem::path flood_file = "data/flood/pprn-38DDT20130013-inondation-l93.gpkg";
constexpr const char* flood_layer = "zone_alea";

// Half the side of the EPSG:3857 square, in metres.
constexpr double half_world = 20037508.342789244;

struct source_summary {
  double area = 0;  // of the union of all zones, in square EPSG:3857 metres
  bbox lonlat;
};

// Reads every zone with GDAL, reprojects it to EPSG:3857 and measures the union, independently of
// Mapnik and of the code under test.
source_summary summarize_source(const std::filesystem::path& file) {
  GDALAllRegister();
  const GDALDatasetUniquePtr dataset(GDALDataset::Open(file.c_str(), GDAL_OF_VECTOR | GDAL_OF_READONLY));
  if (!dataset) throw std::runtime_error("GDAL cannot open " + file.string());
  OGRLayer* layer = dataset->GetLayerByName(flood_layer);
  OGRSpatialReference mercator;
  mercator.importFromEPSG(3857);
  OGRSpatialReference wgs84;
  wgs84.importFromEPSG(4326);
  wgs84.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  const std::unique_ptr<OGRCoordinateTransformation> to_mercator(
      OGRCreateCoordinateTransformation(layer->GetSpatialRef(), &mercator));

  OGRMultiPolygon zones;
  for (const auto& feature : *layer) {
    std::unique_ptr<OGRGeometry> geometry(feature->GetGeometryRef()->clone());
    geometry->transform(to_mercator.get());
    for (const OGRGeometry* polygon : *geometry->toMultiPolygon()) zones.addGeometry(polygon);
  }
  source_summary summary;
  const std::unique_ptr<OGRGeometry> united(zones.UnionCascaded());
  summary.area = united->toMultiPolygon()->get_Area();

  OGREnvelope envelope;
  zones.getEnvelope(&envelope);
  mercator_to_lonlat(envelope.MinX, envelope.MinY, summary.lonlat.minx, summary.lonlat.miny);
  mercator_to_lonlat(envelope.MaxX, envelope.MaxY, summary.lonlat.maxx, summary.lonlat.maxy);
  return summary;
}

class FloodFidelity : public ::testing::TestWithParam<int> {
 protected:
  static void SetUpTestSuite() { setup_mapnik(default_font_directories()); }

  void SetUp() override {
    if (!std::filesystem::exists(source_path(flood_file))) {
      GTEST_FAIL() << source_path(flood_file) << " is missing; the sample data of data/README.md is needed";
    }
    if (const auto missing = node_decoder_missing())
      GTEST_FAIL() << "JavaScript MVT decoder unavailable: " << *missing;
  }

  temporary_directory directory_;
};

TEST_P(FloodFidelity, UnionOfTilesMatchesSourceArea) {
  const int zoom = GetParam();
  const source_summary source = summarize_source(source_path(flood_file));
  const std::filesystem::path style =
      write_style(directory_.path(),
                  {{flood_layer,
                    {{"type", "ogr"}, {"file", source_path(flood_file).string()}, {"layer", flood_layer}},
                    "epsg:2154"}});
  const auto map = load_style(style);

  vector_settings settings;
  const tile_range range = tiles_covering(source.lonlat, zoom);
  ASSERT_LE(range.count(), 200u) << "bounds the test's run time";
  std::vector<tile_id> tiles;
  std::vector<std::filesystem::path> files;
  for (std::uint32_t x = range.min_x; x <= range.max_x; ++x) {
    for (std::uint32_t y = range.min_y; y <= range.max_y; ++y) {
      const tile_id tile{zoom, x, y};
      const std::string bytes = render_vector_tile(*map, tile, settings);
      if (bytes.empty()) continue;
      tiles.push_back(tile);
      files.push_back(directory_.path() / (std::to_string(x) + "-" + std::to_string(y) + ".mvt"));
      write_file(files.back(), bytes);
    }
  }
  ASSERT_FALSE(tiles.empty());
  const std::vector<decoded_tile> node_tiles = decode_with_node(files);
  ASSERT_EQ(node_tiles.size(), files.size());

  OGRMultiPolygon decoded_zones;
  int invalid_features = 0;
  for (std::size_t i = 0; i < tiles.size(); ++i) {
    const decoded_tile gdal = decode_with_gdal(files[i], tiles[i]);
    expect_same_content(gdal, node_tiles[i]);
    const double span = 2 * half_world / std::pow(2.0, zoom);
    const double minx = -half_world + tiles[i].x * span;
    const double maxy = half_world - tiles[i].y * span;
    const auto to_mercator = [&](const decoded_point& point) {
      return OGRRawPoint(minx + point.x * span / 4096, maxy - point.y * span / 4096);
    };
    for (const decoded_feature& feature : gdal.layers.at(0).features) {
      if (!is_valid_multipolygon(feature)) ++invalid_features;
      const std::unique_ptr<OGRMultiPolygon> polygons = to_multipolygon(feature, to_mercator);
      ASSERT_NE(polygons, nullptr);
      for (const OGRPolygon* polygon : *polygons) decoded_zones.addGeometry(polygon);
    }
  }
  EXPECT_EQ(invalid_features, 0);

  const std::unique_ptr<OGRGeometry> united(decoded_zones.UnionCascaded());
  ASSERT_NE(united, nullptr);
  const double area = united->toMultiPolygon()->get_Area();
  EXPECT_NEAR(area, source.area, 0.005 * source.area) << "zoom " << zoom << ", " << tiles.size() << " tiles";
}

// z12: 3 tiles, a unit about 1.7 m on the ground; z15: a few dozen tiles, a unit about 0.2 m.
INSTANTIATE_TEST_SUITE_P(Zooms, FloodFidelity, ::testing::Values(12, 15));

}  // namespace
}  // namespace tuilerie
