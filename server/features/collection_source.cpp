// Opening, checking and describing the configured collections with GDAL/OGR.
#include "server/features/collection_source.hpp"

#include "render/mapnik_setup.hpp"

#include <cpl_error.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <stdexcept>

namespace tuilerie {

namespace {

// Points per bbox edge when an extent is reprojected, so that the curved
// edges of the reprojected box are followed: the value that ogr_spatialref.h
// recommends for TransformBounds.
constexpr int extent_densify_points = 21;

// Silences GDAL's default handler (which writes to stderr) while start-up
// checks read CPLGetLastErrorMsg() into their own messages.
class quiet_gdal_errors {
 public:
  quiet_gdal_errors() {
    CPLPushErrorHandler(CPLQuietErrorHandler);
    CPLErrorReset();
  }
  ~quiet_gdal_errors() { CPLPopErrorHandler(); }
  quiet_gdal_errors(const quiet_gdal_errors&) = delete;
  quiet_gdal_errors& operator=(const quiet_gdal_errors&) = delete;
};

std::string last_gdal_error() {
  const char* message = CPLGetLastErrorMsg();
  return message && *message ? message : "GDAL gave no detail";
}

thread_local std::uint64_t gdal_failures = 0;

void log_gdal_error(CPLErr level, CPLErrorNum number, const char* message) {
  if (level == CE_Failure || level == CE_Fatal) {
    ++gdal_failures;
    spdlog::warn("GDAL error {}: {}", number, message);
  } else {
    spdlog::debug("GDAL: {}", message);
  }
}

GDALDatasetUniquePtr open_vector(const std::filesystem::path& source) {
  return GDALDatasetUniquePtr(GDALDataset::Open(source.c_str(), GDAL_OF_VECTOR | GDAL_OF_READONLY));
}

// The source for messages and logs, without the password of a "PG:" string.
std::string printable_source(const std::filesystem::path& source) { return without_passwords(source.string()); }

std::string layer_names(GDALDataset& dataset) {
  std::string names;
  for (OGRLayer* layer : dataset.GetLayers())
    names += (names.empty() ? "" : ", ") + std::string(layer->GetName());
  return names;
}

// The CRS of the layer's coordinates: the configured srs, else the layer's
// own; nullopt when neither exists. Throws std::invalid_argument for an srs
// that PROJ does not read.
std::optional<OGRSpatialReference> resolve_source_crs(const collection_settings& collection,
                                                      OGRLayer& layer) {
  if (!collection.srs.empty()) {
    OGRSpatialReference crs;
    if (crs.SetFromUserInput(collection.srs.c_str()) != OGRERR_NONE) {
      throw std::invalid_argument("PROJ does not know '" + collection.srs + "'");
    }
    // Sources store x as easting or longitude whatever the CRS's axis order.
    crs.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
    return crs;
  }
  const OGRSpatialReference* own = layer.GetSpatialRef();
  if (!own) return std::nullopt;
  return *own;
}

OGRLayer* select_layer(GDALDataset& dataset, const std::string& name) {
  if (!name.empty()) return dataset.GetLayerByName(name.c_str());
  return dataset.GetLayerCount() == 1 ? dataset.GetLayer(0) : nullptr;
}

time_point to_time_point(int year, int month, int day, int hour, int minute, float second, int tz_flag) {
  const std::chrono::year_month_day date{std::chrono::year(year),
                                         std::chrono::month(static_cast<unsigned>(month)),
                                         std::chrono::day(static_cast<unsigned>(day))};
  const auto milliseconds = std::chrono::milliseconds(static_cast<std::int64_t>(second * 1000.0f + 0.5f));
  time_point time =
      std::chrono::sys_days(date) + std::chrono::hours(hour) + std::chrono::minutes(minute) + milliseconds;
  // OGR time zone flags: 100 is UTC, 100 + n is UTC + n quarter hours.
  // NOTE: unknown (0) and local (1) times are taken as UTC.
  if (tz_flag > 1) time -= std::chrono::minutes((tz_flag - 100) * 15);
  return time;
}

// The time of one Date or DateTime field: its day or its instant.
std::optional<time_interval> field_time(OGRFeature& feature, int index) {
  if (index < 0 || !feature.IsFieldSetAndNotNull(index)) return std::nullopt;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, tz_flag = 0;
  float second = 0;
  if (!feature.GetFieldAsDateTime(index, &year, &month, &day, &hour, &minute, &second, &tz_flag))
    return std::nullopt;
  if (month < 1 || day < 1) return std::nullopt;
  if (feature.GetFieldDefnRef(index)->GetType() == OFTDate) {
    const time_point start = to_time_point(year, month, day, 0, 0, 0, 100);
    return time_interval{start, start + std::chrono::days(1) - std::chrono::milliseconds(1)};
  }
  const time_point instant = to_time_point(year, month, day, hour, minute, second, tz_flag);
  return time_interval{instant, instant};
}

class collection_checker {
 public:
  collection_checker(const config& settings, const collection_settings& collection)
      : settings_(settings), collection_(collection) {}

