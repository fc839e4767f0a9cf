// Writing the small test files with GDAL, and opening the repository's data.
#include "feature_test_data.hpp"

#include <cstdlib>
#include <fstream>
#include <stdexcept>

namespace tuilerie::testing {

namespace {

GDALDatasetUniquePtr create_vector(const char* driver_name, const std::filesystem::path& file) {
  GDALAllRegister();
  GDALDriver* driver = GetGDALDriverManager()->GetDriverByName(driver_name);
  if (!driver) throw std::runtime_error(std::string("GDAL has no driver ") + driver_name);
  GDALDatasetUniquePtr dataset(driver->Create(file.c_str(), 0, 0, 0, GDT_Unknown, nullptr));
  if (!dataset) throw std::runtime_error("cannot create " + file.string());
  return dataset;
}

void add_field(OGRLayer& layer, const char* name, OGRFieldType type) {
  OGRFieldDefn field(name, type);
  if (layer.CreateField(&field) != OGRERR_NONE)
    throw std::runtime_error(std::string("cannot add field ") + name);
}

}  // namespace

temporary_directory::temporary_directory() {
  std::string pattern = (std::filesystem::temp_directory_path() / "tuilerie-features-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

temporary_directory::~temporary_directory() {
  std::error_code error;
  std::filesystem::remove_all(path_, error);
}

std::filesystem::path write_null_height_geojson(const std::filesystem::path& directory) {
  const auto file = directory / "null-height.geojson";
  std::ofstream out(file);
  out << R"({"type":"FeatureCollection","features":[
 {"type":"Feature","properties":{"nom":"Zone A","hauteur_m":1.5},"geometry":{"type":"Point","coordinates":[2.356,48.855]}},
 {"type":"Feature","properties":{"nom":"Zone B","hauteur_m":null},"geometry":{"type":"Point","coordinates":[2.366,48.860]}}]})";
  return file;
}

std::filesystem::path write_big_numbers_geopackage(const std::filesystem::path& directory) {
  const auto file = directory / "big-numbers.gpkg";
  auto dataset = create_vector("GPKG", file);
  OGRSpatialReference wgs84;
  wgs84.importFromEPSG(4326);
  OGRLayer* layer = dataset->CreateLayer("numbers", &wgs84, wkbPoint, nullptr);
  add_field(*layer, "id_parcelle", OFTInteger64);
  add_field(*layer, "surface_m2", OFTReal);
  add_field(*layer, "niveau_db", OFTInteger);
  add_field(*layer, "delta", OFTInteger);
  add_field(*layer, "ratio", OFTReal);
  add_field(*layer, "gros", OFTInteger64);
  OGRFeature feature(layer->GetLayerDefn());
  feature.SetField("id_parcelle", static_cast<GIntBig>(75056000123));
  feature.SetField("surface_m2", 1234.5678901);
  feature.SetField("niveau_db", 65);
  feature.SetField("delta", -3);
  feature.SetField("ratio", 0.1);
  feature.SetField("gros", static_cast<GIntBig>(9007199254740993));
  OGRPoint point(2.36, 48.856);
  feature.SetGeometry(&point);
  if (layer->CreateFeature(&feature) != OGRERR_NONE) throw std::runtime_error("cannot write the feature");
  return file;
}

std::filesystem::path write_lambert_point_shapefile(const std::filesystem::path& directory, bool with_prj) {
  const auto file = directory / (with_prj ? "point-with-prj.shp" : "point-without-prj.shp");
  auto dataset = create_vector("ESRI Shapefile", file);
  OGRSpatialReference lambert93;
  lambert93.importFromEPSG(2154);
  OGRLayer* layer =
      dataset->CreateLayer(file.stem().c_str(), with_prj ? &lambert93 : nullptr, wkbPoint, nullptr);
  add_field(*layer, "nom", OFTString);
  OGRFeature feature(layer->GetLayerDefn());
  feature.SetField("nom", "Hôtel de Ville");
  OGRPoint point(652469, 6862035);
  feature.SetGeometry(&point);
  if (layer->CreateFeature(&feature) != OGRERR_NONE) throw std::runtime_error("cannot write the feature");
  dataset.reset();
  if (!with_prj && std::filesystem::exists(std::filesystem::path(file).replace_extension(".prj"))) {
    throw std::runtime_error("GDAL wrote a .prj file for a layer without CRS");
  }
  return file;
}

GDALDatasetUniquePtr open_data(const std::string& relative_path) {
  GDALAllRegister();
  const auto file = std::filesystem::path(TUILERIE_SOURCE_DIR) / "data" / relative_path;
  GDALDatasetUniquePtr dataset(GDALDataset::Open(file.c_str(), GDAL_OF_VECTOR | GDAL_OF_READONLY));
  if (!dataset) throw std::runtime_error("cannot open " + file.string());
  return dataset;
}

}  // namespace tuilerie::testing
