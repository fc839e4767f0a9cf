// The LMDB tile store against real LMDB: round trips, corrupt values, a full map, growth, purges.
#include "tilecache/tile_store.hpp"

#include "tests/tilecache/cache_test_support.hpp"
#include "tilecache/tile_value.hpp"

#include <gtest/gtest.h>
#include <xxhash.h>

#include <chrono>
#include <fstream>
#include <set>
#include <string>
#include <vector>

namespace tuilerie {
namespace {

using namespace std::string_literals;
using testing::make_body;
using testing::raw_lmdb;
using testing::temporary_directory;

constexpr std::uint64_t kib = 1024;
constexpr std::uint64_t mib = 1024 * 1024;

tile_store_options small_options(const std::filesystem::path& path, std::uint64_t initial = 1 * mib,
                                 std::uint64_t max = 64 * mib) {
  return tile_store_options{path, initial, max};
}

tile_key png_key(const std::string& tileset, tile_id tile) { return tile_key{tileset, tile_format::png, 1, tile}; }

cached_tile make_tile(std::string body, std::int64_t created_unix = 1700000000, std::uint64_t version = 1) {
  cached_tile tile;
  tile.body = std::move(body);
  tile.created_unix = created_unix;
  tile.data_version = version;
  return tile;
}

std::uint64_t xxh3(const std::string& bytes) { return XXH3_64bits(bytes.data(), bytes.size()); }

class TileStoreTest : public ::testing::Test {
 protected:
  temporary_directory directory;
  std::filesystem::path cache_path = directory.path() / "cache";
};

TEST_F(TileStoreTest, GetAfterPut) {
  tile_store store(small_options(cache_path));
  const tile_key key = png_key("flood", {12, 2069, 1425});
  const std::string body = make_body(key.tile, 7, 1000);
  ASSERT_TRUE(store.put_batch({{key, make_tile(body, 1700000123, 7)}}));

  const auto tile = store.get(key);
  ASSERT_TRUE(tile.has_value());
  EXPECT_EQ(tile->body, body);
  EXPECT_EQ(tile->etag, xxh3(body));
  EXPECT_EQ(tile->created_unix, 1700000123);
  EXPECT_EQ(tile->data_version, 7u);
}

TEST_F(TileStoreTest, MissingKeyIsAbsent) {
  tile_store store(small_options(cache_path));
  ASSERT_TRUE(store.put_batch({{png_key("flood", {12, 2069, 1425}), make_tile("x")}}));
  EXPECT_FALSE(store.get(png_key("flood", {12, 2069, 1426})).has_value());
  EXPECT_FALSE(store.get(png_key("flood2", {12, 2069, 1425})).has_value());
  EXPECT_EQ(store.stats().corrupt_dropped, 0u);
}

TEST_F(TileStoreTest, BinaryBodyWithNulsRoundTrips) {
  tile_store store(small_options(cache_path));
  const tile_key key = png_key("flood", {14, 8278, 5701});
  // Starts like a PNG, has NUL runs, and spans several LMDB overflow pages.
  const std::string body = "\x89PNG\r\n\x1a\n\0\0\0\0"s + make_body(key.tile, 1, 100 * kib) + "\0\0"s;
  ASSERT_TRUE(store.put_batch({{key, make_tile(body)}}));

  const auto tile = store.get(key);
  ASSERT_TRUE(tile.has_value());
  EXPECT_EQ(tile->body.size(), body.size());
  EXPECT_EQ(tile->body, body);
}

TEST_F(TileStoreTest, EmptyTileEntryRoundTrips) {
  tile_store store(small_options(cache_path));
  const tile_key key{"flood", tile_format::mvt, 1, {14, 8278, 5701}};
  ASSERT_TRUE(store.put_batch({{key, make_tile("", 1700000000, 4)}}));

  const auto tile = store.get(key);
  ASSERT_TRUE(tile.has_value());
  EXPECT_TRUE(tile->body.empty());
  EXPECT_EQ(tile->etag, XXH3_64bits("", 0));
  EXPECT_EQ(tile->data_version, 4u);
  EXPECT_EQ(store.stats().corrupt_dropped, 0u);
}

TEST_F(TileStoreTest, OverwriteReplacesEntry) {
  tile_store store(small_options(cache_path));
  const tile_key key = png_key("flood", {10, 517, 356});
  ASSERT_TRUE(store.put_batch({{key, make_tile(make_body(key.tile, 1, 300), 100, 1)}}));
  ASSERT_TRUE(store.put_batch({{key, make_tile(make_body(key.tile, 2, 200), 200, 2)}}));

  const auto tile = store.get(key);
  ASSERT_TRUE(tile.has_value());
  EXPECT_EQ(tile->body, make_body(key.tile, 2, 200));
  EXPECT_EQ(tile->data_version, 2u);
  EXPECT_EQ(store.stats().entries, 1u);
}

TEST_F(TileStoreTest, TilesetsFormatsAndScalesAreSeparate) {
  tile_store store(small_options(cache_path));
  const tile_id tile{12, 2069, 1425};
  const std::vector<tile_key> keys = {
      {"flood", tile_format::png, 1, tile}, {"flood", tile_format::png, 2, tile},
      {"flood", tile_format::webp, 1, tile}, {"flood", tile_format::mvt, 1, tile},
      {"flood2", tile_format::png, 1, tile},
  };
  std::vector<std::pair<tile_key, cached_tile>> batch;
  for (std::size_t i = 0; i < keys.size(); ++i) batch.emplace_back(keys[i], make_tile(make_body(tile, i, 64)));
  ASSERT_TRUE(store.put_batch(batch));

  for (std::size_t i = 0; i < keys.size(); ++i) {
    const auto stored = store.get(keys[i]);
    ASSERT_TRUE(stored.has_value()) << format_tile_key(keys[i]);
    EXPECT_EQ(stored->body, make_body(tile, i, 64)) << format_tile_key(keys[i]);
  }
  EXPECT_EQ(store.stats().entries, keys.size());
}

TEST_F(TileStoreTest, EntriesSurviveReopening) {
  const tile_key key = png_key("flood", {13, 4139, 2850});
  {
    tile_store store(small_options(cache_path));
    ASSERT_TRUE(store.put_batch({{key, make_tile(make_body(key.tile, 3, 5000), 1700000000, 3)}}));
  }
  tile_store reopened(small_options(cache_path));
  const auto tile = reopened.get(key);
  ASSERT_TRUE(tile.has_value());
  EXPECT_EQ(tile->body, make_body(key.tile, 3, 5000));
}

TEST_F(TileStoreTest, MissingCreationTimeIsStoredAsNow) {
  tile_store store(small_options(cache_path));
  const tile_key key = png_key("flood", {12, 2069, 1425});
  const auto before = std::chrono::system_clock::now();
  ASSERT_TRUE(store.put_batch({{key, make_tile("x", 0)}}));
  const auto after = std::chrono::system_clock::now();

  const auto tile = store.get(key);
  ASSERT_TRUE(tile.has_value());
  const auto seconds = [](auto time) {
    return std::chrono::duration_cast<std::chrono::seconds>(time.time_since_epoch()).count();
  };
  EXPECT_GE(tile->created_unix, seconds(before));
  EXPECT_LE(tile->created_unix, seconds(after));
}

TEST_F(TileStoreTest, StoredEtagIsComputedFromBody) {
  tile_store store(small_options(cache_path));
  const tile_key key = png_key("flood", {12, 2069, 1425});
  cached_tile tile = make_tile("body");
  tile.etag = 12345;  // a wrong hash from the caller is not stored
  ASSERT_TRUE(store.put_batch({{key, tile}}));
  EXPECT_EQ(store.get(key)->etag, xxh3("body"));
}

// Stores one tile, closes the store, replaces its value through LMDB's C API
// with the output of `damage`, and reopens the store.
class CorruptValueTest : public TileStoreTest {
 protected:
  const tile_key key = png_key("flood", {12, 2069, 1425});
  const tile_key neighbour = png_key("flood", {12, 2070, 1425});