  collection_description describe() {
    const quiet_gdal_errors quiet;
    dataset_ = open_vector(collection_.source);
    if (!dataset_) {
      fail(".source", "GDAL cannot open " + printable_source(collection_.source) + " as vector data (" +
                          last_gdal_error() +
                          "); give a GeoPackage, Shapefile, GeoJSON or other file that ogrinfo reads");
    }
    description_.settings = collection_;
    description_.driver = dataset_->GetDriverName();
    layer_ = select_layer(*dataset_, collection_.layer);
    if (!layer_) fail_on_layer();
    description_.layer_name = layer_->GetName();
    description_.geometry_type = wkbFlatten(layer_->GetGeomType());
    if (layer_->GetGeomType() == wkbNone) {
      fail(".layer",
           "layer '" + description_.layer_name + "' has no geometry column; give a layer with geometries");
    }
    check_crs();
    read_fields();
    check_queryables();
    check_datetime_fields();
    read_extent();
    read_temporal_extent();
    warn_without_spatial_index();
    return description_;
  }

 private:
  [[noreturn]] void fail(const std::string& key_suffix, const std::string& reason) const {
    throw config_error(settings_.file, "collections." + collection_.id + key_suffix, collection_.line,
                       reason);
  }

  [[noreturn]] void fail_on_layer() const {
    if (collection_.layer.empty()) {
      fail(".layer", "missing; " + printable_source(collection_.source) + " holds " +
                         std::to_string(dataset_->GetLayerCount()) + " layers (" + layer_names(*dataset_) +
                         "), so name the one to serve");
    }
    fail(".layer", "no layer '" + collection_.layer + "' in " + printable_source(collection_.source) + "; it holds " +
                       layer_names(*dataset_));
  }

  void check_crs() {
    std::optional<OGRSpatialReference> crs;
    try {
      crs = resolve_source_crs(collection_, *layer_);
    } catch (const std::invalid_argument& error) {
      fail(".srs", std::string(error.what()) + "; give a CRS such as EPSG:2154");
    }
    if (!crs) {
      fail(".srs",
           "missing: " + printable_source(collection_.source) +
               " declares no CRS (a Shapefile without its .prj file, for example), and Tuilerie never "
               "guesses one; set srs to the CRS of its coordinates, such as EPSG:2154 for Lambert-93");
    }
    source_crs_ = *crs;
    try {
      to_crs84_ = make_transformation(source_crs_, crs84_crs());
    } catch (const std::runtime_error& error) {
      fail(collection_.srs.empty() ? ".source" : ".srs",
           std::string(error.what()) + "; check the source's CRS");
    }
  }

