// Checks of the test database that scripts/test-postgres.sh loads. Each flood layer, read through GDAL's
// PostgreSQL driver, contains the same features, fids, attributes and geometries as the GeoPackage read
// through GDAL's GPKG driver. It is in EPSG:2154, with the key and index that the script promises.
#include "postgis_support.hpp"

#include <gdal_priv.h>
#include <gtest/gtest.h>
#include <ogrsf_frmts.h>

#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace tuilerie::testing {
namespace {

namespace fs = std::filesystem;

const fs::path flood_gpkg =
    fs::path(TUILERIE_SOURCE_DIR) / "data" / "flood" / "pprn-38DDT20130013-inondation-l93.gpkg";

// Lambert-93, the SRS of the GeoPackage layers.
constexpr const char* lambert93_code = "2154";

// Differences printed per test at most, so that a broken load does not print hundreds of features.
constexpr std::size_t max_differences_reported = 10;

struct feature_record {
  std::map<std::string, std::optional<std::string>> attributes;  // nullopt for a null or unset field
  std::vector<unsigned char> wkb;                                // ISO WKB, little-endian
};

using features_by_fid = std::map<GIntBig, feature_record>;

// Opens a vector dataset with one driver only, so that a connection string or path that the intended
// driver does not take fails here instead of being read by another driver.
GDALDatasetUniquePtr open_vector(const std::string& name, const char* driver) {
  static std::once_flag registered;
  std::call_once(registered, [] { GDALAllRegister(); });
  const char* const drivers[] = {driver, nullptr};
  return GDALDatasetUniquePtr(GDALDataset::Open(name.c_str(), GDAL_OF_VECTOR | GDAL_OF_READONLY, drivers));
}

std::string postgis_connection() { return gdal_connection_string(read_test_database()); }

features_by_fid read_features(OGRLayer& layer) {
  features_by_fid features;
  layer.ResetReading();
  for (const auto& feature : layer) {
    feature_record record;
    for (int i = 0; i < feature->GetFieldCount(); ++i) {
      const std::string name = feature->GetFieldDefnRef(i)->GetNameRef();
      if (feature->IsFieldSetAndNotNull(i)) {
        record.attributes[name] = feature->GetFieldAsString(i);
      } else {
        record.attributes[name] = std::nullopt;
      }
    }
    if (const OGRGeometry* geometry = feature->GetGeometryRef()) {
      record.wkb.resize(geometry->WkbSize());
      geometry->exportToWkb(wkbNDR, record.wkb.data(), wkbVariantIso);
    }
    features.emplace(feature->GetFID(), std::move(record));
  }
  return features;
}

std::set<GIntBig> fids_of(const features_by_fid& features) {
  std::set<GIntBig> fids;
  for (const auto& [fid, record] : features) fids.insert(fid);
  return fids;
}

std::string describe(const std::optional<std::string>& value) { return value ? "'" + *value + "'" : "null"; }

// Lists the attributes whose values differ between two features of the same fid.
std::vector<std::string> attribute_differences(const features_by_fid& expected,
                                               const features_by_fid& actual) {
  std::vector<std::string> differences;
  for (const auto& [fid, expected_record] : expected) {
    const auto found = actual.find(fid);
    if (found == actual.end()) continue;
    for (const auto& [name, value] : expected_record.attributes) {
      const auto actual_value = found->second.attributes.find(name);
      if (actual_value == found->second.attributes.end()) {
        differences.push_back("fid " + std::to_string(fid) + ": field " + name + " missing");
      } else if (actual_value->second != value) {
        differences.push_back("fid " + std::to_string(fid) + ": " + name + " is " +
                              describe(actual_value->second) + ", expected " + describe(value));
      }
    }
  }
  return differences;
}

std::vector<GIntBig> fids_with_other_geometry(const features_by_fid& expected,
                                              const features_by_fid& actual) {
  std::vector<GIntBig> fids;
  for (const auto& [fid, expected_record] : expected) {
    const auto found = actual.find(fid);
    if (found != actual.end() && found->second.wkb != expected_record.wkb) fids.push_back(fid);
  }
  return fids;
}

template <typename Item>
std::string first_items(const std::vector<Item>& items) {
  std::string text;
  for (std::size_t i = 0; i < items.size() && i < max_differences_reported; ++i) {
    if constexpr (std::is_same_v<Item, std::string>) {
      text += items[i] + "\n";
    } else {
      text += std::to_string(items[i]) + "\n";
    }
  }
  return text;
}

std::map<std::string, std::string> field_types(OGRLayer& layer) {
  std::map<std::string, std::string> types;
  OGRFeatureDefn* definition = layer.GetLayerDefn();
  for (int i = 0; i < definition->GetFieldCount(); ++i) {
    const OGRFieldDefn* field = definition->GetFieldDefn(i);
    types[field->GetNameRef()] = OGRFieldDefn::GetFieldTypeName(field->GetType());
  }
  return types;
}

// One flood layer, opened from the GeoPackage and from the database.
class FloodLayerCopy : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    gpkg_ = open_vector(flood_gpkg.string(), "GPKG");
    ASSERT_NE(gpkg_, nullptr) << "GDAL's GPKG driver cannot open " << flood_gpkg;
    postgis_ = open_vector(postgis_connection(), "PostgreSQL");
    ASSERT_NE(postgis_, nullptr) << "GDAL's PostgreSQL driver cannot open " << postgis_connection() << ": "
                                 << CPLGetLastErrorMsg();
    gpkg_layer_ = gpkg_->GetLayerByName(GetParam().c_str());
    ASSERT_NE(gpkg_layer_, nullptr) << "no layer " << GetParam() << " in " << flood_gpkg;
    postgis_layer_ = postgis_->GetLayerByName(table().c_str());
    ASSERT_NE(postgis_layer_, nullptr) << "no table " << table() << " in the test database";
  }

  std::string table() const { return "flood." + GetParam(); }

  GDALDatasetUniquePtr gpkg_;
  GDALDatasetUniquePtr postgis_;
  OGRLayer* gpkg_layer_ = nullptr;
  OGRLayer* postgis_layer_ = nullptr;
};