  std::unique_ptr<tile_store> store_with_damaged_value(const std::function<std::string(std::string)>& damage) {
    {
      tile_store store(small_options(cache_path));
      EXPECT_TRUE(store.put_batch({{key, make_tile(make_body(key.tile, 1, 3000))},
                                   {neighbour, make_tile(make_body(neighbour.tile, 1, 3000))}}));
    }
    {
      raw_lmdb raw(cache_path);
      const auto stored = raw.get(encode_tile_key(key));
      EXPECT_TRUE(stored.has_value());
      raw.put(encode_tile_key(key), damage(stored.value_or("")));
    }
    return std::make_unique<tile_store>(small_options(cache_path));
  }

  // Checks that the damaged entry reads as absent, is counted once, is gone
  // from LMDB, and that its neighbour is still served.
  void expect_dropped(std::unique_ptr<tile_store> store) {
    EXPECT_FALSE(store->get(key).has_value());
    EXPECT_EQ(store->stats().corrupt_dropped, 1u);
    EXPECT_FALSE(store->get(key).has_value());
    EXPECT_EQ(store->stats().corrupt_dropped, 1u);
    EXPECT_EQ(store->stats().entries, 1u);

    const auto other = store->get(neighbour);
    ASSERT_TRUE(other.has_value());
    EXPECT_EQ(other->body, make_body(neighbour.tile, 1, 3000));

    store.reset();
    raw_lmdb raw(cache_path);
    EXPECT_FALSE(raw.get(encode_tile_key(key)).has_value());
  }
};

TEST_F(CorruptValueTest, TruncatedValueIsDropped) {
  expect_dropped(store_with_damaged_value([](std::string value) { return value.substr(0, value.size() - 10); }));
}

TEST_F(CorruptValueTest, ValueCutToHeaderIsDropped) {
  expect_dropped(
      store_with_damaged_value([](std::string value) { return value.substr(0, tile_value_header_bytes); }));
}

TEST_F(CorruptValueTest, RawZeroLengthValueIsMiss) {
  expect_dropped(store_with_damaged_value([](std::string) { return std::string(); }));
}

TEST_F(CorruptValueTest, FlippedBodyBitIsDropped) {
  expect_dropped(store_with_damaged_value([](std::string value) {
    value[value.size() / 2] ^= 0x10;
    return value;
  }));
}

TEST_F(CorruptValueTest, BadMagicIsDropped) {
  expect_dropped(store_with_damaged_value([](std::string value) {
    value.replace(0, 1, 1, 'P');
    return value;
  }));
}

TEST_F(CorruptValueTest, FlippedHeaderBitIsDropped) {
  expect_dropped(store_with_damaged_value([](std::string value) {
    // Through replace(): GCC 12 at -O2 reports a false stringop-overflow
    // for a plain store into the string here.
    value.replace(20, 1, 1, static_cast<char>(value.at(20) ^ 0x01));  // inside data_version
    return value;
  }));
}

TEST_F(TileStoreTest, MapGrowsFromInitialSizeUpToMax) {
  tile_store store(small_options(cache_path, 256 * kib, 16 * mib));
  const auto initial = store.stats().map_size_bytes;
  EXPECT_LT(initial, 1 * mib);

  // 64 batches of 4 tiles of 16 KiB: 4 MiB of bodies.
  std::vector<tile_key> keys;
  for (std::uint32_t batch_index = 0; batch_index < 64; ++batch_index) {
    std::vector<std::pair<tile_key, cached_tile>> batch;
    for (std::uint32_t i = 0; i < 4; ++i) {
      const tile_key key = png_key("flood", {14, 8264 + batch_index, 5688 + i});
      batch.emplace_back(key, make_tile(make_body(key.tile, 1, 16 * kib)));
      keys.push_back(key);
    }
    ASSERT_TRUE(store.put_batch(batch)) << "batch " << batch_index;
  }

  const auto stats = store.stats();
  EXPECT_GT(stats.map_size_bytes, 4 * mib);
  EXPECT_LE(stats.map_size_bytes, 16 * mib);
  EXPECT_LE(stats.used_bytes, stats.map_size_bytes);
  EXPECT_GT(stats.used_bytes, 4 * mib);
  EXPECT_EQ(stats.entries, keys.size());
  EXPECT_EQ(stats.evictions, 0u);
  EXPECT_EQ(stats.write_failures, 0u);
  for (const auto& key : keys) {
    const auto tile = store.get(key);
    ASSERT_TRUE(tile.has_value()) << format_tile_key(key);
    EXPECT_EQ(tile->body, make_body(key.tile, 1, 16 * kib));
  }
}

TEST_F(TileStoreTest, FullMapEvictsOldestAndKeepsServing) {
  tile_store store(small_options(cache_path, 1 * mib, 1 * mib));

  // 100 batches of 4 tiles of 20 KiB (8 MiB) go into a 1 MiB map. Batch b is
  // created at time 1000 + b, so batch 0 is the oldest.
  std::vector<std::vector<tile_key>> batches;
  int last_stored = -1;
  for (std::uint32_t batch_index = 0; batch_index < 100; ++batch_index) {
    std::vector<std::pair<tile_key, cached_tile>> batch;
    batches.emplace_back();
    for (std::uint32_t i = 0; i < 4; ++i) {
      const tile_key key = png_key("flood", {14, 8264 + batch_index, 5688 + i});
      batch.emplace_back(key, make_tile(make_body(key.tile, 1, 20 * kib), 1000 + batch_index));
      batches.back().push_back(key);
    }
    bool stored = false;
    EXPECT_NO_THROW(stored = store.put_batch(batch));
    if (stored) last_stored = static_cast<int>(batch_index);
  }

  const auto stats = store.stats();
  EXPECT_GT(stats.evictions, 0u);
  EXPECT_LT(stats.entries, 400u);
  EXPECT_LE(stats.map_size_bytes, 1 * mib + 4 * kib);
  EXPECT_EQ(stats.corrupt_dropped, 0u);
  ASSERT_GE(last_stored, 0);

  // The oldest batch went first, the newest stored batch is complete, and
  // whatever remains is intact.
  for (const auto& key : batches.front()) {
    EXPECT_FALSE(store.get(key).has_value()) << format_tile_key(key);
  }
  for (const auto& key : batches[static_cast<std::size_t>(last_stored)]) {
    const auto tile = store.get(key);
    ASSERT_TRUE(tile.has_value()) << format_tile_key(key);
    EXPECT_EQ(tile->body, make_body(key.tile, 1, 20 * kib));
  }
  std::uint64_t present = 0;
  for (const auto& batch : batches) {
    for (const auto& key : batch) {
      const auto tile = store.get(key);
      if (!tile) continue;
      ++present;
      EXPECT_EQ(tile->body, make_body(key.tile, 1, 20 * kib)) << format_tile_key(key);
    }
  }
  EXPECT_EQ(present, store.stats().entries);
  EXPECT_EQ(store.stats().corrupt_dropped, 0u);
}

TEST_F(TileStoreTest, BatchLargerThanMaxFailsWithoutEvicting) {
  tile_store store(small_options(cache_path, 1 * mib, 1 * mib));
  const tile_key small = png_key("flood", {12, 2069, 1425});
  ASSERT_TRUE(store.put_batch({{small, make_tile("small")}}));

  const tile_key huge = png_key("flood", {12, 2070, 1425});
  bool stored = true;
  EXPECT_NO_THROW(stored = store.put_batch({{huge, make_tile(std::string(2 * mib, 'h'))}}));
  EXPECT_FALSE(stored);

  const auto stats = store.stats();
  EXPECT_EQ(stats.write_failures, 1u);
  EXPECT_EQ(stats.evictions, 0u);
  EXPECT_FALSE(store.get(huge).has_value());
  ASSERT_TRUE(store.get(small).has_value());
  EXPECT_EQ(store.get(small)->body, "small");
}

TEST_F(TileStoreTest, StatsCountEntries) {
  tile_store store(small_options(cache_path));
  EXPECT_EQ(store.stats().entries, 0u);
  std::vector<std::pair<tile_key, cached_tile>> batch;
  for (std::uint32_t x = 0; x < 16; ++x) batch.emplace_back(png_key("flood", {4, x, 3}), make_tile("t"));
  ASSERT_TRUE(store.put_batch(batch));

  const auto stats = store.stats();
  EXPECT_EQ(stats.entries, 16u);
  EXPECT_GE(stats.map_size_bytes, 1 * mib);
  EXPECT_GT(stats.used_bytes, 0u);
  EXPECT_LE(stats.used_bytes, stats.map_size_bytes);
}

// Purges: a tileset around Orléans at z10 to z14 in two formats, next to a
// tileset whose name extends it.
class PurgeTest : public TileStoreTest {
 protected:
  static constexpr bbox stored_area{1.6, 47.7, 2.3, 48.1};

