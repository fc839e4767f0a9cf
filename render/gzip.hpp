// gzip compression of tile bodies with zlib (RFC 1952 framing).
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

namespace tuilerie {

// A zlib failure, or gzip input that is corrupt, truncated or too large once inflated.
class gzip_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Upper bound on gzip_decompress's output by default. A vector tile above a few megabytes is
// already unusable by clients, so 64 MiB only stops a compressed bomb, never a real tile.
inline constexpr std::size_t default_max_inflated_size = std::size_t{64} << 20;

// Compresses data into one gzip member at zlib's default level (6). Throws gzip_error.
std::string gzip_compress(std::string_view data);

// Inflates exactly one gzip member. Throws gzip_error when the input is not gzip, is truncated,
// has bytes after the member, or inflates to more than max_size bytes.
std::string gzip_decompress(std::string_view compressed, std::size_t max_size = default_max_inflated_size);

}  // namespace tuilerie
