// Writing OGR features as GeoJSON text.
#include "server/features/geojson_writer.hpp"

#include <cpl_conv.h>
#include <cpl_string.h>
#include <fmt/format.h>
#include <ogr_api.h>

#include <cmath>
#include <memory>

namespace tuilerie {

namespace {

// RFC 3339 text of a Date, Time or DateTime field.
std::string format_temporal_field(OGRFeature& feature, int index, OGRFieldType type) {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, tz_flag = 0;
  float second = 0;
  feature.GetFieldAsDateTime(index, &year, &month, &day, &hour, &minute, &second, &tz_flag);
  const std::string date = fmt::format("{:04}-{:02}-{:02}", year, month, day);
  // Seconds keep milliseconds only when there are some.
  const int whole_seconds = static_cast<int>(second);
  const int milliseconds =
      static_cast<int>(std::lround((second - static_cast<float>(whole_seconds)) * 1000.0f));
  std::string time = fmt::format("{:02}:{:02}:{:02}", hour, minute, whole_seconds);
  if (milliseconds > 0 && milliseconds < 1000) time += fmt::format(".{:03}", milliseconds);
  if (type == OFTDate) return date;
  if (type == OFTTime) return time;
  // OGR time zone flags: 100 is UTC, 100 + n is UTC + n quarter hours, 0 and
  // 1 unknown or local time, written without an offset.
  std::string zone;
  if (tz_flag == 100) {
    zone = "Z";
  } else if (tz_flag > 1) {
    const int offset_minutes = std::abs(tz_flag - 100) * 15;
    zone = fmt::format("{}{:02}:{:02}", tz_flag > 100 ? '+' : '-', offset_minutes / 60, offset_minutes % 60);
  }
  return date + "T" + time + zone;
}

nlohmann::ordered_json real_value(double value) {
  return std::isfinite(value) ? nlohmann::ordered_json(value) : nlohmann::ordered_json(nullptr);
}

nlohmann::ordered_json list_value(OGRFeature& feature, int index, OGRFieldType type) {
  auto list = nlohmann::ordered_json::array();
  int count = 0;
  if (type == OFTIntegerList) {
    const int* values = feature.GetFieldAsIntegerList(index, &count);
    for (int i = 0; i < count; ++i) list.push_back(values[i]);
  } else if (type == OFTInteger64List) {
    const GIntBig* values = feature.GetFieldAsInteger64List(index, &count);
    for (int i = 0; i < count; ++i) list.push_back(static_cast<std::int64_t>(values[i]));
  } else if (type == OFTRealList) {
    const double* values = feature.GetFieldAsDoubleList(index, &count);
    for (int i = 0; i < count; ++i) list.push_back(real_value(values[i]));
  } else {
    for (char** item = feature.GetFieldAsStringList(index); item && *item; ++item) list.push_back(*item);
  }
  return list;
}

nlohmann::ordered_json binary_value(OGRFeature& feature, int index) {
  int size = 0;
  const GByte* bytes = feature.GetFieldAsBinary(index, &size);
  std::unique_ptr<char, decltype(&CPLFree)> encoded(CPLBase64Encode(size, bytes), CPLFree);
  return encoded ? nlohmann::ordered_json(std::string(encoded.get())) : nlohmann::ordered_json(nullptr);
}

nlohmann::ordered_json field_value(OGRFeature& feature, int index) {
  if (!feature.IsFieldSetAndNotNull(index)) return nullptr;
  const OGRFieldDefn* definition = feature.GetFieldDefnRef(index);
  const OGRFieldType type = definition->GetType();
  switch (type) {
    case OFTInteger:
      if (definition->GetSubType() == OFSTBoolean) return feature.GetFieldAsInteger(index) != 0;
      return feature.GetFieldAsInteger(index);
    case OFTInteger64:
      return static_cast<std::int64_t>(feature.GetFieldAsInteger64(index));
    case OFTReal:
      return real_value(feature.GetFieldAsDouble(index));
    case OFTDate:
    case OFTTime:
    case OFTDateTime:
      return format_temporal_field(feature, index, type);
    case OFTIntegerList:
    case OFTInteger64List:
    case OFTRealList:
    case OFTStringList:
      return list_value(feature, index, type);
    case OFTBinary:
      return binary_value(feature, index);
    default:
      return feature.GetFieldAsString(index);
  }
}

}  // namespace

nlohmann::ordered_json feature_properties(OGRFeature& feature) {
  auto properties = nlohmann::ordered_json::object();
  for (int i = 0; i < feature.GetFieldCount(); ++i) {
    properties[feature.GetFieldDefnRef(i)->GetNameRef()] = field_value(feature, i);
  }
  return properties;
}

std::string geometry_json(const OGRGeometry* geometry, int coordinate_precision) {
  if (!geometry || geometry->IsEmpty()) return "null";
  const std::string precision = "COORDINATE_PRECISION=" + std::to_string(coordinate_precision);
  const char* options[] = {precision.c_str(), nullptr};
  std::unique_ptr<char, decltype(&CPLFree)> text(
      OGR_G_ExportToJsonEx(OGRGeometry::ToHandle(const_cast<OGRGeometry*>(geometry)),
                           const_cast<char**>(options)),
      CPLFree);
  return text ? std::string(text.get()) : "null";
}

std::string feature_json(OGRFeature& feature, int coordinate_precision, const nlohmann::ordered_json& extra) {
  std::string text = "{\"type\":\"Feature\"";
  if (feature.GetFID() != OGRNullFID) text += ",\"id\":" + std::to_string(feature.GetFID());
  for (const auto& [name, value] : extra.items())
    text += "," + dump_json(nlohmann::ordered_json(name)) + ":" + dump_json(value);
  text += ",\"properties\":" + dump_json(feature_properties(feature));
  text += ",\"geometry\":" + geometry_json(feature.GetGeometryRef(), coordinate_precision);
  return text + "}";
}

std::string dump_json(const nlohmann::ordered_json& value) {
  return value.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

std::string dump_json(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace tuilerie
