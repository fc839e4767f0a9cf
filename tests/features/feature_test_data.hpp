// Small vector files made for feature tests with GDAL, each named for the case it holds,
// and direct GDAL reads of the real data that tests compare the API with.
#pragma once

#include <gdal_priv.h>
#include <ogrsf_frmts.h>

#include <filesystem>
#include <memory>
#include <string>

namespace tuilerie::testing {

// A fresh temporary directory, removed with the object.
class temporary_directory {
 public:
  temporary_directory();
  ~temporary_directory();
  temporary_directory(const temporary_directory&) = delete;
  temporary_directory& operator=(const temporary_directory&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Two points with "nom" and "hauteur_m"; zone B's hauteur_m is null.
std::filesystem::path write_null_height_geojson(const std::filesystem::path& directory);

// One point whose properties need exact JSON numbers: int64 values beyond
// 2^53 (9007199254740993) and 2^31 (75056000123), decimals that a float would
// change (1234.5678901, 0.1), small and negative integers. A GeoPackage, so
// that the int64 column keeps its type.
std::filesystem::path write_big_numbers_geopackage(const std::filesystem::path& directory);

// One point in Lambert-93 at E 652469, N 6862035 (central Paris), as a
// Shapefile with its .prj file (with_prj) or without one.
std::filesystem::path write_lambert_point_shapefile(const std::filesystem::path& directory, bool with_prj);

// Opens a vector file of the repository's data/ folder for reading.
GDALDatasetUniquePtr open_data(const std::string& relative_path);

}  // namespace tuilerie::testing