  std::vector<tile_key> stored_keys;

  void SetUp() override {
    store = std::make_unique<tile_store>(small_options(cache_path, 4 * mib, 64 * mib));
    for (int z = 10; z <= 14; ++z) {
      const tile_range range = tiles_covering(stored_area, z);
      for (std::uint32_t y = range.min_y; y <= range.max_y; ++y) {
        for (std::uint32_t x = range.min_x; x <= range.max_x; ++x) {
          stored_keys.push_back(tile_key{"flood", tile_format::png, 1, {z, x, y}});
          stored_keys.push_back(tile_key{"flood", tile_format::mvt, 2, {z, x, y}});
          if (z == 12) stored_keys.push_back(tile_key{"flood2", tile_format::png, 1, {z, x, y}});
        }
      }
    }
    for (std::size_t first = 0; first < stored_keys.size(); first += 64) {
      std::vector<std::pair<tile_key, cached_tile>> batch;
      for (std::size_t i = first; i < std::min(first + 64, stored_keys.size()); ++i) {
        batch.emplace_back(stored_keys[i], make_tile(make_body(stored_keys[i].tile, 1, 16)));
      }
      ASSERT_TRUE(store->put_batch(batch));
    }
    ASSERT_EQ(store->stats().entries, stored_keys.size());
  }

