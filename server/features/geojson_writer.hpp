// GeoJSON (RFC 7946) text of OGR features: properties with JSON types that
// keep every value exact, geometries in CRS84 at a fixed precision.
#pragma once

#include <ogr_feature.h>
#include <ogr_geometry.h>
#include <nlohmann/json.hpp>

#include <string>

namespace tuilerie {

// The properties of a feature as a JSON object, in field order. A null or
// unset field is JSON null, never absent and never 0. Integers, 64-bit ones
// included, are written exactly. Reals are written with the fewest digits that
// read back to the same double, and NaN or infinity become null. Dates and
// times are RFC 3339 text. Invalid UTF-8 in a string is replaced when dumped.
nlohmann::ordered_json feature_properties(OGRFeature& feature);

// The geometry as GeoJSON text with coordinate_precision decimals, or "null".
// The geometry must already be in CRS84.
std::string geometry_json(const OGRGeometry* geometry, int coordinate_precision);

// One GeoJSON Feature: "type", "id" (the OGR feature id), then the members
// of `extra` (collection and distance_m in point queries), "properties" and
// "geometry". The feature's geometry must already be in CRS84.
std::string feature_json(OGRFeature& feature, int coordinate_precision,
                         const nlohmann::ordered_json& extra = nlohmann::ordered_json::object());

// nlohmann::json::dump that replaces invalid UTF-8 with U+FFFD instead of
// throwing, since source files do not always hold valid UTF-8.
std::string dump_json(const nlohmann::ordered_json& value);
std::string dump_json(const nlohmann::json& value);

}  // namespace tuilerie
