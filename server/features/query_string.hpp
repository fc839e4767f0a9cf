// Query strings of feature requests: percent-decoding, lookup and re-encoding for links.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tuilerie {

// The parameters of one query string, decoded, in request order.
class query_parameters {
 public:
  // Parses the text after '?'. Names and values are percent-decoded as
  // RFC 3986 defines, so '+' stays '+' (a time zone offset in datetime, for
  // example). Throws api_error (400) for a malformed escape.
  static query_parameters parse(std::string_view query);

  // The value of the parameter with exactly this name.
  std::optional<std::string> get(std::string_view name) const;
  // The same with the name compared ignoring ASCII case, as OGC web services
  // (WMTS KVP) require.
  std::optional<std::string> get_ignoring_case(std::string_view name) const;

  // The first name given more than once (compared ignoring case when asked),
  // or nullopt.
  std::optional<std::string> repeated_name(bool ignore_case) const;

  // Throws api_error (400) for a parameter given twice or one not in
  // `allowed`, naming it and listing the allowed ones.
  void check_names(const std::set<std::string>& allowed) const;

  // The query string, encoded again, with `name` set to `value` (added when
  // absent), for next and prev links.
  std::string encode_with(std::string_view name, std::string_view value) const;

  const std::vector<std::pair<std::string, std::string>>& items() const { return items_; }

 private:
  std::vector<std::pair<std::string, std::string>> items_;
};

// Percent-encodes every byte except RFC 3986 unreserved characters and the
// ',' and ':' that bbox and CRS values are made of.
std::string percent_encode(std::string_view text);

// Decodes %XX escapes; nullopt for a malformed escape.
std::optional<std::string> percent_decode(std::string_view text);

// The name, quoted, for error messages when it is short and made of letters,
// digits, '-', '_' and '.'. Any other name becomes a placeholder, so that no
// message carries arbitrary request bytes back to the client.
std::string printable_name(std::string_view name);

}  // namespace tuilerie
