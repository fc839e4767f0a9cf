// Web Mercator copies of vector layers that are stored in another projection.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string>

namespace tuilerie {

// The features a style layer reads from a file: a layer of the file, or the
// result of an SQL statement on it, in the layer's SRS.
struct layer_source {
  std::filesystem::path file;  // absolute
  std::string layer;           // empty when sql is set
  std::string sql;
  std::string srs;  // as the style gives it: "epsg:2154", or a PROJ string
};

// Makes and keeps GeoPackage copies of layers in EPSG:3857, one per version
// of the source file. Mapnik 3.1 reprojects every vertex of a layer in
// another SRS through PROJ at each render, which took 45 % of a Lambert-93
// seed (docs/benchmarks.md). A copy already in the tile grid's SRS skips
// that. Safe to use from several threads and several processes sharing the
// directory.
class mercator_copies {
 public:
  // The name of the one layer in each copy.
  static constexpr const char* copy_layer = "features";
  // The statement that reads a copy in feature id order.
  static constexpr const char* copy_sql = "SELECT * FROM features ORDER BY fid";

  explicit mercator_copies(std::filesystem::path directory);

  // Returns the copy of the source's current version, making it when
  // missing, and removes the copies of the source's older versions. Feature
  // ids and attribute values are those of the source. Read in feature id
  // order (copy_sql), a copy of an SQL source returns the features in the
  // SQL's order. Throws std::runtime_error when GDAL cannot read the source
  // or write the copy, or when the SQL returns features out of id order.
  std::filesystem::path copy_of(const layer_source& source);

  const std::filesystem::path& directory() const { return directory_; }

 private:
  std::filesystem::path make_copy(const layer_source& source, const std::filesystem::path& target) const;
  // Removes the source's other copies, and its partial copies that were
  // abandoned: unchanged for longer than abandoned_after.
  void remove_other_versions(const std::string& prefix, const std::filesystem::path& current) const;
  static bool is_abandoned(const std::filesystem::path& partial);

  // GDAL writes a copy in transactions of 65,536 features, so a partial copy
  // that a live process writes changes far more often than this.
  static constexpr std::chrono::hours abandoned_after{1};

  std::filesystem::path directory_;
  std::mutex mutex_;  // one copy made at a time in this process
};

}  // namespace tuilerie
