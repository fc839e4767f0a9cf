// The byte layout of a cached tile as stored in LMDB: a checked header, then the body.
#pragma once

#include "tilecache/tile_store.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tuilerie {

// Layout 1, all integers little-endian:
//   offset  0  magic "TLR1"                     4 bytes
//   offset  4  layout version (1)               1 byte
//   offset  5  flags (bit 0: empty tile)        1 byte
//   offset  6  created_unix, seconds, signed    8 bytes
//   offset 14  data_version                     8 bytes
//   offset 22  etag, XXH3 64-bit of the body    8 bytes
//   offset 30  body length in bytes             4 bytes
//   offset 34  XXH3 64-bit of bytes 0 to 33     8 bytes
//   offset 42  body
// The header hash catches damage to the fields; the etag, recomputed over the
// body, catches damage to the body, and the length catches truncation.
inline constexpr std::size_t tile_value_header_bytes = 42;
inline constexpr std::uint8_t tile_value_layout_version = 1;

// Set when the tile has no data. An empty body without this flag is corrupt,
// so a value cut down to its header is never served as an empty tile.
inline constexpr std::uint8_t tile_value_empty_flag = 0x01;

// The largest body the 4-byte length field can describe.
inline constexpr std::size_t max_tile_body_bytes = 0xffffffffu - tile_value_header_bytes;

// The header fields of a stored value, after their checks.
struct tile_value_header {
  std::uint8_t flags = 0;
  std::int64_t created_unix = 0;
  std::uint64_t data_version = 0;
  std::uint64_t etag = 0;
  std::uint32_t body_bytes = 0;
};

// Encodes a tile, computing its etag from the body. The body must be at most
// max_tile_body_bytes long.
std::string encode_tile_value(std::string_view body, std::int64_t created_unix, std::uint64_t data_version);

// Checks a stored value's header (magic, version, header hash, flags and the
// body length against the value's size) without reading the body. On failure
// returns nullopt and sets `problem` to the reason.
std::optional<tile_value_header> decode_tile_value_header(std::string_view value, std::string& problem);

// Checks the whole value, body hash included, and copies the tile out. On
// failure returns nullopt and sets `problem` to the reason.
std::optional<cached_tile> decode_tile_value(std::string_view value, std::string& problem);

}  // namespace tuilerie
