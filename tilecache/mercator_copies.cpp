// Web Mercator copies of vector layers, made with GDAL's vector translation.
#include "tilecache/mercator_copies.hpp"

#include "tilecache/data_version.hpp"

#include <fmt/format.h>
#include <gdal_priv.h>
#include <gdal_utils.h>
#include <ogr_api.h>
#include <spdlog/spdlog.h>
#include <unistd.h>
#include <xxhash.h>

#include <atomic>
#include <chrono>
#include <cpl_string.h>
#include <memory>
#include <stdexcept>
#include <system_error>

namespace tuilerie {

namespace {

// Names the source apart from its version: the same file, layer, SQL and SRS
// give the same prefix, so that a new version replaces the old copy.
std::string source_prefix(const layer_source& source) {
  const std::string identity =
      source.file.string() + '\n' + source.layer + '\n' + source.sql + '\n' + source.srs;
  return fmt::format("{:016x}", XXH3_64bits(identity.data(), identity.size()));
}

struct dataset_closer {
  void operator()(GDALDatasetH dataset) const { GDALClose(dataset); }
};
using dataset_ptr = std::unique_ptr<void, dataset_closer>;

struct translate_options_deleter {
  void operator()(GDALVectorTranslateOptions* options) const { GDALVectorTranslateOptionsFree(options); }
};

std::string last_gdal_error() {
  const char* message = CPLGetLastErrorMsg();
  return message && *message ? message : "no detail from GDAL";
}

// The ogr2ogr arguments of a copy: the source's SRS as the style declares it,
// since Mapnik trusts the style over the file, and the source's feature ids.
CPLStringList translate_arguments(const layer_source& source) {
  CPLStringList arguments;
  for (const char* argument : {"-f", "GPKG", "-t_srs", "EPSG:3857", "-nln", mercator_copies::copy_layer,
                               "-preserve_fid", "-gt", "65536"}) {
    arguments.AddString(argument);
  }
  arguments.AddString("-s_srs");
  arguments.AddString(source.srs.c_str());
  if (!source.sql.empty()) {
    arguments.AddString("-sql");
    arguments.AddString(source.sql.c_str());
  } else {
    arguments.AddString(source.layer.c_str());
  }
  return arguments;
}

// Whether the statement returns features with ids, in ascending id order.
// A copy keeps the ids, and reads them back in id order: for any other order,
// features would be drawn in another order than the style's SQL requests.
bool returns_features_in_id_order(GDALDatasetH dataset, const std::string& sql) {
  OGRLayerH result = GDALDatasetExecuteSQL(dataset, sql.c_str(), nullptr, nullptr);
  if (!result) throw std::runtime_error("failed to run the layer's SQL: " + last_gdal_error());
  bool ordered = true;
  GIntBig previous = -1;
  OGR_L_ResetReading(result);
  while (OGRFeatureH feature = OGR_L_GetNextFeature(result)) {
    const GIntBig id = OGR_F_GetFID(feature);
    OGR_F_Destroy(feature);
    if (id <= previous) {
      ordered = false;
      break;
    }
    previous = id;
  }
  GDALDatasetReleaseResultSet(dataset, result);
  return ordered;
}

}  // namespace

mercator_copies::mercator_copies(std::filesystem::path directory) : directory_(std::move(directory)) {}

std::filesystem::path mercator_copies::copy_of(const layer_source& source) {
  const std::string prefix = source_prefix(source);
  const std::filesystem::path target =
      directory_ / fmt::format("{}-{:016x}.gpkg", prefix, compute_file_version(source.file));
  const std::lock_guard lock(mutex_);
  std::error_code error;
  if (std::filesystem::exists(target, error)) return target;
  std::filesystem::create_directories(directory_, error);
  if (error) {
    throw std::runtime_error("failed to create the directory " + directory_.string() + ": " + error.message());
  }
  const auto started = std::chrono::steady_clock::now();
  make_copy(source, target);
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - started;
  spdlog::info("made a Web Mercator copy of {} ({}) in {:.2f} s: {}", source.file.string(),
               source.sql.empty() ? "layer " + source.layer : "SQL", elapsed.count(), target.string());
  remove_other_versions(prefix, target);
  return target;
}

std::filesystem::path mercator_copies::make_copy(const layer_source& source,
                                                 const std::filesystem::path& target) const {
  GDALAllRegister();
  const dataset_ptr input(GDALOpenEx(source.file.c_str(), GDAL_OF_VECTOR | GDAL_OF_READONLY, nullptr, nullptr, nullptr));
  if (!input) {
    throw std::runtime_error("failed to open " + source.file.string() + ": " + last_gdal_error());
  }
  if (!source.sql.empty() && !returns_features_in_id_order(input.get(), source.sql)) {
    throw std::runtime_error("the layer's SQL returns features out of feature id order (or without ids), which a "
                             "copy would not keep");
  }
  CPLStringList arguments = translate_arguments(source);
  const std::unique_ptr<GDALVectorTranslateOptions, translate_options_deleter> options(
      GDALVectorTranslateOptionsNew(arguments.List(), nullptr));
  if (!options) throw std::runtime_error("invalid copy options for " + source.file.string() + ": " + last_gdal_error());

  // Written under a name of this process and thread, then renamed: another
  // thread or process finds either no copy or a whole one.
  static std::atomic<unsigned> counter{0};
  std::filesystem::path partial = target;
  partial.replace_extension(fmt::format("partial-{}-{}.gpkg", ::getpid(), counter.fetch_add(1)));
  GDALDatasetH sources[] = {input.get()};
  int usage_error = 0;
  // GDAL's warnings here would go to standard error line by line; a failure
  // is reported with the last one instead.
  CPLPushErrorHandler(CPLQuietErrorHandler);
  dataset_ptr output(GDALVectorTranslate(partial.c_str(), nullptr, 1, sources, options.get(), &usage_error));
  CPLPopErrorHandler();
  if (!output || usage_error) {
    std::error_code ignored;
    std::filesystem::remove(partial, ignored);
    throw std::runtime_error("failed to copy " + source.file.string() + " to EPSG:3857: " + last_gdal_error());
  }
  // GDALClose writes the last transaction, so the file is complete after it.
  output.reset();
  std::error_code error;
  std::filesystem::rename(partial, target, error);
  if (error) {
    std::error_code ignored;
    std::filesystem::remove(partial, ignored);
    throw std::runtime_error("failed to rename " + partial.string() + " to " + target.string() + ": " +
                             error.message());
  }
  return target;
}

bool mercator_copies::is_abandoned(const std::filesystem::path& partial) {
  std::error_code error;
  const auto written = std::filesystem::last_write_time(partial, error);
  return !error && std::filesystem::file_time_type::clock::now() - written > abandoned_after;
}

void mercator_copies::remove_other_versions(const std::string& prefix, const std::filesystem::path& current) const {
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(directory_, error)) {
    const std::string name = entry.path().filename().string();
    if (entry.path() == current || !name.starts_with(prefix + "-")) continue;
    // Another process may be writing a partial copy now. One that has not
    // changed for longer than any copy takes was left by a killed process.
    if (name.find(".partial-") != std::string::npos && !is_abandoned(entry.path())) continue;
    // Processes that still render from an old copy keep reading it: the
    // file lives on until they close it.
    std::error_code ignored;
    std::filesystem::remove(entry.path(), ignored);
  }
}

}  // namespace tuilerie
