// Parsing of bbox, bbox-crs, limit, offset and datetime.
#include "server/features/item_parameters.hpp"

#include "server/features/api_error.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <limits>
#include <vector>

namespace tuilerie {

namespace {

constexpr std::string_view epsg_uri_prefix = "http://www.opengis.net/def/crs/EPSG/0/";

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  while (true) {
    const auto at = text.find(separator);
    parts.push_back(text.substr(0, at));
    if (at == std::string_view::npos) return parts;
    text.remove_prefix(at + 1);
  }
}

bool all_digits(std::string_view text) {
  return !text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos;
}

// Reads exactly `count` digits at `at`; nullopt when any is not a digit.
std::optional<int> read_digits(std::string_view text, std::size_t at, std::size_t count) {
  if (at + count > text.size()) return std::nullopt;
  int value = 0;
  for (std::size_t i = at; i < at + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

std::optional<std::chrono::year_month_day> parse_full_date(std::string_view text) {
  const auto year = read_digits(text, 0, 4);
  const auto month = read_digits(text, 5, 2);
  const auto day = read_digits(text, 8, 2);
  if (!year || !month || !day || text.size() < 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  const std::chrono::year_month_day date{std::chrono::year(*year),
                                         std::chrono::month(static_cast<unsigned>(*month)),
                                         std::chrono::day(static_cast<unsigned>(*day))};
  if (!date.ok()) return std::nullopt;
  return date;
}

// Reads ".ddd…" at `at`, advancing it; the fraction in milliseconds.
std::optional<int> read_fraction(std::string_view text, std::size_t& at) {
  if (at >= text.size() || text[at] != '.') return 0;
  const std::size_t first = ++at;
  while (at < text.size() && text[at] >= '0' && text[at] <= '9') ++at;
  if (at == first) return std::nullopt;
  int milliseconds = 0;
  for (std::size_t i = first; i < first + 3; ++i)
    milliseconds = milliseconds * 10 + (i < at ? text[i] - '0' : 0);
  return milliseconds;
}

// The offset from UTC of "Z", "z" or "+hh:mm"/"-hh:mm", which must end the text.
std::optional<std::chrono::minutes> parse_offset_suffix(std::string_view suffix) {
  if (suffix == "Z" || suffix == "z") return std::chrono::minutes(0);
  if (suffix.size() != 6 || (suffix[0] != '+' && suffix[0] != '-') || suffix[3] != ':') return std::nullopt;
  const auto hours = read_digits(suffix, 1, 2);
  const auto minutes = read_digits(suffix, 4, 2);
  if (!hours || !minutes || *hours > 23 || *minutes > 59) return std::nullopt;
  const std::chrono::minutes offset(*hours * 60 + *minutes);
  return suffix[0] == '-' ? -offset : offset;
}

std::optional<time_point> parse_date_time(std::string_view text, const std::chrono::year_month_day& date) {
  if (text.size() < 19 || (text[10] != 'T' && text[10] != 't') || text[13] != ':' || text[16] != ':') {
    return std::nullopt;
  }
  const auto hours = read_digits(text, 11, 2);
  const auto minutes = read_digits(text, 14, 2);
  const auto seconds = read_digits(text, 17, 2);
  if (!hours || !minutes || !seconds || *hours > 23 || *minutes > 59 || *seconds > 59) return std::nullopt;
  std::size_t at = 19;
  const auto milliseconds = read_fraction(text, at);
  const auto offset = parse_offset_suffix(text.substr(at));
  if (!milliseconds || !offset) return std::nullopt;
  const auto local = std::chrono::sys_days(date) + std::chrono::hours(*hours) +
                     std::chrono::minutes(*minutes) + std::chrono::seconds(*seconds) +
                     std::chrono::milliseconds(*milliseconds);
  return std::chrono::time_point_cast<std::chrono::milliseconds>(local - *offset);
}

}  // namespace

std::string crs_reference::uri() const {
  return is_crs84() ? std::string(crs84_uri) : std::string(epsg_uri_prefix) + std::to_string(epsg);
}

std::optional<double> parse_number(std::string_view text) {
  // from_chars reads a '-' but no '+', so a '+' is removed first; a second sign ("+-5") is invalid.
  if (text.starts_with('+')) {
    text.remove_prefix(1);
    if (text.starts_with('-')) return std::nullopt;
  }
  if (text.empty() || text.starts_with('+')) return std::nullopt;
  double value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size() || !std::isfinite(value)) return std::nullopt;
  return value;
}

std::array<double, 4> parse_bbox(std::string_view text) {
  const auto parts = split(text, ',');
  if (parts.size() == 6) {
    throw bad_request("bbox with six numbers (a 3D box) is not supported; give minx,miny,maxx,maxy");
  }
  if (parts.size() != 4) {
    throw bad_request("bbox must be four comma-separated numbers minx,miny,maxx,maxy, got " +
                      std::to_string(parts.size()) + " values");
  }
  std::array<double, 4> bbox{};
  for (std::size_t i = 0; i < 4; ++i) {
    const auto value = parse_number(parts[i]);
    if (!value) throw bad_request("bbox value " + std::to_string(i + 1) + " is not a finite decimal number");
    bbox[i] = *value;
  }
  return bbox;
}

void check_crs84_bbox(const std::array<double, 4>& bbox) {
  const auto [west, south, east, north] = bbox;
  if (west < -180 || west > 180 || east < -180 || east > 180) {
    throw bad_request(
        "bbox longitudes must be from -180 to 180 in CRS84; for projected coordinates set bbox-crs");
  }
  if (south < -90 || south > 90 || north < -90 || north > 90) {
    throw bad_request(
        "bbox latitudes must be from -90 to 90 in CRS84; for projected coordinates set bbox-crs");
  }
  if (south > north) {
    throw bad_request("bbox south (second value) must not exceed north (fourth value)");
  }
}

crs_reference parse_crs_uri(std::string_view uri, std::string_view parameter) {
  if (uri == crs84_uri || uri == "http://www.opengis.net/def/crs/OGC/0/CRS84") return {};
  if (uri.starts_with(epsg_uri_prefix)) {
    const std::string_view code = uri.substr(epsg_uri_prefix.size());
    int epsg = 0;
    const auto [end, error] = std::from_chars(code.data(), code.data() + code.size(), epsg);
    if (all_digits(code) && error == std::errc{} && end == code.data() + code.size() && epsg > 0) {
      return crs_reference{epsg};
    }
  }
  throw bad_request(std::string(parameter) + " must be " + std::string(crs84_uri) + " or " +
                    std::string(epsg_uri_prefix) + "{code}, for example " + std::string(epsg_uri_prefix) +
                    "2154");
}

unsigned parse_limit(const std::optional<std::string>& text, unsigned default_limit, unsigned max_limit) {
  if (!text) return default_limit;
  std::string_view digits = *text;
  if (digits.starts_with('+')) digits.remove_prefix(1);
  if (!all_digits(digits)) {
    throw bad_request("limit must be an integer from 1 to " + std::to_string(max_limit) +
                      " (larger values are lowered to " + std::to_string(max_limit) + ")");
  }
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (error == std::errc::result_out_of_range || (error == std::errc{} && value > max_limit))
    return max_limit;
  if (value == 0) throw bad_request("limit must be at least 1");
  return static_cast<unsigned>(value);
}

std::uint64_t parse_offset(const std::optional<std::string>& text) {
  if (!text) return 0;
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (!all_digits(*text) || error != std::errc{} || end != text->data() + text->size()) {
    throw bad_request("offset must be an integer from 0 to " +
                      std::to_string(std::numeric_limits<std::uint64_t>::max()));
  }
  return value;
}

bool time_interval::intersects(const time_interval& other) const {
  const bool starts_before_other_ends = !start || !other.end || *start <= *other.end;
  const bool ends_after_other_starts = !end || !other.start || *end >= *other.start;
  return starts_before_other_ends && ends_after_other_starts;
}

std::optional<time_interval> parse_rfc3339(std::string_view text) {
  const auto date = parse_full_date(text);
  if (!date) return std::nullopt;
  if (text.size() == 10) {
    const time_point day_start = std::chrono::sys_days(*date);
    return time_interval{day_start, day_start + std::chrono::days(1) - std::chrono::milliseconds(1)};
  }
  const auto instant = parse_date_time(text, *date);
  if (!instant) return std::nullopt;
  return time_interval{*instant, *instant};
}

time_interval parse_datetime(std::string_view text) {
  static const std::string expected =
      "datetime must be an RFC 3339 date-time (2023-08-14T10:00:00Z), a date (2023-08-14) or an interval "
      "start/end where one bound may be '..'";
  const auto parts = split(text, '/');
  if (parts.size() == 1) {
    const auto moment = parse_rfc3339(text);
    if (!moment) throw bad_request(expected);
    return *moment;
  }
  if (parts.size() != 2) throw bad_request(expected);
  time_interval interval;
  const bool open_start = parts[0].empty() || parts[0] == "..";
  const bool open_end = parts[1].empty() || parts[1] == "..";
  if (open_start && open_end) throw bad_request("datetime interval needs at least one bound; " + expected);
  if (!open_start) {
    const auto moment = parse_rfc3339(parts[0]);
    if (!moment) throw bad_request(expected);
    interval.start = moment->start;
  }
  if (!open_end) {
    const auto moment = parse_rfc3339(parts[1]);
    if (!moment) throw bad_request(expected);
    interval.end = moment->end;
  }
  if (interval.start && interval.end && *interval.start > *interval.end) {
    throw bad_request("datetime interval starts after it ends; give start/end in that order");
  }
  return interval;
}

std::string format_rfc3339(time_point time) {
  const auto day = std::chrono::floor<std::chrono::days>(time);
  const std::chrono::year_month_day date{day};
  const std::chrono::hh_mm_ss clock{time - day};
  std::string text = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", static_cast<int>(date.year()),
                                 static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                                 clock.hours().count(), clock.minutes().count(), clock.seconds().count());
  if (clock.subseconds().count() != 0) text += fmt::format(".{:03}", clock.subseconds().count());
  return text + "Z";
}

}  // namespace tuilerie
