// Fuzz target for the feature API's query string and item parameter parsers: the input is the text after
// '?' in an items request, and every decoded value also goes through each parameter parser.
#include "server/features/api_error.hpp"
#include "server/features/item_parameters.hpp"
#include "server/features/query_string.hpp"

#include <array>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

using tuilerie::api_error;

// The limits of the shipped configuration (ogc.default_limit and ogc.max_limit in config/demo.yaml).
constexpr unsigned default_limit = 10;
constexpr unsigned max_limit = 1000;

[[noreturn]] void fail(std::string_view text, const char* broken_invariant) {
  std::fprintf(stderr, "query_parameters_fuzzer: %s, text '", broken_invariant);
  std::fwrite(text.data(), 1, text.size(), stderr);
  std::fprintf(stderr, "'\n");
  std::abort();
}

// Error messages go back to the client as JSON and into the logs, so they carry no request bytes
// beyond printable ASCII: no markup from printable_name's callers, no control characters.
void check_message(std::string_view text, const api_error& error) {
  const std::string_view message = error.what();
  if (message.empty()) fail(text, "api_error with an empty message");
  for (const char c : message) {
    if (c < 0x20 || c > 0x7e || c == '<' || c == '>') fail(text, "api_error message with a byte from the request");
  }
}

// Runs a parser that may reject the text with api_error; returns whether it accepted it.
template <typename Parse>
bool accepts(std::string_view text, Parse&& parse) {
  try {
    parse();
    return true;
  } catch (const api_error& error) {
    check_message(text, error);
    return false;
  }
}

void check_bbox(const std::string& value) {
  std::array<double, 4> bbox{};
  if (!accepts(value, [&] { bbox = tuilerie::parse_bbox(value); })) return;
  for (const double number : bbox) {
    if (!std::isfinite(number)) fail(value, "parse_bbox accepted a value that is not finite");
  }
  if (!accepts(value, [&] { tuilerie::check_crs84_bbox(bbox); })) return;
  const auto [west, south, east, north] = bbox;
  if (west < -180 || west > 180 || east < -180 || east > 180) fail(value, "CRS84 bbox with a longitude out of range");
  if (south < -90 || north > 90 || south > north) fail(value, "CRS84 bbox with latitudes out of range or inverted");
}

void check_crs(const std::string& value) {
  tuilerie::crs_reference crs;
  if (!accepts(value, [&] { crs = tuilerie::parse_crs_uri(value, "bbox-crs"); })) return;
  if (crs.epsg < 0) fail(value, "parse_crs_uri accepted a negative EPSG code");
  tuilerie::crs_reference again;
  const std::string uri = crs.uri();
  if (!accepts(uri, [&] { again = tuilerie::parse_crs_uri(uri, "bbox-crs"); }) || again.epsg != crs.epsg) {
    fail(value, "the URI of an accepted CRS does not parse back to it");
  }
}

void check_limit(const std::string& value) {
  unsigned limit = 0;
  if (!accepts(value, [&] { limit = tuilerie::parse_limit(value, default_limit, max_limit); })) return;
  if (limit < 1 || limit > max_limit) fail(value, "parse_limit returned a limit outside [1, max_limit]");
}

void check_offset(const std::string& value) {
  std::uint64_t offset = 0;
  if (!accepts(value, [&] { offset = tuilerie::parse_offset(value); })) return;
  std::uint64_t again = 0;
  const std::string canonical = std::to_string(offset);
  if (!accepts(canonical, [&] { again = tuilerie::parse_offset(canonical); }) || again != offset) {
    fail(value, "the decimal form of an accepted offset does not parse back to it");
  }
}

// format_rfc3339 writes four-digit years, so only instants from year 0 to 9999 can go back through the parser.
bool has_four_digit_year(tuilerie::time_point time) {
  const std::chrono::year_month_day date{std::chrono::floor<std::chrono::days>(time)};
  return date.year() >= std::chrono::year(0) && date.year() <= std::chrono::year(9999);
}

void check_datetime(const std::string& value) {
  tuilerie::time_interval interval;
  if (!accepts(value, [&] { interval = tuilerie::parse_datetime(value); })) return;
  if (!interval.start && !interval.end) fail(value, "parse_datetime accepted an interval open at both ends");
  if (interval.start && interval.end && *interval.start > *interval.end) {
    fail(value, "parse_datetime accepted an interval that ends before it starts");
  }
  if (!interval.start || !has_four_digit_year(*interval.start)) return;
  const std::string formatted = tuilerie::format_rfc3339(*interval.start);
  const auto reparsed = tuilerie::parse_rfc3339(formatted);
  if (!reparsed || reparsed->start != interval.start) fail(value, "format_rfc3339 output does not parse back");
}

// Encoding a value and decoding it again gives the value back, whatever its bytes.
void check_percent_round_trip(const std::string& text) {
  const std::string encoded = tuilerie::percent_encode(text);
  const auto decoded = tuilerie::percent_decode(encoded);
  if (!decoded || *decoded != text) fail(text, "percent_decode(percent_encode(text)) is not the text");
}

// The next and prev links re-encode the query with one parameter changed; parsing such a link must give
// the request's parameters plus that one.
void check_link_round_trip(std::string_view query, const tuilerie::query_parameters& parameters) {
  const std::string name = "fuzz-link-parameter";
  if (parameters.get(name)) return;
  const std::string link = parameters.encode_with(name, "2");
  tuilerie::query_parameters reparsed;
  if (!accepts(link, [&] { reparsed = tuilerie::query_parameters::parse(link); })) {
    fail(query, "a link built by encode_with does not parse");
  }
  auto expected = parameters.items();
  expected.emplace_back(name, "2");
  if (reparsed.items() != expected) fail(query, "a link built by encode_with has other parameters");
}

void check_names(std::string_view query, const tuilerie::query_parameters& parameters) {
  static const std::set<std::string> allowed{"bbox", "bbox-crs", "datetime", "f", "limit", "offset"};
  accepts(query, [&] { parameters.check_names(allowed); });
  for (const bool ignore_case : {false, true}) {
    const auto repeated = parameters.repeated_name(ignore_case);
    if (repeated && !(ignore_case ? parameters.get_ignoring_case(*repeated) : parameters.get(*repeated))) {
      fail(query, "repeated_name returned a name that get does not find");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view query(reinterpret_cast<const char*>(data), size);
  tuilerie::query_parameters parameters;
  if (!accepts(query, [&] { parameters = tuilerie::query_parameters::parse(query); })) return 0;

  check_names(query, parameters);
  check_link_round_trip(query, parameters);
  for (const auto& [name, value] : parameters.items()) {
    check_percent_round_trip(name);
    check_percent_round_trip(value);
    check_bbox(value);
    check_crs(value);
    check_limit(value);
    check_offset(value);
    check_datetime(value);
  }
  return 0;
}
