// The tile store under concurrent readers and writers, while the map grows.
#include "tilecache/tile_store.hpp"

#include "tests/tilecache/cache_test_support.hpp"

#include <gtest/gtest.h>
#include <xxhash.h>

#include <atomic>
#include <chrono>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace tuilerie {
namespace {

using testing::make_body;
using testing::temporary_directory;

// Keys of the growth test; the eviction test uses more, so they overflow its map.
constexpr std::uint32_t growth_key_count = 64;
constexpr std::uint32_t eviction_key_count = 256;
constexpr std::uint64_t batches_per_writer = 150;
constexpr std::uint32_t tiles_per_batch = 4;

// Readers stop when the writers are done or after this long, whichever is
// first, so that a hang fails the test instead of stalling the suite.
constexpr auto reader_time_limit = std::chrono::seconds(60);

tile_key key_at(std::uint32_t index) {
  return tile_key{"flood", tile_format::png, 1, {12, 2064 + index % 16, 1420 + index / 16}};
}

// Body size grows with the version so that the map has to grow while readers run.
std::size_t body_size(std::uint64_t version) { return 512 + (version % 16) * 1024; }

struct reader_result {
  std::uint64_t reads = 0;
  std::uint64_t hits = 0;
  std::uint64_t mismatches = 0;
};

reader_result read_until_done(tile_store& store, std::uint32_t key_count, const std::atomic<bool>& done,
                              unsigned seed) {
  reader_result result;
  std::mt19937 random(seed);
  const auto deadline = std::chrono::steady_clock::now() + reader_time_limit;
  while (!done.load() && std::chrono::steady_clock::now() < deadline) {
    const tile_key key = key_at(random() % key_count);
    const auto tile = store.get(key);
    ++result.reads;
    if (!tile) continue;
    ++result.hits;
    const std::string expected = make_body(key.tile, tile->data_version, body_size(tile->data_version));
    if (tile->body != expected || tile->etag != XXH3_64bits(expected.data(), expected.size())) {
      ++result.mismatches;
    }
  }
  return result;
}

// Writer w stores versions w, w + 2, w + 4, ... so the two writers never
// store the same version of a tile.
void write_batches(tile_store& store, std::uint32_t key_count, std::uint64_t writer,
                   std::atomic<std::uint64_t>& failures) {
  std::mt19937 random(static_cast<unsigned>(writer) + 17);
  for (std::uint64_t batch_index = 0; batch_index < batches_per_writer; ++batch_index) {
    const std::uint64_t version = writer + 2 * batch_index;
    std::vector<std::pair<tile_key, cached_tile>> batch;
    const std::uint32_t first = random() % key_count;
    for (std::uint32_t i = 0; i < tiles_per_batch; ++i) {
      const tile_key key = key_at((first + i) % key_count);
      cached_tile tile;
      tile.body = make_body(key.tile, version, body_size(version));
      tile.data_version = version;
      batch.emplace_back(key, std::move(tile));
    }
    if (!store.put_batch(batch)) ++failures;
  }
}

TEST(TileStoreThreads, ReadersSeeCompleteTilesWhileWritersGrowMap) {
  temporary_directory directory;
  tile_store store(tile_store_options{directory.path() / "cache", 128 * 1024, 64 << 20});
  const auto initial_map_size = store.stats().map_size_bytes;

  std::atomic<bool> done{false};
  std::atomic<std::uint64_t> write_failures{0};
  reader_result first_reader;
  reader_result second_reader;
  std::thread reader_a([&] { first_reader = read_until_done(store, growth_key_count, done, 1); });
  std::thread reader_b([&] { second_reader = read_until_done(store, growth_key_count, done, 2); });
  std::thread writer_a([&] { write_batches(store, growth_key_count, 0, write_failures); });
  std::thread writer_b([&] { write_batches(store, growth_key_count, 1, write_failures); });

  writer_a.join();
  writer_b.join();
  done = true;
  reader_a.join();
  reader_b.join();

  EXPECT_EQ(write_failures.load(), 0u);
  EXPECT_EQ(first_reader.mismatches, 0u);
  EXPECT_EQ(second_reader.mismatches, 0u);
  EXPECT_GT(first_reader.hits + second_reader.hits, 0u);

  const auto stats = store.stats();
  EXPECT_GT(stats.map_size_bytes, initial_map_size);
  EXPECT_EQ(stats.corrupt_dropped, 0u);
  EXPECT_EQ(stats.evictions, 0u);
  EXPECT_LE(stats.entries, growth_key_count);
  for (std::uint32_t index = 0; index < growth_key_count; ++index) {
    const tile_key key = key_at(index);
    const auto tile = store.get(key);
    if (!tile) continue;
    EXPECT_EQ(tile->body, make_body(key.tile, tile->data_version, body_size(tile->data_version)));
  }
}

TEST(TileStoreThreads, ReadersSeeCompleteTilesWhileWritersEvict) {
  // 1 MiB fits about 120 of the bodies (8 KiB on average), fewer than the 256
  // keys, so both writers keep filling the map to its maximum and evicting.
  temporary_directory directory;
  tile_store store(tile_store_options{directory.path() / "cache", 1 << 20, 1 << 20});

  std::atomic<bool> done{false};
  std::atomic<std::uint64_t> write_failures{0};
  reader_result first_reader;
  reader_result second_reader;
  std::thread reader_a([&] { first_reader = read_until_done(store, eviction_key_count, done, 3); });
  std::thread reader_b([&] { second_reader = read_until_done(store, eviction_key_count, done, 4); });
  std::thread writer_a([&] { write_batches(store, eviction_key_count, 0, write_failures); });
  std::thread writer_b([&] { write_batches(store, eviction_key_count, 1, write_failures); });

  writer_a.join();
  writer_b.join();
  done = true;
  reader_a.join();
  reader_b.join();

  EXPECT_EQ(first_reader.mismatches, 0u);
  EXPECT_EQ(second_reader.mismatches, 0u);
  const auto stats = store.stats();
  EXPECT_GT(stats.evictions, 0u);
  EXPECT_EQ(stats.corrupt_dropped, 0u);
  // A batch may fail when the other writer took the room an eviction made,
  // or a reader still pins the freed pages, but most must be stored (about 3%
  // failed in runs on a 2-core machine).
  RecordProperty("write_failures", std::to_string(write_failures.load()));
  EXPECT_LT(write_failures.load(), 2 * batches_per_writer / 4);
  EXPECT_LE(stats.map_size_bytes, (1u << 20) + 4096);
}

}  // namespace
}  // namespace tuilerie
