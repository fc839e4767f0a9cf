// Percent-decoding and re-encoding of query strings.
#include "server/features/query_string.hpp"

#include "server/features/api_error.hpp"

#include <algorithm>
#include <cctype>

namespace tuilerie {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_unreserved(unsigned char c) {
  return std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string join_names(const std::set<std::string>& names) {
  std::string joined;
  for (const auto& name : names) joined += (joined.empty() ? "" : ", ") + name;
  return joined;
}

}  // namespace

std::optional<std::string> percent_decode(std::string_view text) {
  std::string decoded;
  decoded.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      decoded += text[i];
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    const int high = hex_value(text[i + 1]);
    const int low = hex_value(text[i + 2]);
    if (high < 0 || low < 0) return std::nullopt;
    decoded += static_cast<char>(high * 16 + low);
    i += 2;
  }
  return decoded;
}

std::string percent_encode(std::string_view text) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string encoded;
  encoded.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (is_unreserved(byte) || c == ',' || c == ':') {
      encoded += c;
    } else {
      encoded += '%';
      encoded += digits[byte >> 4];
      encoded += digits[byte & 0x0f];
    }
  }
  return encoded;
}

std::string printable_name(std::string_view name) {
  const bool safe = !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
  return safe ? "'" + std::string(name) + "'" : "(a name with other characters)";
}

query_parameters query_parameters::parse(std::string_view query) {
  query_parameters parameters;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view item = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (item.empty()) continue;
    const auto equals = item.find('=');
    const auto name = percent_decode(item.substr(0, equals));
    const auto value =
        percent_decode(equals == std::string_view::npos ? std::string_view{} : item.substr(equals + 1));
    if (!name || !value) {
      throw bad_request("malformed percent-encoding in the query string; escape '%' as %25");
    }
    parameters.items_.emplace_back(*name, *value);
  }
  return parameters;
}

std::optional<std::string> query_parameters::get(std::string_view name) const {
  for (const auto& [key, value] : items_) {
    if (key == name) return value;
  }
  return std::nullopt;
}

std::optional<std::string> query_parameters::get_ignoring_case(std::string_view name) const {
  for (const auto& [key, value] : items_) {
    if (equals_ignoring_case(key, name)) return value;
  }
  return std::nullopt;
}

std::optional<std::string> query_parameters::repeated_name(bool ignore_case) const {
  for (std::size_t i = 0; i < items_.size(); ++i) {
    for (std::size_t j = i + 1; j < items_.size(); ++j) {
      const bool same = ignore_case ? equals_ignoring_case(items_[i].first, items_[j].first)
                                    : items_[i].first == items_[j].first;
      if (same) return items_[i].first;
    }
  }
  return std::nullopt;
}

void query_parameters::check_names(const std::set<std::string>& allowed) const {
  if (const auto repeated = repeated_name(false)) {
    throw bad_request("query parameter " + printable_name(*repeated) +
                      " is given more than once; give it once");
  }
  for (const auto& [name, value] : items_) {
    if (!allowed.contains(name)) {
      throw bad_request("unknown query parameter " + printable_name(name) + "; this resource accepts " +
                        join_names(allowed));
    }
  }
}

std::string query_parameters::encode_with(std::string_view name, std::string_view value) const {
  std::string query;
  bool replaced = false;
  for (const auto& [key, current] : items_) {
    const bool is_target = key == name;
    if (is_target && replaced) continue;
    query +=
        (query.empty() ? "" : "&") + percent_encode(key) + "=" + percent_encode(is_target ? value : current);
    replaced = replaced || is_target;
  }
  if (!replaced) query += (query.empty() ? "" : "&") + percent_encode(name) + "=" + percent_encode(value);
  return query;
}

}  // namespace tuilerie
