// Parsers of the query parameters of OGC API - Features items requests (bbox,
// bbox-crs, limit, offset, datetime), free of GDAL so they test in isolation.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tuilerie {

// A CRS named by its OGC URI: CRS84 (longitude, latitude on WGS 84) or an
// EPSG code.
struct crs_reference {
  int epsg = 0;  // 0 for CRS84

  bool is_crs84() const { return epsg == 0; }
  // http://www.opengis.net/def/crs/OGC/1.3/CRS84 or .../EPSG/0/{code}.
  std::string uri() const;
};

inline constexpr std::string_view crs84_uri = "http://www.opengis.net/def/crs/OGC/1.3/CRS84";

// A decimal number without spaces, as in bbox and lon/lat; nullopt for
// anything else, including "nan" and "inf".
std::optional<double> parse_number(std::string_view text);

// Parses bbox: four comma-separated numbers, in the axis order of the bbox
// CRS. Throws api_error (400) for any other count (six numbers, a 3D box, get
// their own message) or a value that is not a finite number.
std::array<double, 4> parse_bbox(std::string_view text);

// Checks a CRS84 bbox (west, south, east, north): longitudes from -180 to
// 180, latitudes from -90 to 90, south not above north. West greater than
// east is valid: the box crosses the antimeridian. Throws api_error (400).
void check_crs84_bbox(const std::array<double, 4>& bbox);

// Parses a CRS URI given as `parameter` (bbox-crs). Throws api_error (400)
// for any other form. Whether PROJ has the EPSG code is checked later.
crs_reference parse_crs_uri(std::string_view uri, std::string_view parameter);

// Parses limit: an integer from 1 up. Values above max_limit, however large,
// become max_limit, as OGC API - Features allows. Absent means default_limit.
// Throws api_error (400) for zero, a negative number or other text.
unsigned parse_limit(const std::optional<std::string>& text, unsigned default_limit, unsigned max_limit);

// Parses offset, the number of matching features to skip: an integer from 0
// up; absent means 0. Throws api_error (400).
std::uint64_t parse_offset(const std::optional<std::string>& text);

using time_point = std::chrono::sys_time<std::chrono::milliseconds>;

// A closed time interval; a missing bound is open (".." in datetime).
struct time_interval {
  std::optional<time_point> start;
  std::optional<time_point> end;

  bool intersects(const time_interval& other) const;
};

// Parses an RFC 3339 date-time (with "Z" or a numeric offset, fractions of
// a second truncated to milliseconds) as a one-instant interval, or a full
// date (2023-08-14) as that whole UTC day. nullopt for anything else.
std::optional<time_interval> parse_rfc3339(std::string_view text);

// Parses datetime: an instant, a date, or an interval "start/end" where
// either bound may be open (".." or empty), not both. Throws api_error (400).
time_interval parse_datetime(std::string_view text);

// RFC 3339 in UTC: 2023-08-14T21:00:00Z, with milliseconds when not zero.
std::string format_rfc3339(time_point time);

}  // namespace tuilerie
