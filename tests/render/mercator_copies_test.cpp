// Web Mercator copies of Lambert-93 layers: what a copy contains, when it is made again, and that
// tiles rendered from copies match tiles rendered from the sources.
#include "tilecache/mercator_copies.hpp"

#include "images.hpp"
#include "mvt_test_support.hpp"
#include "render/mapnik_setup.hpp"
#include "render/raster_renderer.hpp"
#include "render/style_sources.hpp"
#include "render/vector_tile_renderer.hpp"

#include <gdal_priv.h>
#include <gtest/gtest.h>
#include <mapnik/datasource.hpp>
#include <mapnik/layer.hpp>
#include <mapnik/params.hpp>
#include <mapnik/map.hpp>
#include <ogr_spatialref.h>
#include <ogrsf_frmts.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace tuilerie {
namespace {

using namespace mvt_test;
namespace fs = std::filesystem;

const fs::path flood_gpkg = "data/flood/pprn-38DDT20130013-inondation-l93.gpkg";
const std::string zones_sql = "SELECT * FROM zone_alea ORDER BY fid";

// The metatile of the flood zones south of Vizille, at z13: every flood layer draws in it.
constexpr metatile flood_metatile{13, 4224, 2944, 8};

GDALDatasetUniquePtr open_vector(const fs::path& file) {
  GDALAllRegister();
  GDALDatasetUniquePtr dataset(GDALDataset::Open(file.c_str(), GDAL_OF_VECTOR | GDAL_OF_READONLY));
  if (!dataset) throw std::runtime_error("GDAL cannot open " + file.string());
  return dataset;
}

std::vector<fs::path> files_in(const fs::path& directory) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(directory)) files.push_back(entry.path());
  return files;
}

class MercatorCopies : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { setup_mapnik(default_font_directories()); }

  temporary_directory directory_;
  mercator_copies copies_{directory_.path() / "mercator"};
};

TEST_F(MercatorCopies, CopyKeepsFidsOrderAndAttributes) {
  const auto copy = copies_.copy_of({source_path(flood_gpkg), "", zones_sql, "epsg:2154"});
  const auto source = open_vector(source_path(flood_gpkg));
  const auto copied = open_vector(copy);
  OGRLayer* source_layer = source->ExecuteSQL(zones_sql.c_str(), nullptr, nullptr);
  OGRLayer* copy_layer = copied->GetLayerByName(mercator_copies::copy_layer);
  ASSERT_NE(copy_layer, nullptr);
  ASSERT_EQ(copy_layer->GetFeatureCount(), source_layer->GetFeatureCount());
  EXPECT_EQ(copy_layer->GetSpatialRef()->GetAuthorityCode(nullptr), std::string("3857"));

  OGRSpatialReference mercator;
  mercator.importFromEPSG(3857);
  const std::unique_ptr<OGRCoordinateTransformation> to_mercator(
      OGRCreateCoordinateTransformation(source_layer->GetSpatialRef(), &mercator));
  for (const auto& copied_feature : *copy_layer) {
    const OGRFeatureUniquePtr original(source_layer->GetNextFeature());
    ASSERT_TRUE(original);
    EXPECT_EQ(copied_feature->GetFID(), original->GetFID());
    for (const char* field : {"id_zone", "nivalea", "descript"}) {
      EXPECT_STREQ(copied_feature->GetFieldAsString(field), original->GetFieldAsString(field)) << field;
    }
    std::unique_ptr<OGRGeometry> expected(original->GetGeometryRef()->clone());
    ASSERT_EQ(expected->transform(to_mercator.get()), OGRERR_NONE);
    OGREnvelope expected_box;
    OGREnvelope copied_box;
    expected->getEnvelope(&expected_box);
    copied_feature->GetGeometryRef()->getEnvelope(&copied_box);
    EXPECT_NEAR(copied_box.MinX, expected_box.MinX, 0.001) << "fid " << original->GetFID();
    EXPECT_NEAR(copied_box.MaxY, expected_box.MaxY, 0.001) << "fid " << original->GetFID();
  }
  source->ReleaseResultSet(source_layer);
}

