// Encoding and checking of stored tile values.
#include "tilecache/tile_value.hpp"

#include <xxhash.h>

#include <cstring>
#include <type_traits>

namespace tuilerie {

namespace {

constexpr std::string_view magic = "TLR1";

constexpr std::size_t version_offset = 4;
constexpr std::size_t flags_offset = 5;
constexpr std::size_t created_offset = 6;
constexpr std::size_t data_version_offset = 14;
constexpr std::size_t etag_offset = 22;
constexpr std::size_t length_offset = 30;
constexpr std::size_t header_hash_offset = 34;
static_assert(header_hash_offset + 8 == tile_value_header_bytes);

template <class Integer>
void write_little_endian(char* out, Integer value) {
  const auto bits = static_cast<std::make_unsigned_t<Integer>>(value);
  for (std::size_t i = 0; i < sizeof(Integer); ++i) {
    out[i] = static_cast<char>((bits >> (8 * i)) & 0xff);
  }
}

template <class Integer>
Integer read_little_endian(const char* in) {
  std::make_unsigned_t<Integer> bits = 0;
  for (std::size_t i = 0; i < sizeof(Integer); ++i) {
    bits |= static_cast<std::make_unsigned_t<Integer>>(static_cast<unsigned char>(in[i])) << (8 * i);
  }
  Integer value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

std::uint64_t hash_header(const char* header) { return XXH3_64bits(header, header_hash_offset); }

}  // namespace

std::uint64_t hash_tile_body(std::string_view body) { return XXH3_64bits(body.data(), body.size()); }

std::string encode_tile_value(std::string_view body, std::int64_t created_unix, std::uint64_t data_version) {
  std::string value(tile_value_header_bytes + body.size(), '\0');
  char* header = value.data();
  std::memcpy(header, magic.data(), magic.size());
  header[version_offset] = static_cast<char>(tile_value_layout_version);
  header[flags_offset] = static_cast<char>(body.empty() ? tile_value_empty_flag : 0);
  write_little_endian(header + created_offset, created_unix);
  write_little_endian(header + data_version_offset, data_version);
  write_little_endian(header + etag_offset, hash_tile_body(body));
  write_little_endian(header + length_offset, static_cast<std::uint32_t>(body.size()));
  write_little_endian(header + header_hash_offset, hash_header(header));
  if (!body.empty()) {
    std::memcpy(header + tile_value_header_bytes, body.data(), body.size());
  }
  return value;
}

std::optional<tile_value_header> decode_tile_value_header(std::string_view value, std::string& problem) {
  if (value.size() < tile_value_header_bytes) {
    problem = "value of " + std::to_string(value.size()) + " bytes is shorter than the " +
              std::to_string(tile_value_header_bytes) + "-byte header";
    return std::nullopt;
  }
  const char* header = value.data();
  if (value.substr(0, magic.size()) != magic) {
    problem = "value does not start with the magic bytes TLR1";
    return std::nullopt;
  }
  const auto version = static_cast<std::uint8_t>(header[version_offset]);
  if (version != tile_value_layout_version) {
    problem = "unsupported value layout version " + std::to_string(version);
    return std::nullopt;
  }
  if (read_little_endian<std::uint64_t>(header + header_hash_offset) != hash_header(header)) {
    problem = "header hash mismatch";
    return std::nullopt;
  }

  tile_value_header fields;
  fields.flags = static_cast<std::uint8_t>(header[flags_offset]);
  fields.created_unix = read_little_endian<std::int64_t>(header + created_offset);
  fields.data_version = read_little_endian<std::uint64_t>(header + data_version_offset);
  fields.etag = read_little_endian<std::uint64_t>(header + etag_offset);
  fields.body_bytes = read_little_endian<std::uint32_t>(header + length_offset);

  if ((fields.flags & ~tile_value_empty_flag) != 0) {
    problem = "unknown flags " + std::to_string(fields.flags);
    return std::nullopt;
  }
  if (value.size() - tile_value_header_bytes != fields.body_bytes) {
    problem = "header gives a body of " + std::to_string(fields.body_bytes) + " bytes but the value holds " +
              std::to_string(value.size() - tile_value_header_bytes);
    return std::nullopt;
  }
  if (((fields.flags & tile_value_empty_flag) != 0) != (fields.body_bytes == 0)) {
    problem = "empty-tile flag does not match a body of " + std::to_string(fields.body_bytes) + " bytes";
    return std::nullopt;
  }
  return fields;
}

std::optional<cached_tile> decode_tile_value(std::string_view value, std::string& problem) {
  const auto fields = decode_tile_value_header(value, problem);
  if (!fields) {
    return std::nullopt;
  }
  const std::string_view body = value.substr(tile_value_header_bytes);
  if (hash_tile_body(body) != fields->etag) {
    problem = "body hash does not match the stored ETag";
    return std::nullopt;
  }

  cached_tile tile;
  tile.body = std::string(body);
  tile.etag = fields->etag;
  tile.created_unix = fields->created_unix;
  tile.data_version = fields->data_version;
  return tile;
}

}  // namespace tuilerie
