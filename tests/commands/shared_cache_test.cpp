// Two `tuilerie serve` processes and one `tuilerie seed` on one LMDB cache at the same time: no errors, the
// seeded tiles are cache hits on both servers with the same bytes and ETag, and no entry is damaged.
#include "command_runner.hpp"
#include "images.hpp"
#include "server_process.hpp"

#include "tests/tilecache/cache_test_support.hpp"
#include "tilecache/tile_store.hpp"

#include <gtest/gtest.h>
#include <xxhash.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <map>
#include <thread>

namespace tuilerie::testing {
namespace {

namespace fs = std::filesystem;

const fs::path test_config = fs::path(TUILERIE_SOURCE_DIR) / "config" / "test.yaml";

// Around Orléans, crossing metatile edges at z11 and z12.
const std::string orleans_bbox = "1.80,47.80,2.20,48.00";
const bbox orleans_area{1.80, 47.80, 2.20, 48.00};
constexpr int seed_minzoom = 0;
constexpr int seed_maxzoom = 12;

// tilesets.communes.metatile in config/test.yaml.
constexpr std::uint32_t communes_metatile = 8;

// Bounds on the requests sent while the seed runs: passes over the tile list, and time.
constexpr int max_passes_during_seed = 20;
constexpr auto max_time_during_seed = std::chrono::seconds(120);

std::string tile_target(const tile_triple& tile) {
  const auto& [z, x, y] = tile;
  return "/tiles/communes/" + std::to_string(z) + "/" + std::to_string(x) + "/" + std::to_string(y) + ".png";
}

// The strong ETag the server sends for a PNG tile: the XXH3 64-bit hash of the body, in 16 hex digits.
std::string expected_etag(const std::string& body) {
  const std::uint64_t hash = XXH3_64bits(body.data(), body.size());
  char text[19];  // two quotes, 16 digits and the terminating NUL
  std::snprintf(text, sizeof text, "\"%016" PRIx64 "\"", hash);
  return text;
}

double communes_renders(const std::string& metrics_text) {
  return labelled_metric_value(metrics_text, "tuilerie_render_seconds_count", "tileset=\"communes\"");
}

// The counters of one server that a shared cache could make go wrong.
struct server_counters {
  double hits = 0;
  double misses = 0;
  double renders = 0;
  double render_failures = 0;
  double read_failures = 0;
  double write_failures = 0;
};

server_counters read_counters(const server_process& server) {
  const std::string text = server.get("/metrics").body;
  return server_counters{metric_value(text, "tuilerie_cache_hits_total"),
                         metric_value(text, "tuilerie_cache_misses_total"),
                         communes_renders(text),
                         metric_value(text, "tuilerie_render_failures_total"),
                         metric_value(text, "tuilerie_cache_read_failures_total"),
                         metric_value(text, "tuilerie_cache_write_failures_total")};
}

// Tiles of the seeded area at z8 to z11, every other column and row, which the servers are asked for
// while the seed runs, so that all three processes read and write the same keys.
std::vector<tile_triple> tiles_requested_during_seed(const std::set<tile_triple>& seeded) {
  std::vector<tile_triple> tiles;
  for (const auto& tile : seeded) {
    const auto& [z, x, y] = tile;
    if (z >= 8 && z <= 11 && x % 2 == 0 && y % 2 == 0) tiles.push_back(tile);
  }
  return tiles;
}

// Every tile of the area itself at the seed's highest zoom. No server is asked for them before the seed
// ends, so the seed alone renders and stores them.
std::vector<tile_triple> tiles_only_the_seed_renders() {
  std::vector<tile_triple> tiles;
  const tile_range range = tiles_covering(orleans_area, seed_maxzoom);
  for (auto x = range.min_x; x <= range.max_x; ++x) {
    for (auto y = range.min_y; y <= range.max_y; ++y) tiles.push_back({seed_maxzoom, x, y});
  }
  return tiles;
}

// Requests the tiles from one server, pass after pass, until `stop` is set, and counts the statuses.
std::map<unsigned, int> request_until(const server_process& server, const std::vector<tile_triple>& tiles,
                                      const std::atomic<bool>& stop) {
  std::map<unsigned, int> statuses;
  const auto deadline = std::chrono::steady_clock::now() + max_time_during_seed;
  for (int pass = 0; pass < max_passes_during_seed && !stop && std::chrono::steady_clock::now() < deadline;
       ++pass) {
    for (const auto& tile : tiles) ++statuses[server.get(tile_target(tile)).status];
  }
  return statuses;
}

nlohmann::json cache_stats_json(const fs::path& cache) {
  const auto result =
      run_tuilerie({"cache", "stats", "--config", test_config.string(), "--cache", cache.string(), "--json"});
  EXPECT_EQ(result.exit_status, 0) << result.err;
  return nlohmann::json::parse(result.out);
}

TEST(SharedCache, TwoServersAndSeedShareOneCache) {
  temporary_directory directory;
  const fs::path cache = directory.path() / "cache";
  const auto seeded = expected_seeded_tiles(orleans_area, seed_minzoom, seed_maxzoom, communes_metatile);
  const auto requested_during_seed = tiles_requested_during_seed(seeded);
  ASSERT_GT(requested_during_seed.size(), 10u);

  server_process first(test_config, cache);
  server_process second(test_config, cache);

  // The seed and both servers at once: each server is asked for the same tiles in its own thread.
  tuilerie_process seed({"seed", "--config", test_config.string(), "--cache", cache.string(), "--tileset",
                         "communes", "--bbox", orleans_bbox, "--zoom",
                         std::to_string(seed_minzoom) + "-" + std::to_string(seed_maxzoom)});
  std::atomic<bool> seed_done{false};
  std::map<unsigned, int> first_statuses;
  std::map<unsigned, int> second_statuses;
  std::thread first_client([&] { first_statuses = request_until(first, requested_during_seed, seed_done); });
  std::thread second_client(
      [&] { second_statuses = request_until(second, requested_during_seed, seed_done); });
  const auto seed_result = seed.wait();
  seed_done = true;
  first_client.join();
  second_client.join();

  ASSERT_EQ(seed_result.exit_status, 0) << seed_result.out << seed_result.err;
  EXPECT_EQ(seed_result.err, "") << "the seed logged a warning or an error";
  const auto summary = parse_seed_summary(seed_result.out);
  EXPECT_EQ(summary.failed, 0);
  EXPECT_EQ(summary.rendered + summary.skipped, static_cast<long long>(seeded.size()));
  EXPECT_GT(summary.rendered, 0);
  for (const auto* statuses : {&first_statuses, &second_statuses}) {
    ASSERT_FALSE(statuses->empty());
    EXPECT_EQ(statuses->size(), 1u) << "every tile request during the seed should be 200";
    EXPECT_EQ(statuses->begin()->first, 200u);
  }

  // After the seed: the tiles that only the seed rendered, from both servers, as cache hits.
  const auto seed_only = tiles_only_the_seed_renders();
  const server_counters first_before = read_counters(first);
  const server_counters second_before = read_counters(second);
  // The servers' first requests come before the seed has loaded its style, so they render and store
  // metatiles while the seed stores its own: three writers on one cache, which is the case under test.
  EXPECT_GT(first_before.renders + second_before.renders, 0) << "no server rendered while the seed ran";
  std::map<tile_triple, http_reply> first_replies;
  std::map<tile_triple, http_reply> second_replies;
  for (const auto& tile : seed_only) {
    first_replies[tile] = first.get(tile_target(tile));
    second_replies[tile] = second.get(tile_target(tile));
  }
  const server_counters first_after = read_counters(first);
  const server_counters second_after = read_counters(second);

  for (const auto& [before, after] :
       {std::pair{first_before, first_after}, std::pair{second_before, second_after}}) {
    EXPECT_EQ(after.hits - before.hits, static_cast<double>(seed_only.size()));
    EXPECT_EQ(after.misses, before.misses);
    EXPECT_EQ(after.renders, before.renders) << "a server rendered a tile that the seed had stored";
    EXPECT_EQ(after.render_failures, 0);
    EXPECT_EQ(after.read_failures, 0);
    EXPECT_EQ(after.write_failures, 0);
  }

  tile_store store(tile_store_options{cache, 1 << 20, 1ull << 30});
  for (const auto& tile : seed_only) {
    const http_reply& from_first = first_replies[tile];
    const http_reply& from_second = second_replies[tile];
    ASSERT_EQ(from_first.status, 200u) << tile_target(tile);
    ASSERT_EQ(from_second.status, 200u) << tile_target(tile);
    EXPECT_EQ(from_first.body, from_second.body) << tile_target(tile);
    EXPECT_EQ(from_first.header("etag"), from_second.header("etag")) << tile_target(tile);
    EXPECT_EQ(from_first.header("etag"), expected_etag(from_first.body)) << tile_target(tile);
    EXPECT_EQ(from_first.header("last-modified"), from_second.header("last-modified")) << tile_target(tile);
    EXPECT_NO_THROW(decode_image(from_first.body)) << tile_target(tile);

    const auto& [z, x, y] = tile;
    const auto stored = store.get(tile_key{"communes", tile_format::png, 1, tile_id{z, x, y}});
    ASSERT_TRUE(stored.has_value()) << tile_target(tile);
    EXPECT_EQ(from_first.body, stored->body) << tile_target(tile);
  }

  EXPECT_TRUE(first.alive());
  EXPECT_TRUE(second.alive());
  EXPECT_EQ(first.stop(), 0);
  EXPECT_EQ(second.stop(), 0);

  // Damaged entries count as stale in `cache stats`, so every entry fresh means none is damaged.
  const auto stats = cache_stats_json(cache);
  EXPECT_EQ(stats.at("total").at("entries").get<std::uint64_t>(), seeded.size());
  EXPECT_EQ(stats.at("total").at("fresh").get<std::uint64_t>(), seeded.size());
  EXPECT_EQ(stats.at("total").at("stale").get<std::uint64_t>(), 0u);
}

}  // namespace
}  // namespace tuilerie::testing