  std::unique_ptr<tile_store> store;
};

TEST_F(PurgeTest, BoxAndZoomRangeDeleteExactlyCoveredTiles) {
  const bbox box{1.85, 47.85, 2.0, 47.95};
  std::set<std::string> expected_deleted;
  for (const auto& key : stored_keys) {
    if (key.tileset != "flood" || key.tile.z < 11 || key.tile.z > 13) continue;
    const tile_range range = tiles_covering(box, key.tile.z);
    if (key.tile.x >= range.min_x && key.tile.x <= range.max_x && key.tile.y >= range.min_y &&
        key.tile.y <= range.max_y) {
      expected_deleted.insert(encode_tile_key(key));
    }
  }
  // By hand: 2x2 tiles at z11, 2x3 at z12, 4x4 at z13, in two formats.
  ASSERT_EQ(expected_deleted.size(), 2u * (4 + 6 + 16));

  EXPECT_EQ(store->purge("flood", 11, 13, box), expected_deleted.size());
  for (const auto& key : stored_keys) {
    const bool deleted = expected_deleted.contains(encode_tile_key(key));
    EXPECT_EQ(store->get(key).has_value(), !deleted) << format_tile_key(key);
  }
  EXPECT_EQ(store->stats().entries, stored_keys.size() - expected_deleted.size());

  // Tiles checked by hand with the XYZ formulas. Orléans centre at z12
  // (1.909 E, 47.902 N) is in the box, and the tile at 1.65 E is west of it.
  // z10 and z14 are outside the zoom range.
  EXPECT_FALSE(store->get(tile_key{"flood", tile_format::png, 1, {12, 2069, 1425}}).has_value());
  EXPECT_TRUE(store->get(tile_key{"flood", tile_format::png, 1, {12, 2066, 1425}}).has_value());
  EXPECT_TRUE(store->get(tile_key{"flood", tile_format::png, 1, {14, 8278, 5701}}).has_value());
  EXPECT_TRUE(store->get(tile_key{"flood", tile_format::png, 1, {10, 517, 356}}).has_value());
  EXPECT_TRUE(store->get(tile_key{"flood2", tile_format::png, 1, {12, 2069, 1425}}).has_value());
}

TEST_F(PurgeTest, WithoutBoxDeletesWholeTilesetOnly) {
  const auto flood_entries = static_cast<std::uint64_t>(
      std::count_if(stored_keys.begin(), stored_keys.end(), [](const tile_key& key) { return key.tileset == "flood"; }));
  // Over a thousand entries, so the purge spans several write transactions.
  ASSERT_GT(flood_entries, 1024u);

  EXPECT_EQ(store->purge("flood", 0, max_zoom), flood_entries);
  EXPECT_EQ(store->stats().entries, stored_keys.size() - flood_entries);
  for (const auto& key : stored_keys) {
    EXPECT_EQ(store->get(key).has_value(), key.tileset == "flood2") << format_tile_key(key);
  }
  EXPECT_EQ(store->purge("flood", 0, max_zoom), 0u);
}

TEST_F(PurgeTest, ZoomRangeWithoutBoxKeepsOtherZooms) {
  const auto z14_entries = static_cast<std::uint64_t>(std::count_if(
      stored_keys.begin(), stored_keys.end(),
      [](const tile_key& key) { return key.tileset == "flood" && key.tile.z == 14; }));
  EXPECT_EQ(store->purge("flood", 14, 14), z14_entries);
  for (const auto& key : stored_keys) {
    EXPECT_EQ(store->get(key).has_value(), key.tile.z != 14 || key.tileset != "flood") << format_tile_key(key);
  }
}

TEST_F(PurgeTest, RejectsInvalidArguments) {
  EXPECT_THROW(store->purge("flood", 5, 4), std::invalid_argument);
  EXPECT_THROW(store->purge("flood", -1, 4), std::invalid_argument);
  EXPECT_THROW(store->purge("flood", 0, max_zoom + 1), std::invalid_argument);
  EXPECT_THROW(store->purge("", 0, 4), std::invalid_argument);
  EXPECT_THROW(store->purge("flood", 0, 4, bbox{2.0, 47.0, 1.0, 48.0}), std::invalid_argument);
  EXPECT_EQ(store->stats().entries, stored_keys.size());
}

TEST_F(TileStoreTest, OpenFailsOnFileInPlaceOfDirectory) {
  const auto file = directory.path() / "not-a-directory";
  std::ofstream(file) << "x";
  try {
    tile_store store(small_options(file));
    FAIL() << "opening a tile store on a regular file succeeded";
  } catch (const cache_error& error) {
    EXPECT_NE(std::string(error.what()).find(file.string()), std::string::npos) << error.what();
  }
}

TEST_F(TileStoreTest, SecondOpenInProcessIsRejected) {
  tile_store store(small_options(cache_path));
  try {
    // The same directory through another spelling of its path.
    tile_store second(small_options(cache_path / ".." / "cache"));
    FAIL() << "a second tile_store on the same directory was opened";
  } catch (const cache_error& error) {
    EXPECT_NE(std::string(error.what()).find("already open in this process"), std::string::npos) << error.what();
  }

  // The failed open left the first store working.
  const tile_key key = png_key("flood", {12, 2069, 1425});
  ASSERT_TRUE(store.put_batch({{key, make_tile("x")}}));
  EXPECT_TRUE(store.get(key).has_value());
}

TEST_F(TileStoreTest, ClosedStoreCanBeReopened) {
  { tile_store store(small_options(cache_path)); }
  EXPECT_NO_THROW(tile_store reopened(small_options(cache_path)));
}

TEST_F(TileStoreTest, OpenRejectsInitialSizeAboveMax) {
  try {
    tile_store store(small_options(cache_path, 2 * mib, 1 * mib));
    FAIL() << "an initial size above the maximum was accepted";
  } catch (const cache_error& error) {
    EXPECT_NE(std::string(error.what()).find(cache_path.string()), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("2097152"), std::string::npos) << error.what();
  }
}

}  // namespace
}  // namespace tuilerie