  void read_fields() {
    OGRFeatureDefn* definition = layer_->GetLayerDefn();
    for (int i = 0; i < definition->GetFieldCount(); ++i) {
      const OGRFieldDefn* field = definition->GetFieldDefn(i);
      description_.fields.push_back({field->GetNameRef(), field->GetType(), field->GetSubType(), i});
    }
  }

  std::string field_list() const {
    std::string names;
    for (const auto& field : description_.fields) names += (names.empty() ? "" : ", ") + field.name;
    return names;
  }

  void check_queryables() const {
    for (const auto& name : collection_.queryables) {
      const field_description* field = description_.field(name);
      if (!field) fail(".queryables", "layer has no field '" + name + "'; its fields are " + field_list());
      const bool filterable = field->type == OFTString || field->type == OFTInteger ||
                              field->type == OFTInteger64 || field->type == OFTReal;
      if (!filterable) {
        fail(".queryables", "field '" + name + "' is a " + OGRFieldDefn::GetFieldTypeName(field->type) +
                                "; only string, integer and real fields can be queryables");
      }
    }
  }

  int time_field_index(const std::string& name, const std::string& key_suffix) const {
    const field_description* field = description_.field(name);
    if (!field) fail(key_suffix, "layer has no field '" + name + "'; its fields are " + field_list());
    if (field->type != OFTDate && field->type != OFTDateTime) {
      fail(key_suffix, "field '" + name + "' is a " + OGRFieldDefn::GetFieldTypeName(field->type) +
                           "; datetime needs a Date or DateTime field");
    }
    return field->index;
  }

  void check_datetime_fields() {
    if (!collection_.datetime.empty()) {
      description_.datetime_index = time_field_index(collection_.datetime, ".datetime");
    }
    if (!collection_.datetime_end.empty()) {
      description_.datetime_end_index = time_field_index(collection_.datetime_end, ".datetime_end");
    }
  }

  void read_extent() {
    OGREnvelope envelope;
    if (layer_->GetExtent(&envelope, TRUE) != OGRERR_NONE) return;
    bbox lonlat;
    if (!to_crs84_->TransformBounds(envelope.MinX, envelope.MinY, envelope.MaxX, envelope.MaxY, &lonlat.minx,
                                    &lonlat.miny, &lonlat.maxx, &lonlat.maxy, extent_densify_points)) {
      fail(collection_.srs.empty() ? ".source" : ".srs",
           "the layer's extent cannot be converted to longitude and latitude (" + last_gdal_error() +
               "); check that its CRS is right");
    }
    description_.extent = lonlat;
  }

  void read_temporal_extent() {
    if (description_.datetime_index < 0) return;
    layer_->SetIgnoredFields(std::vector<const char*>{"OGR_GEOMETRY", nullptr}.data());
    layer_->ResetReading();
    std::optional<time_interval> extent;
    while (auto feature = std::unique_ptr<OGRFeature>(layer_->GetNextFeature())) {
      const auto time = feature_time(*feature, description_);
      if (!time) continue;
      if (!extent) extent = *time;
      if (time->start && (!extent->start || *time->start < *extent->start)) extent->start = time->start;
      if (!time->end || (extent->end && *time->end > *extent->end)) extent->end = time->end;
    }
    layer_->SetIgnoredFields(nullptr);
    description_.temporal_extent = extent;
  }

  void warn_without_spatial_index() const {
    if (description_.driver != "ESRI Shapefile") return;
    std::filesystem::path qix = collection_.source;
    std::filesystem::path sbn = collection_.source;
    std::error_code error;
    if (std::filesystem::exists(qix.replace_extension(".qix"), error) ||
        std::filesystem::exists(sbn.replace_extension(".sbn"), error)) {
      return;
    }
    spdlog::warn(
        "collection {}: {} has no spatial index (.qix), so bbox and point queries read every record; create "
        "one "
        "with: ogrinfo {} -sql 'CREATE SPATIAL INDEX ON \"{}\"'",
        collection_.id, collection_.source.string(), collection_.source.string(), description_.layer_name);
  }