TEST_F(MercatorCopies, SameVersionIsReused) {
  const layer_source source{source_path(flood_gpkg), "perimetre", "", "epsg:2154"};
  const auto first = copies_.copy_of(source);
  const auto written = fs::last_write_time(first);
  EXPECT_EQ(copies_.copy_of(source), first);
  EXPECT_EQ(fs::last_write_time(first), written);
  EXPECT_EQ(files_in(copies_.directory()).size(), 1u);
}

TEST_F(MercatorCopies, ChangedSourceGetsNewCopy) {
  const fs::path geojson = directory_.path() / "marks.geojson";
  const auto write_marks = [&geojson](const std::string& name) {
    write_file(geojson, R"({"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":")" +
                            name + R"("},"geometry":{"type":"Point","coordinates":[913000,6452000]}}]})");
  };
  write_marks("before");
  const layer_source source{geojson, "marks", "", "epsg:2154"};
  const auto first = copies_.copy_of(source);
  write_marks("after!");  // the same length, so only the contents tell the versions apart
  const auto second = copies_.copy_of(source);
  EXPECT_NE(second, first);
  EXPECT_FALSE(fs::exists(first)) << "the old version's copy is removed";
  EXPECT_EQ(files_in(copies_.directory()), std::vector<fs::path>{second});
  const auto copied = open_vector(second);
  const OGRFeatureUniquePtr feature(copied->GetLayerByName(mercator_copies::copy_layer)->GetNextFeature());
  ASSERT_TRUE(feature);
  EXPECT_STREQ(feature->GetFieldAsString("name"), "after!");
}

TEST_F(MercatorCopies, AbandonedPartialCopyIsRemoved) {
  const fs::path geojson = directory_.path() / "marks.geojson";
  write_file(geojson, R"({"type":"FeatureCollection","features":[]})");
  const layer_source source{geojson, "marks", "", "epsg:2154"};
  const std::string name = copies_.copy_of(source).filename().string();
  const std::string prefix = name.substr(0, name.find('-'));
  // Partial copies of an earlier version: one left by a killed process, one still being written.
  const fs::path abandoned = copies_.directory() / (prefix + "-0000000000000001.partial-1-0.gpkg");
  const fs::path in_progress = copies_.directory() / (prefix + "-0000000000000001.partial-2-0.gpkg");
  write_file(abandoned, "partial");
  write_file(in_progress, "partial");
  fs::last_write_time(abandoned, fs::file_time_type::clock::now() - std::chrono::hours(2));

  write_file(geojson, R"({"type":"FeatureCollection","features":[ ]})");
  copies_.copy_of(source);
  EXPECT_FALSE(fs::exists(abandoned));
  EXPECT_TRUE(fs::exists(in_progress));
}

TEST_F(MercatorCopies, MissingSourceNamesTheFile) {
  const fs::path missing = directory_.path() / "no-such-file.gpkg";
  try {
    copies_.copy_of({missing, "zones", "", "epsg:2154"});
    FAIL() << "copy_of returned for a missing file";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find(missing.string()), std::string::npos) << error.what();
  }
  EXPECT_FALSE(fs::exists(copies_.directory()) && !files_in(copies_.directory()).empty());
}

TEST_F(MercatorCopies, SqlOutOfIdOrderIsRejected) {
  try {
    copies_.copy_of({source_path(flood_gpkg), "", "SELECT * FROM zone_alea ORDER BY fid DESC", "epsg:2154"});
    FAIL() << "copy_of returned for features in descending id order";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("out of feature id order"), std::string::npos) << error.what();
  }
  EXPECT_FALSE(fs::exists(copies_.directory()) && !files_in(copies_.directory()).empty());
}

