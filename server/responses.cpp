// HTTP response helpers shared by the handlers.
#include "server/responses.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <fmt/format.h>

namespace tuilerie {

namespace http = boost::beast::http;

namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

std::string_view strip_weak_prefix(std::string_view tag) {
  if (tag.starts_with("W/")) tag.remove_prefix(2);
  return tag;
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// Calls visit(item) for each comma-separated item of a header value.
template <class Visitor>
void for_each_list_item(std::string_view header, Visitor visit) {
  while (!header.empty()) {
    const auto comma = header.find(',');
    visit(trim(header.substr(0, comma)));
    if (comma == std::string_view::npos) break;
    header.remove_prefix(comma + 1);
  }
}

bool origin_allowed(std::string_view origin, const std::vector<std::string>& allowed_origins) {
  return std::find(allowed_origins.begin(), allowed_origins.end(), origin) != allowed_origins.end();
}

}  // namespace

http_response json_response(http::status status, std::string body, std::string_view content_type) {
  http_response response{status, 11};
  response.set(http::field::content_type, content_type);
  response.body() = std::move(body);
  return response;
}

http_response json_error(http::status status, std::string_view message) {
  nlohmann::json body{{"error", std::string(message)}, {"status", static_cast<unsigned>(status)}};
  auto response = json_response(status, body.dump());
  response.set(http::field::cache_control, "no-store");
  return response;
}

void add_cors_headers(http_response& response, const http_request& request,
                      const std::vector<std::string>& allowed_origins) {
  const bool any_origin = origin_allowed("*", allowed_origins);
  const auto origin = request[http::field::origin];
  if (any_origin) {
    response.set(http::field::access_control_allow_origin, "*");
  } else if (!origin.empty() && origin_allowed(origin, allowed_origins)) {
    response.set(http::field::access_control_allow_origin, origin);
  }
  if (!any_origin) response.insert(http::field::vary, "Origin");
  response.set(http::field::access_control_expose_headers, "ETag, Last-Modified, Content-Encoding");
}

http_response preflight_response(const http_request& request, const std::vector<std::string>& allowed_origins) {
  http_response response{http::status::no_content, 11};
  add_cors_headers(response, request, allowed_origins);
  response.set(http::field::access_control_allow_methods, "GET, HEAD, OPTIONS");
  const auto requested = request[http::field::access_control_request_headers];
  response.set(http::field::access_control_allow_headers,
               requested.empty() ? std::string_view("If-None-Match, If-Modified-Since") : requested);
  response.set(http::field::access_control_max_age, "86400");
  response.set(http::field::allow, "GET, HEAD, OPTIONS");
  return response;
}

std::string format_etag(std::uint64_t hash, std::string_view suffix) {
  return fmt::format("\"{:016x}{}\"", hash, suffix);
}

bool if_none_match_matches(std::string_view header, std::string_view etag) {
  bool matched = false;
  for_each_list_item(header, [&](std::string_view tag) {
    if (tag == "*" || strip_weak_prefix(tag) == strip_weak_prefix(etag)) matched = true;
  });
  return matched;
}

std::string format_http_date(std::int64_t unix_seconds) {
  const std::time_t time = static_cast<std::time_t>(unix_seconds);
  std::tm utc{};
  gmtime_r(&time, &utc);
  char text[64];
  const std::size_t length = std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &utc);
  return std::string(text, length);
}

std::optional<std::int64_t> parse_http_date(std::string_view text) {
  const std::string copy(trim(text));
  std::tm utc{};
  const char* end = strptime(copy.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &utc);
  if (end == nullptr || *end != '\0') return std::nullopt;
  return static_cast<std::int64_t>(timegm(&utc));
}

bool accepts_gzip(std::string_view accept_encoding) {
  std::optional<bool> gzip;  // set when gzip is named explicitly
  bool any_coding = false;   // "*" with a non-zero quality
  for_each_list_item(accept_encoding, [&](std::string_view item) {
    const auto semicolon = item.find(';');
    const auto coding = trim(item.substr(0, semicolon));
    bool zero_quality = false;
    if (semicolon != std::string_view::npos) {
      auto parameter = trim(item.substr(semicolon + 1));
      if (parameter.starts_with("q=") || parameter.starts_with("Q=")) {
        parameter.remove_prefix(2);
        zero_quality = parameter.find_first_not_of("0.") == std::string_view::npos;
      }
    }
    if (equals_ignoring_case(coding, "gzip")) gzip = !zero_quality;
    if (coding == "*") any_coding = !zero_quality;
  });
  return gzip.value_or(any_coding);
}

void finish_response(http_response& response, const http_request& request) {
  response.set(http::field::server, "Tuilerie");
  const auto length = response.body().size();
  const bool no_body = response.result() == http::status::no_content ||
                       response.result() == http::status::not_modified;
  if (no_body) {
    response.body().clear();
    response.erase(http::field::content_length);
    return;
  }
  response.content_length(length);
  if (request.method() == http::verb::head) response.body().clear();
}

}  // namespace tuilerie