  const config& settings_;
  const collection_settings& collection_;
  GDALDatasetUniquePtr dataset_;
  OGRLayer* layer_ = nullptr;
  OGRSpatialReference source_crs_;
  std::unique_ptr<OGRCoordinateTransformation> to_crs84_;
  collection_description description_;
};

}  // namespace

const field_description* collection_description::field(std::string_view name) const {
  const auto found =
      std::find_if(fields.begin(), fields.end(), [&](const auto& field) { return field.name == name; });
  return found == fields.end() ? nullptr : &*found;
}

bool collection_description::is_polygonal() const {
  return geometry_type == wkbPolygon || geometry_type == wkbMultiPolygon ||
         geometry_type == wkbCurvePolygon || geometry_type == wkbMultiSurface;
}

std::vector<collection_description> describe_collections(const config& settings) {
  GDALAllRegister();
  std::vector<collection_description> descriptions;
  for (const auto& [id, collection] : settings.collections) {
    descriptions.push_back(collection_checker(settings, collection).describe());
  }
  return descriptions;
}

OGRSpatialReference crs84_crs() {
  OGRSpatialReference crs;
  crs.SetWellKnownGeogCS("CRS84");
  crs.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  return crs;
}

std::optional<OGRSpatialReference> epsg_crs(int code) {
  const quiet_gdal_errors quiet;
  OGRSpatialReference crs;
  if (crs.importFromEPSG(code) != OGRERR_NONE) return std::nullopt;
  crs.SetAxisMappingStrategy(OAMS_AUTHORITY_COMPLIANT);
  return crs;
}

std::unique_ptr<OGRCoordinateTransformation> make_transformation(const OGRSpatialReference& from,
                                                                 const OGRSpatialReference& to) {
  const quiet_gdal_errors quiet;
  std::unique_ptr<OGRCoordinateTransformation> transformation(OGRCreateCoordinateTransformation(&from, &to));
  if (!transformation)
    throw std::runtime_error("PROJ finds no transformation between the CRSs: " + last_gdal_error());
  return transformation;
}

std::optional<time_interval> feature_time(OGRFeature& feature, const collection_description& description) {
  const auto start = field_time(feature, description.datetime_index);
  if (!start) return std::nullopt;
  if (description.datetime_end_index < 0) return start;
  const auto end = field_time(feature, description.datetime_end_index);
  return time_interval{start->start, end ? end->end : std::nullopt};
}

open_collection::open_collection(const collection_description& description) : description_(description) {
  const auto& source = description.settings.source;
  dataset_ = open_vector(source);
  if (!dataset_) throw std::runtime_error("GDAL cannot open " + printable_source(source) + ": " + last_gdal_error());
  layer_ = dataset_->GetLayerByName(description.layer_name.c_str());
  if (!layer_) throw std::runtime_error("no layer '" + description.layer_name + "' in " + printable_source(source));
  const auto crs = resolve_source_crs(description.settings, *layer_);
  if (!crs) throw std::runtime_error(printable_source(source) + " no longer declares a CRS");
  source_crs_ = *crs;
  to_crs84_ = make_transformation(source_crs_, crs84_crs());
  from_crs84_ = make_transformation(crs84_crs(), source_crs_);
}

bool open_collection::to_crs84(OGRGeometry& geometry) {
  return geometry.transform(to_crs84_.get()) == OGRERR_NONE;
}

bool open_collection::from_crs84(OGRGeometry& geometry) {
  return geometry.transform(from_crs84_.get()) == OGRERR_NONE;
}

void log_gdal_errors_on_this_thread() { CPLPushErrorHandler(log_gdal_error); }

std::uint64_t gdal_failures_on_this_thread() { return gdal_failures; }

bool is_database_source(const collection_settings& collection) {
  return collection.source.native().starts_with("PG:");
}

}  // namespace tuilerie
