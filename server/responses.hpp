// Building HTTP responses: JSON errors, CORS, validators and HEAD handling.
#pragma once

#include "server/http.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tuilerie {

// A JSON response with the given body and Content-Type.
http_response json_response(boost::beast::http::status status, std::string body,
                            std::string_view content_type = "application/json");

// A JSON error body {"error": message}; the message is escaped, never echoed raw.
http_response json_error(boost::beast::http::status status, std::string_view message);

// Adds the CORS headers for the request's Origin: "*" when allowed_origins
// contains "*", the origin itself (with Vary: Origin) when it is listed,
// nothing otherwise. The browser enforces CORS; the server never refuses.
void add_cors_headers(http_response& response, const http_request& request,
                      const std::vector<std::string>& allowed_origins);

// The response to a CORS preflight (OPTIONS) request.
http_response preflight_response(const http_request& request, const std::vector<std::string>& allowed_origins);

// Strong ETag for a 64-bit hash, with a suffix for a second representation
// of the same bytes (the identity encoding of a stored gzip tile).
std::string format_etag(std::uint64_t hash, std::string_view suffix = {});

// Whether an If-None-Match header value matches the ETag: "*", or any listed
// tag equal by weak comparison (RFC 9110, section 13.1.2).
bool if_none_match_matches(std::string_view header, std::string_view etag);

// HTTP-date (RFC 9110, section 5.6.7) formatting and parsing, in Unix seconds.
std::string format_http_date(std::int64_t unix_seconds);
std::optional<std::int64_t> parse_http_date(std::string_view text);

// Whether the Accept-Encoding header accepts gzip with a non-zero quality.
bool accepts_gzip(std::string_view accept_encoding);

// Finishes a response for sending: sets Content-Length, and for HEAD drops
// the body while keeping the length of the GET response.
void finish_response(http_response& response, const http_request& request);

}  // namespace tuilerie