TEST_P(FloodLayerCopy, SameFeatureCount) {
  const GIntBig expected = gpkg_layer_->GetFeatureCount();
  ASSERT_GT(expected, 0);
  EXPECT_EQ(postgis_layer_->GetFeatureCount(), expected);
  EXPECT_EQ(run_sql(read_test_database(), "SELECT count(*) FROM " + table()),
            std::to_string(expected) + "\n");
}

TEST_P(FloodLayerCopy, SameFids) {
  EXPECT_EQ(fids_of(read_features(*postgis_layer_)), fids_of(read_features(*gpkg_layer_)));
}

TEST_P(FloodLayerCopy, SameFieldsAndTypes) {
  EXPECT_EQ(field_types(*postgis_layer_), field_types(*gpkg_layer_));
}

TEST_P(FloodLayerCopy, SameAttributeValues) {
  const auto expected = read_features(*gpkg_layer_);
  const auto actual = read_features(*postgis_layer_);
  ASSERT_EQ(fids_of(actual), fids_of(expected));
  const auto differences = attribute_differences(expected, actual);
  EXPECT_TRUE(differences.empty()) << differences.size() << " attribute values differ, the first ones:\n"
                                   << first_items(differences);
}

TEST_P(FloodLayerCopy, SameGeometries) {
  const auto expected = read_features(*gpkg_layer_);
  const auto actual = read_features(*postgis_layer_);
  ASSERT_EQ(fids_of(actual), fids_of(expected));
  // Both formats store coordinates as IEEE doubles, so a copy keeps them bit for bit.
  const auto fids = fids_with_other_geometry(expected, actual);
  EXPECT_TRUE(fids.empty()) << fids.size() << " geometries differ, for example at fids:\n"
                            << first_items(fids);
}

