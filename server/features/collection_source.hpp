// GDAL access to feature collections: checking and describing them at
// start-up, and the per-thread handles that requests read through.
#pragma once

#include "render/tile_grid.hpp"
#include "server/config.hpp"
#include "server/features/item_parameters.hpp"

#include <gdal_priv.h>
#include <ogr_spatialref.h>
#include <ogrsf_frmts.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tuilerie {

struct field_description {
  std::string name;
  OGRFieldType type = OFTString;
  OGRFieldSubType subtype = OFSTNone;
  int index = 0;  // in the layer definition
};

// The description of a collection, read once at start-up from its source.
struct collection_description {
  collection_settings settings;
  std::string layer_name;  // the source layer actually read
  std::string driver;      // GDAL driver short name, for example "GPKG"
  std::vector<field_description> fields;
  OGRwkbGeometryType geometry_type = wkbUnknown;  // flattened to 2D
  std::optional<bbox> extent;                     // in CRS84 degrees; absent for an empty layer
  std::optional<time_interval> temporal_extent;   // of the datetime fields, when configured
  int datetime_index = -1;                        // field index of settings.datetime, or -1
  int datetime_end_index = -1;                    // field index of settings.datetime_end, or -1

  const field_description* field(std::string_view name) const;
  // Whether every geometry of the layer is a surface, so point queries look
  // for the features containing the point rather than the nearest one.
  bool is_polygonal() const;
};

// Opens every configured collection once and checks the layer, its CRS, its
// queryables and datetime fields. Throws config_error naming the file, the
// collection, the problem and the fix.
std::vector<collection_description> describe_collections(const config& settings);

// CRS84: WGS 84 with longitude first, the CRS of every GeoJSON response. A
// new object on each call, because OGRSpatialReference caches state inside
// and must not be shared between threads.
OGRSpatialReference crs84_crs();

// The CRS of an EPSG code with the axis order that the EPSG registry defines,
// because bbox-crs values come in that order. nullopt when PROJ does not know
// the code.
std::optional<OGRSpatialReference> epsg_crs(int code);

// A transformation between two CRSs, honouring their data axis mappings.
// Throws std::runtime_error when PROJ finds none.
std::unique_ptr<OGRCoordinateTransformation> make_transformation(const OGRSpatialReference& from,
                                                                 const OGRSpatialReference& to);

// The time of a feature for the datetime parameter: an instant for a
// DateTime field, the whole day for a Date. With datetime_end the interval
// runs from one field to the other and stays open when the end is null.
// nullopt when the collection has no time or the start is null.
std::optional<time_interval> feature_time(OGRFeature& feature, const collection_description& description);

// One thread's handle on a collection's layer. GDAL datasets, layers and
// coordinate transformations may not be used from two threads at once, so
// every worker thread opens its own.
class open_collection {
 public:
  // Throws std::runtime_error when the source no longer opens.
  explicit open_collection(const collection_description& description);

  const collection_description& description() const { return description_; }
  OGRLayer& layer() { return *layer_; }
  const OGRSpatialReference& source_crs() const { return source_crs_; }

  // Reprojects a geometry from the source CRS to CRS84 in place; false when
  // PROJ fails for one of its points.
  bool to_crs84(OGRGeometry& geometry);
  // Reprojects a CRS84 geometry into the source CRS in place.
  bool from_crs84(OGRGeometry& geometry);

 private:
  const collection_description& description_;
  GDALDatasetUniquePtr dataset_;
  OGRLayer* layer_ = nullptr;
  OGRSpatialReference source_crs_;
  std::unique_ptr<OGRCoordinateTransformation> to_crs84_;
  std::unique_ptr<OGRCoordinateTransformation> from_crs84_;
};

// Sends the GDAL errors of the calling thread to the server log for the rest
// of the thread's life. Without it, GDAL writes them to stderr.
void log_gdal_errors_on_this_thread();

// The GDAL failures that the calling thread has logged since
// log_gdal_errors_on_this_thread(). A database read that loses its
// connection ends its features early with such a failure, not an exception.
std::uint64_t gdal_failures_on_this_thread();

// Whether the collection reads a PostGIS database ("PG:" source).
bool is_database_source(const collection_settings& collection);

}  // namespace tuilerie
