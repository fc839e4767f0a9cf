// Stored value layout: documented byte offsets and every integrity check.
#include "tilecache/tile_value.hpp"

#include <gtest/gtest.h>
#include <xxhash.h>

#include <cstdint>
#include <string>

namespace tuilerie {
namespace {

using namespace std::string_literals;

std::uint64_t read_le64(const std::string& bytes, std::size_t offset) {
  std::uint64_t value = 0;
  for (int i = 7; i >= 0; --i) value = value << 8 | static_cast<unsigned char>(bytes[offset + i]);
  return value;
}

void write_le64(std::string& bytes, std::size_t offset, std::uint64_t value) {
  for (int i = 0; i < 8; ++i) bytes[offset + i] = static_cast<char>(value >> (8 * i));
}

// Recomputes the header hash after a test changes a header field, so that the
// check after it is the one under test.
void rehash_header(std::string& value) { write_le64(value, 34, XXH3_64bits(value.data(), 34)); }

std::string problem_of(const std::string& value) {
  std::string problem;
  EXPECT_FALSE(decode_tile_value(value, problem).has_value());
  return problem;
}

TEST(TileValue, BytesMatchDocumentedLayout) {
  const std::string value = encode_tile_value("abc", 0x0102030405060708, 0x1122334455667788);
  ASSERT_EQ(value.size(), 45u);
  EXPECT_EQ(value.substr(0, 4), "TLR1");
  EXPECT_EQ(value[4], '\x01');
  EXPECT_EQ(value[5], '\x00');
  EXPECT_EQ(value.substr(6, 8), "\x08\x07\x06\x05\x04\x03\x02\x01"s);
  EXPECT_EQ(value.substr(14, 8), "\x88\x77\x66\x55\x44\x33\x22\x11"s);
  EXPECT_EQ(read_le64(value, 22), XXH3_64bits("abc", 3));
  EXPECT_EQ(value.substr(30, 4), "\x03\x00\x00\x00"s);
  EXPECT_EQ(read_le64(value, 34), XXH3_64bits(value.data(), 34));
  EXPECT_EQ(value.substr(42), "abc");
}

TEST(TileValue, EmptyBodySetsEmptyFlag) {
  const std::string value = encode_tile_value("", 1700000000, 3);
  ASSERT_EQ(value.size(), tile_value_header_bytes);
  EXPECT_EQ(value[5], '\x01');
  EXPECT_EQ(value.substr(30, 4), "\x00\x00\x00\x00"s);

  std::string problem;
  const auto tile = decode_tile_value(value, problem);
  ASSERT_TRUE(tile.has_value()) << problem;
  EXPECT_TRUE(tile->body.empty());
  EXPECT_EQ(tile->etag, XXH3_64bits("", 0));
}

TEST(TileValue, DecodeInvertsEncode) {
  const std::string body = "\0\x89PNG\r\n\x1a\n\0\0\0"s + std::string(5000, '\xff');
  const std::string value = encode_tile_value(body, -86400, UINT64_MAX);
  std::string problem;
  const auto tile = decode_tile_value(value, problem);
  ASSERT_TRUE(tile.has_value()) << problem;
  EXPECT_EQ(tile->body, body);
  EXPECT_EQ(tile->etag, XXH3_64bits(body.data(), body.size()));
  EXPECT_EQ(tile->created_unix, -86400);
  EXPECT_EQ(tile->data_version, UINT64_MAX);
}

TEST(TileValue, ShortValueIsRejected) {
  const std::string value = encode_tile_value("abc", 1, 1);
  EXPECT_EQ(problem_of(""), "value of 0 bytes is shorter than the 42-byte header");
  EXPECT_EQ(problem_of(value.substr(0, 41)), "value of 41 bytes is shorter than the 42-byte header");
}

TEST(TileValue, BadMagicIsRejected) {
  std::string value = encode_tile_value("abc", 1, 1);
  value[0] = 'X';
  EXPECT_EQ(problem_of(value), "value does not start with the magic bytes TLR1");
}

TEST(TileValue, UnknownLayoutVersionIsRejected) {
  std::string value = encode_tile_value("abc", 1, 1);
  value[4] = '\x02';
  rehash_header(value);
  EXPECT_EQ(problem_of(value), "unsupported value layout version 2");
}

TEST(TileValue, DamagedHeaderFieldIsRejected) {
  std::string value = encode_tile_value("abc", 1, 1);
  value[14] ^= 0x01;  // data_version 1 becomes 0
  EXPECT_EQ(problem_of(value), "header hash mismatch");
}

TEST(TileValue, UnknownFlagIsRejected) {
  std::string value = encode_tile_value("abc", 1, 1);
  value[5] = '\x04';
  rehash_header(value);
  EXPECT_EQ(problem_of(value), "unknown flags 4");
}

TEST(TileValue, LengthMismatchIsRejected) {
  const std::string value = encode_tile_value("abcdef", 1, 1);
  EXPECT_EQ(problem_of(value.substr(0, value.size() - 2)), "header gives a body of 6 bytes but the value holds 4");
  EXPECT_EQ(problem_of(value + "g"), "header gives a body of 6 bytes but the value holds 7");
  EXPECT_EQ(problem_of(value.substr(0, tile_value_header_bytes)),
            "header gives a body of 6 bytes but the value holds 0");
}

TEST(TileValue, EmptyFlagMustMatchBody) {
  std::string flagged = encode_tile_value("abc", 1, 1);
  flagged[5] = '\x01';
  rehash_header(flagged);
  EXPECT_EQ(problem_of(flagged), "empty-tile flag does not match a body of 3 bytes");

  std::string unflagged = encode_tile_value("", 1, 1);
  unflagged[5] = '\x00';
  rehash_header(unflagged);
  EXPECT_EQ(problem_of(unflagged), "empty-tile flag does not match a body of 0 bytes");
}

TEST(TileValue, DamagedBodyIsRejected) {
  std::string value = encode_tile_value("abcdef", 1, 1);
  value.back() ^= 0x20;
  EXPECT_EQ(problem_of(value), "body hash does not match the stored ETag");
}

TEST(TileValue, HeaderCheckSkipsBody) {
  std::string value = encode_tile_value("abcdef", 42, 7);
  value.back() ^= 0x20;
  std::string problem;
  const auto header = decode_tile_value_header(value, problem);
  ASSERT_TRUE(header.has_value()) << problem;
  EXPECT_EQ(header->created_unix, 42);
  EXPECT_EQ(header->data_version, 7u);
  EXPECT_EQ(header->body_bytes, 6u);
}

}  // namespace
}  // namespace tuilerie