TEST_F(MercatorCopies, StyleLayersSwitchToCopies) {
  const auto map = load_style(source_path("styles/flood.xml"));
  use_mercator_copies(*map, copies_);
  for (const auto& layer : map->layers()) {
    const auto params = layer.datasource()->params();
    const std::string type = params.get<std::string>("type").value_or("");
    if (type == "ogr") {
      EXPECT_EQ(layer.srs(), "epsg:3857") << layer.name();
      EXPECT_EQ(fs::path(params.get<std::string>("file").value_or("")).parent_path(), copies_.directory())
          << layer.name();
    } else {
      EXPECT_EQ(layer.srs(), "epsg:2154") << layer.name() << ": a " << type << " layer keeps its source";
    }
  }
}

TEST_F(MercatorCopies, RasterTilesMatchSources) {
  const auto from_sources = load_style(source_path("styles/flood.xml"));
  const auto from_copies = load_style(source_path("styles/flood.xml"));
  use_mercator_copies(*from_copies, copies_);
  const raster_options options{tile_format::png, 1, 128};
  const auto expected = render_raster_metatile(*from_sources, flood_metatile, options);
  const auto rendered = render_raster_metatile(*from_copies, flood_metatile, options);
  ASSERT_EQ(rendered.size(), expected.size());
  testing::rgba_image blank{256, 256, std::vector<std::uint8_t>(256 * 256 * 4, 0)};
  std::size_t drawn_tiles = 0;
  for (std::size_t i = 0; i < rendered.size(); ++i) {
    const auto expected_image = testing::decode_image(expected[i].bytes);
    const auto image = testing::decode_image(rendered[i].bytes);
    EXPECT_LT(testing::differing_pixel_share(expected_image, image, 8), 0.001)
        << "tile " << rendered[i].tile.z << "/" << rendered[i].tile.x << "/" << rendered[i].tile.y;
    if (testing::differing_pixel_share(expected_image, blank, 0) > 0.05) ++drawn_tiles;
  }
  EXPECT_GE(drawn_tiles, 4u) << "flood zones are drawn in the metatile, so the comparison saw features";
}

TEST_F(MercatorCopies, VectorTilesMatchSources) {
  const auto from_sources = load_style(source_path("styles/flood.xml"));
  const auto from_copies = load_style(source_path("styles/flood.xml"));
  use_mercator_copies(*from_copies, copies_);
  const tile_id tile{12, 2113, 1472};
  const std::string expected = render_vector_tile(*from_sources, tile, vector_settings{});
  const std::string rendered = render_vector_tile(*from_copies, tile, vector_settings{});
  ASSERT_FALSE(expected.empty());
  write_file(directory_.path() / "expected.mvt", expected);
  write_file(directory_.path() / "rendered.mvt", rendered);
  const auto expected_tile = decode_with_gdal(directory_.path() / "expected.mvt", tile);
  const auto rendered_tile = decode_with_gdal(directory_.path() / "rendered.mvt", tile);
  ASSERT_EQ(rendered_tile.layers.size(), expected_tile.layers.size());
  for (const auto& expected_layer : expected_tile.layers) {
    const decoded_layer* layer = rendered_tile.find(expected_layer.name);
    ASSERT_NE(layer, nullptr) << expected_layer.name;
    ASSERT_EQ(layer->features.size(), expected_layer.features.size()) << expected_layer.name;
    for (std::size_t i = 0; i < layer->features.size(); ++i) {
      EXPECT_EQ(layer->features[i].id, expected_layer.features[i].id) << expected_layer.name;
      EXPECT_EQ(layer->features[i].properties, expected_layer.features[i].properties) << expected_layer.name;
      EXPECT_EQ(layer->features[i].type, expected_layer.features[i].type) << expected_layer.name;
    }
  }
}

}  // namespace
}  // namespace tuilerie
