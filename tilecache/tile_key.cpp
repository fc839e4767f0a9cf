// Cache key encoding: tileset, format, scale and zoom, then the Morton code of the tile.
#include "tilecache/tile_store.hpp"

#include <stdexcept>

namespace tuilerie {

namespace {

// Bytes after the tileset name: the 0x00 separator, format, scale, zoom and
// the 8-byte Morton code.
constexpr std::size_t key_suffix_bytes = 1 + 1 + 1 + 1 + 8;

// LMDB's default maximum key size is 511 bytes; tileset names are at most 64
// characters in the configuration, so this limit is only a guard.
constexpr std::size_t max_tileset_key_bytes = 255;

// Moves bit i of value to bit 2i of the result.
std::uint64_t spread_bits(std::uint32_t value) {
  std::uint64_t bits = value;
  bits = (bits | bits << 16) & 0x0000ffff0000ffffull;
  bits = (bits | bits << 8) & 0x00ff00ff00ff00ffull;
  bits = (bits | bits << 4) & 0x0f0f0f0f0f0f0f0full;
  bits = (bits | bits << 2) & 0x3333333333333333ull;
  bits = (bits | bits << 1) & 0x5555555555555555ull;
  return bits;
}

// Moves bit 2i of bits to bit i of the result, dropping the odd bits.
std::uint32_t gather_bits(std::uint64_t bits) {
  bits &= 0x5555555555555555ull;
  bits = (bits | bits >> 1) & 0x3333333333333333ull;
  bits = (bits | bits >> 2) & 0x0f0f0f0f0f0f0f0full;
  bits = (bits | bits >> 4) & 0x00ff00ff00ff00ffull;
  bits = (bits | bits >> 8) & 0x0000ffff0000ffffull;
  bits = (bits | bits >> 16) & 0x00000000ffffffffull;
  return static_cast<std::uint32_t>(bits);
}

// Interleaves x (even bits) and y (odd bits), so that every aligned
// power-of-two block of tiles is one contiguous range of codes.
std::uint64_t morton_code(std::uint32_t x, std::uint32_t y) { return spread_bits(x) | spread_bits(y) << 1; }

bool is_known_format(std::uint8_t value) {
  return value == static_cast<std::uint8_t>(tile_format::png) ||
         value == static_cast<std::uint8_t>(tile_format::webp) ||
         value == static_cast<std::uint8_t>(tile_format::mvt);
}

void check_encodable(const tile_key& key) {
  if (key.tileset.empty() || key.tileset.size() > max_tileset_key_bytes ||
      key.tileset.find('\0') != std::string::npos) {
    throw std::invalid_argument("invalid tileset name '" + key.tileset + "' in a cache key: expected 1 to " +
                                std::to_string(max_tileset_key_bytes) + " bytes with no NUL byte");
  }
  if (!is_known_format(static_cast<std::uint8_t>(key.format))) {
    throw std::invalid_argument("invalid tile format " + std::to_string(static_cast<int>(key.format)) +
                                " in a cache key for tileset '" + key.tileset + "'");
  }
  if (key.scale == 0) {
    throw std::invalid_argument("invalid scale 0 in a cache key for tileset '" + key.tileset +
                                "': expected 1, or 2 for @2x tiles");
  }
  if (!is_in_grid(key.tile)) {
    throw std::invalid_argument("tile " + std::to_string(key.tile.z) + "/" + std::to_string(key.tile.x) +
                                "/" + std::to_string(key.tile.y) + " of tileset '" + key.tileset +
                                "' is outside the tile grid and has no cache key");
  }
}

}  // namespace

std::string encode_tile_key(const tile_key& key) {
  check_encodable(key);

  std::string bytes;
  bytes.reserve(key.tileset.size() + key_suffix_bytes);
  bytes += key.tileset;
  // The separator sorts below every name character, so "flood" and all its
  // entries come before "flood2" and the two key ranges never interleave.
  bytes += '\0';
  bytes += static_cast<char>(key.format);
  bytes += static_cast<char>(key.scale);
  bytes += static_cast<char>(key.tile.z);

  // Big-endian, so that byte order is numeric order.
  const std::uint64_t code = morton_code(key.tile.x, key.tile.y);
  for (int shift = 56; shift >= 0; shift -= 8) {
    bytes += static_cast<char>((code >> shift) & 0xff);
  }
  return bytes;
}

std::optional<tile_key> decode_tile_key(std::string_view bytes) {
  const std::size_t separator = bytes.find('\0');
  if (separator == 0 || separator == std::string_view::npos ||
      bytes.size() - separator != key_suffix_bytes) {
    return std::nullopt;
  }

  const auto byte_at = [&](std::size_t index) { return static_cast<std::uint8_t>(bytes[index]); };
  const std::uint8_t format = byte_at(separator + 1);
  const std::uint8_t scale = byte_at(separator + 2);
  const std::uint8_t zoom = byte_at(separator + 3);
  if (!is_known_format(format) || scale == 0) {
    return std::nullopt;
  }

  std::uint64_t code = 0;
  for (std::size_t index = separator + 4; index < bytes.size(); ++index) {
    code = code << 8 | byte_at(index);
  }

  tile_key key;
  key.tileset = std::string(bytes.substr(0, separator));
  key.format = static_cast<tile_format>(format);
  key.scale = scale;
  key.tile = tile_id{zoom, gather_bits(code), gather_bits(code >> 1)};
  if (!is_in_grid(key.tile)) {
    return std::nullopt;
  }
  return key;
}

std::string format_tile_key(const tile_key& key) {
  std::string text = key.tileset + "/" + std::to_string(key.tile.z) + "/" + std::to_string(key.tile.x) + "/" +
                     std::to_string(key.tile.y);
  if (key.scale != 1) {
    text += "@" + std::to_string(key.scale) + "x";
  }
  text += ".";
  text += extension_of(key.format);
  return text;
}

}  // namespace tuilerie