TEST_P(FloodLayerCopy, SridIs2154) {
  const auto database = read_test_database();
  EXPECT_EQ(run_sql(database, "SELECT Find_SRID('flood', '" + GetParam() + "', 'geom')"),
            std::string(lambert93_code) + "\n");
  EXPECT_EQ(run_sql(database, "SELECT DISTINCT ST_SRID(geom) FROM " + table()),
            std::string(lambert93_code) + "\n");

  const OGRSpatialReference* srs = postgis_layer_->GetSpatialRef();
  ASSERT_NE(srs, nullptr) << "GDAL reads no SRS for " << table();
  ASSERT_NE(srs->GetAuthorityCode(nullptr), nullptr);
  EXPECT_STREQ(srs->GetAuthorityCode(nullptr), lambert93_code);
}

TEST_P(FloodLayerCopy, KeyAndGeometryColumnNames) {
  EXPECT_STREQ(postgis_layer_->GetFIDColumn(), "fid");
  EXPECT_STREQ(postgis_layer_->GetGeometryColumn(), "geom");
  const std::string primary_key_sql =
      "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = "
      "ANY(i.indkey) "
      "WHERE i.indrelid = '" +
      table() + "'::regclass AND i.indisprimary";
  EXPECT_EQ(run_sql(read_test_database(), primary_key_sql), "fid\n");
}

TEST_P(FloodLayerCopy, GistIndexOnGeometry) {
  const std::string sql = "SELECT indexdef FROM pg_indexes WHERE schemaname = 'flood' AND tablename = '" +
                          GetParam() + "' AND indexdef LIKE '%USING gist (geom)%'";
  const std::string indexes = run_sql(read_test_database(), sql);
  EXPECT_NE(indexes, "") << "no GiST index on " << table() << ".geom";
}

TEST_P(FloodLayerCopy, NextFidFollowsLastFid) {
  const auto fids = fids_of(read_features(*gpkg_layer_));
  ASSERT_FALSE(fids.empty());
  // last_value of the fid sequence: the next INSERT without a fid takes last_value + 1.
  const std::string sql = "SELECT last_value FROM " + table() + "_fid_seq";
  EXPECT_EQ(run_sql(read_test_database(), sql), std::to_string(*fids.rbegin()) + "\n");
}

INSTANTIATE_TEST_SUITE_P(Flood, FloodLayerCopy, ::testing::Values("zone_alea", "perimetre"));

TEST(TestDatabase, EnvFileListsLoopbackConnection) {
  const auto database = read_test_database();
  EXPECT_EQ(database.host, "127.0.0.1");
  EXPECT_GT(database.port, 0);
  EXPECT_LT(database.port, 65536);
  EXPECT_EQ(database.user, "postgres");
  EXPECT_EQ(database.database, "tuilerie");
}

TEST(TestDatabase, ListensOnLoopbackOnly) {
  EXPECT_EQ(run_sql(read_test_database(), "SHOW listen_addresses"), "127.0.0.1\n");
}

TEST(TestDatabase, PostgisExtensionInstalled) {
  EXPECT_EQ(run_sql(read_test_database(), "SELECT extname FROM pg_extension WHERE extname = 'postgis'"),
            "postgis\n");
}

TEST(TestDatabase, RunSqlReportsSqlErrors) {
  try {
    run_sql(read_test_database(), "SELECT * FROM flood.no_such_table");
    FAIL() << "run_sql returned for a missing table";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("no_such_table"), std::string::npos) << error.what();
  }
}

TEST(TestDatabase, MissingEnvFileNamesTheFix) {
  const fs::path directory = fs::temp_directory_path() / "tuilerie-no-such-postgis-dir";
  try {
    read_test_database(directory);
    FAIL() << "read_test_database returned without an env file";
  } catch (const std::runtime_error& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find((directory / "env").string()), std::string::npos) << message;
    EXPECT_NE(message.find("scripts/test-postgres.sh start"), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace tuilerie::testing
