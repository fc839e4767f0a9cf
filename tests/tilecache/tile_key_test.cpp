// Cache key encoding: byte layout, sort order and decoding.
#include "tilecache/tile_store.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

namespace tuilerie {
namespace {

using namespace std::string_literals;

tile_key make_key(std::string tileset, tile_format format, std::uint8_t scale, tile_id tile) {
  return tile_key{std::move(tileset), format, scale, tile};
}

// Whether the keys for which `selected` is true form one contiguous run of
// the sorted list.
template <class Predicate>
bool is_contiguous(const std::vector<std::pair<std::string, tile_key>>& sorted, Predicate selected) {
  const auto first = std::find_if(sorted.begin(), sorted.end(), [&](const auto& entry) { return selected(entry.second); });
  const auto after_run = std::find_if(first, sorted.end(), [&](const auto& entry) { return !selected(entry.second); });
  return std::none_of(after_run, sorted.end(), [&](const auto& entry) { return selected(entry.second); });
}

std::vector<std::pair<std::string, tile_key>> sorted_by_encoding(const std::vector<tile_key>& keys) {
  std::vector<std::pair<std::string, tile_key>> encoded;
  for (const auto& key : keys) encoded.emplace_back(encode_tile_key(key), key);
  std::sort(encoded.begin(), encoded.end(),
            [](const auto& left, const auto& right) { return left.first < right.first; });
  return encoded;
}

TEST(TileKey, BytesMatchDocumentedLayout) {
  // x = 1, y = 0: Morton code 1.
  EXPECT_EQ(encode_tile_key(make_key("ab", tile_format::mvt, 2, {1, 1, 0})),
            "ab\0\x03\x02\x01\0\0\0\0\0\0\0\x01"s);
  // x = 0b101, y = 0b011 interleave (y bit, x bit from the top) to 0b011011 = 27.
  EXPECT_EQ(encode_tile_key(make_key("ab", tile_format::png, 1, {3, 5, 3})),
            "ab\0\x01\x01\x03\0\0\0\0\0\0\0\x1b"s);
  // At z24, all 24 bits of x fill the even positions of a 48-bit code.
  EXPECT_EQ(encode_tile_key(make_key("t", tile_format::webp, 1, {24, (1u << 24) - 1, 0})),
            "t\0\x02\x01\x18\0\0\x55\x55\x55\x55\x55\x55"s);
  EXPECT_EQ(encode_tile_key(make_key("t", tile_format::webp, 1, {24, (1u << 24) - 1, (1u << 24) - 1})),
            "t\0\x02\x01\x18\0\0\xff\xff\xff\xff\xff\xff"s);
}

TEST(TileKey, DecodeInvertsEncode) {
  const std::vector<tile_key> keys = {
      make_key("loiret_flood", tile_format::png, 1, {0, 0, 0}),
      make_key("loiret_flood", tile_format::png, 2, {14, 8174, 5714}),
      make_key("orleans-metropole", tile_format::mvt, 1, {12, 2069, 1425}),
      make_key("a", tile_format::webp, 1, {24, (1u << 24) - 1, (1u << 24) - 1}),
      make_key("a", tile_format::webp, 1, {24, 0, (1u << 24) - 1}),
      make_key("Z9", tile_format::mvt, 255, {1, 1, 0}),
  };
  for (const auto& key : keys) {
    const auto decoded = decode_tile_key(encode_tile_key(key));
    ASSERT_TRUE(decoded.has_value()) << format_tile_key(key);
    EXPECT_EQ(*decoded, key) << format_tile_key(key);
  }
}

TEST(TileKey, MetatileTilesSortTogether) {
  // An 8x8 metatile at z14 and every tile in a 24x24 block around it.
  const metatile meta = metatile_of({14, 8174, 5714}, 8);
  std::vector<tile_key> keys;
  for (std::uint32_t y = meta.y - 8; y < meta.y + 16; ++y) {
    for (std::uint32_t x = meta.x - 8; x < meta.x + 16; ++x) {
      keys.push_back(make_key("flood", tile_format::png, 1, {14, x, y}));
    }
  }
  const auto sorted = sorted_by_encoding(keys);
  const auto in_metatile = [&](const tile_key& key) { return meta.contains(key.tile); };
  EXPECT_EQ(std::count_if(keys.begin(), keys.end(), in_metatile), 64);
  EXPECT_TRUE(is_contiguous(sorted, in_metatile));

  // The 2x2 blocks inside it sort together too.
  const metatile quad = metatile_of({14, 8177, 5717}, 2);
  EXPECT_TRUE(is_contiguous(sorted, [&](const tile_key& key) { return quad.contains(key.tile); }));
}

TEST(TileKey, PrefixTilesetsNeverMix) {
  // "flood" is a prefix of "flood2" and "flood-2"; the highest keys of
  // "flood" and the lowest of the others must not interleave.
  const std::vector<std::string> tilesets = {"flood", "flood2", "flood-2", "flood_", "floo", "floodZ"};
  std::vector<tile_key> keys;
  for (const auto& tileset : tilesets) {
    for (const tile_format format : {tile_format::png, tile_format::webp, tile_format::mvt}) {
      for (const std::uint8_t scale : {std::uint8_t{1}, std::uint8_t{2}, std::uint8_t{255}}) {
        keys.push_back(make_key(tileset, format, scale, {0, 0, 0}));
        keys.push_back(make_key(tileset, format, scale, {24, (1u << 24) - 1, (1u << 24) - 1}));
        keys.push_back(make_key(tileset, format, scale, {12, 2069, 1425}));
      }
    }
  }
  const auto sorted = sorted_by_encoding(keys);
  for (const auto& tileset : tilesets) {
    EXPECT_TRUE(is_contiguous(sorted, [&](const tile_key& key) { return key.tileset == tileset; })) << tileset;
  }
}

TEST(TileKey, FormatsAndScalesNeverMix) {
  std::vector<tile_key> keys;
  for (const tile_format format : {tile_format::png, tile_format::webp, tile_format::mvt}) {
    for (const std::uint8_t scale : {std::uint8_t{1}, std::uint8_t{2}}) {
      for (int z = 0; z <= max_zoom; z += 4) {
        const std::uint32_t last = tiles_per_side(z) - 1;
        keys.push_back(make_key("flood", format, scale, {z, 0, 0}));
        keys.push_back(make_key("flood", format, scale, {z, last, last}));
        keys.push_back(make_key("flood", format, scale, {z, last / 2, last / 3}));
      }
    }
  }
  const auto sorted = sorted_by_encoding(keys);
  for (const tile_format format : {tile_format::png, tile_format::webp, tile_format::mvt}) {
    EXPECT_TRUE(is_contiguous(sorted, [&](const tile_key& key) { return key.format == format; }));
    for (const std::uint8_t scale : {std::uint8_t{1}, std::uint8_t{2}}) {
      EXPECT_TRUE(is_contiguous(sorted, [&](const tile_key& key) {
        return key.format == format && key.scale == scale;
      }));
      for (int z = 0; z <= max_zoom; z += 4) {
        EXPECT_TRUE(is_contiguous(sorted, [&](const tile_key& key) {
          return key.format == format && key.scale == scale && key.tile.z == z;
        }));
      }
    }
  }
}

TEST(TileKey, EncodeRejectsInvalidKeys) {
  EXPECT_THROW(encode_tile_key(make_key("", tile_format::png, 1, {0, 0, 0})), std::invalid_argument);
  EXPECT_THROW(encode_tile_key(make_key("a\0b"s, tile_format::png, 1, {0, 0, 0})), std::invalid_argument);
  EXPECT_THROW(encode_tile_key(make_key(std::string(256, 'a'), tile_format::png, 1, {0, 0, 0})),
               std::invalid_argument);
  EXPECT_THROW(encode_tile_key(make_key("a", static_cast<tile_format>(9), 1, {0, 0, 0})), std::invalid_argument);
  EXPECT_THROW(encode_tile_key(make_key("a", tile_format::png, 0, {0, 0, 0})), std::invalid_argument);
  EXPECT_THROW(encode_tile_key(make_key("a", tile_format::png, 1, {2, 4, 0})), std::invalid_argument);
  EXPECT_THROW(encode_tile_key(make_key("a", tile_format::png, 1, {25, 0, 0})), std::invalid_argument);
}

TEST(TileKey, DecodeRejectsMalformedBytes) {
  const std::string valid = "ab\0\x01\x01\x03\0\0\0\0\0\0\0\x1b"s;
  ASSERT_TRUE(decode_tile_key(valid).has_value());

  EXPECT_FALSE(decode_tile_key("").has_value());
  EXPECT_FALSE(decode_tile_key("ab").has_value());                                  // no separator
  EXPECT_FALSE(decode_tile_key(valid.substr(2)).has_value());                       // empty tileset
  EXPECT_FALSE(decode_tile_key(valid.substr(0, valid.size() - 1)).has_value());     // short code
  EXPECT_FALSE(decode_tile_key(valid + "\x01").has_value());                        // long code
  EXPECT_FALSE(decode_tile_key("ab\0\x07\x01\x03\0\0\0\0\0\0\0\x1b"s).has_value()); // format 7
  EXPECT_FALSE(decode_tile_key("ab\0\x01\x00\x03\0\0\0\0\0\0\0\x1b"s).has_value()); // scale 0
  EXPECT_FALSE(decode_tile_key("ab\0\x01\x01\x19\0\0\0\0\0\0\0\x00"s).has_value()); // z25
  // Morton code 0x40 is x = 8, beyond the 8 columns of z3.
  EXPECT_FALSE(decode_tile_key("ab\0\x01\x01\x03\0\0\0\0\0\0\0\x40"s).has_value());
}

TEST(TileKey, FormatNamesTileForMessages) {
  EXPECT_EQ(format_tile_key(make_key("flood", tile_format::png, 1, {12, 2069, 1425})), "flood/12/2069/1425.png");
  EXPECT_EQ(format_tile_key(make_key("flood", tile_format::webp, 2, {3, 5, 3})), "flood/3/5/3@2x.webp");
}

}  // namespace
}  // namespace tuilerie
