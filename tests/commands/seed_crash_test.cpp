// Crash safety: seeds killed with SIGKILL at random moments leave only whole entries, and a last seed completes.
#include "command_runner.hpp"
#include "images.hpp"

#include "tests/tilecache/cache_test_support.hpp"
#include "tilecache/tile_store.hpp"

#include <gtest/gtest.h>

#include <signal.h>

#include <chrono>
#include <map>
#include <random>
#include <thread>

namespace tuilerie::testing {
namespace {

namespace fs = std::filesystem;

const fs::path source_dir = TUILERIE_SOURCE_DIR;
const fs::path test_config = source_dir / "config" / "test.yaml";

// Orléans and its surroundings at z0-14: about 50 metatiles and 8 s of
// rendering on two threads, so that most kills land while metatiles are being
// rendered and stored.
const std::string seed_bbox = "1.6,47.6,2.3,48.1";
const bbox seed_area{1.6, 47.6, 2.3, 48.1};
constexpr int seed_maxzoom = 14;
constexpr std::uint32_t communes_metatile = 8;  // tilesets.communes.metatile in config/test.yaml

constexpr int kill_rounds = 20;

// The whole test stops killing after this, so a slow machine cannot make it
// run for long; the final seed still has to complete.
constexpr auto kill_loop_limit = std::chrono::seconds(150);

std::vector<std::string> seed_arguments(const fs::path& cache) {
  return {"seed",     "--config", test_config.string(), "--cache", cache.string(),
          "--tileset", "communes", "--bbox", seed_bbox, "--zoom", "0-" + std::to_string(seed_maxzoom),
          "--threads", "2"};
}

// Reads every entry of the cache through tile_store::get(), which checks the
// header and the body hash, and decodes each PNG body that it has not decoded
// before (by tile and ETag). Returns the number of entries read.
std::size_t check_every_entry(const fs::path& cache, std::map<tile_triple, std::uint64_t>& decoded_etags) {
  tile_store store(tile_store_options{cache, 1 << 20, 1ull << 30});
  std::size_t entries = 0;
  store.for_each_entry("communes", [&](const tile_entry& entry) {
    ++entries;
    const std::string name = format_tile_key(entry.key);
    EXPECT_TRUE(entry.valid_header) << name;
    const auto tile = store.get(entry.key);
    ASSERT_TRUE(tile.has_value()) << name << " failed its integrity check";
    auto& etag = decoded_etags[triple_of(entry.key.tile)];
    if (etag == tile->etag) return;
    rgba_image image;
    ASSERT_NO_THROW(image = decode_image(tile->body)) << name;
    EXPECT_EQ(image.width, 256) << name;
    EXPECT_EQ(image.height, 256) << name;
    etag = tile->etag;
  });
  EXPECT_EQ(store.stats().corrupt_dropped, 0u);
  return entries;
}

TEST(SeedCrash, SigkillLeavesOnlyWholeEntries) {
  temporary_directory directory;
  const fs::path cache = directory.path() / "cache";
  const unsigned random_seed = std::random_device{}();
  SCOPED_TRACE("random seed " + std::to_string(random_seed));
  std::mt19937 random(random_seed);
  std::uniform_int_distribution<int> kill_delay_ms(50, 500);
  std::map<tile_triple, std::uint64_t> decoded_etags;

  const auto loop_started = std::chrono::steady_clock::now();
  int killed_while_running = 0;
  for (int round = 0; round < kill_rounds && std::chrono::steady_clock::now() - loop_started < kill_loop_limit;
       ++round) {
    tuilerie_process seed(seed_arguments(cache));
    const int delay = kill_delay_ms(random);
    std::this_thread::sleep_for(std::chrono::milliseconds(delay));
    seed.send(SIGKILL);
    const auto result = seed.wait();
    if (result.signal == SIGKILL) ++killed_while_running;
    SCOPED_TRACE("round " + std::to_string(round) + ", killed after " + std::to_string(delay) + " ms");
    check_every_entry(cache, decoded_etags);
    if (::testing::Test::HasFatalFailure()) return;
    // Each seed resumes where the last one stopped, so on a fast machine one may
    // finish before its kill. The cache is then complete, and later kills would
    // only hit a seed with nothing left to do.
    if (result.signal == 0) break;
  }
  EXPECT_GE(killed_while_running, 3) << "seeds must be killed while they render and store";

  const auto last = run_tuilerie(seed_arguments(cache));
  ASSERT_EQ(last.exit_status, 0) << last.out << last.err;
  const auto summary = parse_seed_summary(last.out);
  EXPECT_EQ(summary.failed, 0);
  EXPECT_EQ(summary.units_done, summary.units_total);

  const auto expected = expected_seeded_tiles(seed_area, 0, seed_maxzoom, communes_metatile);
  EXPECT_EQ(check_every_entry(cache, decoded_etags), expected.size());
}

}  // namespace
}  // namespace tuilerie::testing
