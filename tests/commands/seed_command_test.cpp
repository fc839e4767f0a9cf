// The seed command as a real process on a real LMDB cache: what it renders and counts, resuming, a server
// reading the seeded cache, seeding beside a running server, and option errors.
#include "command_runner.hpp"
#include "images.hpp"
#include "server_process.hpp"

#include "tests/tilecache/cache_test_support.hpp"
#include "tilecache/tile_store.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <signal.h>

#include <algorithm>
#include <map>
#include <thread>

namespace tuilerie::testing {
namespace {

namespace fs = std::filesystem;

const fs::path source_dir = TUILERIE_SOURCE_DIR;
const fs::path test_config = source_dir / "config" / "test.yaml";

// Around Orléans, crossing metatile edges at z11 and z12 (a z12 metatile
// spans 0.7 degrees of longitude, with an edge at 2.109375).
const std::string orleans_bbox = "1.80,47.80,2.20,48.00";
const bbox orleans_area{1.80, 47.80, 2.20, 48.00};

// tilesets.communes.metatile in config/test.yaml.
constexpr std::uint32_t communes_metatile = 8;

std::vector<std::string> seed_arguments(const fs::path& cache, const std::vector<std::string>& extra = {}) {
  std::vector<std::string> arguments{"seed",      "--config", test_config.string(), "--cache", cache.string(),
                                     "--tileset", "communes", "--bbox",             orleans_bbox, "--zoom", "0-12"};
  arguments.insert(arguments.end(), extra.begin(), extra.end());
  return arguments;
}

nlohmann::json cache_stats_json(const fs::path& cache) {
  const auto result = run_tuilerie({"cache", "stats", "--config", test_config.string(), "--cache", cache.string(),
                                    "--json"});
  EXPECT_EQ(result.exit_status, 0) << result.err;
  return nlohmann::json::parse(result.out);
}

// Entries per zoom of one tileset, format and scale in `cache stats --json`.
std::map<int, std::uint64_t> entries_per_zoom(const nlohmann::json& stats, const std::string& tileset,
                                              const std::string& format) {
  std::map<int, std::uint64_t> entries;
  for (const auto& group : stats.at("groups")) {
    if (group.at("tileset") != tileset || group.at("format") != format || group.at("scale") != 1) continue;
    entries[group.at("zoom").get<int>()] = group.at("entries").get<std::uint64_t>();
  }
  return entries;
}

std::map<int, std::uint64_t> count_per_zoom(const std::set<tile_triple>& tiles) {
  std::map<int, std::uint64_t> counts;
  for (const auto& tile : tiles) ++counts[std::get<0>(tile)];
  return counts;
}

// The keys of a tileset's entries, read with the store's own listing.
std::set<tile_triple> stored_tiles(const fs::path& cache, const std::string& tileset, tile_format format) {
  tile_store store(tile_store_options{cache, 1 << 20, 1ull << 30});
  std::set<tile_triple> tiles;
  store.for_each_entry(tileset, [&](const tile_entry& entry) {
    if (entry.key.format == format && entry.key.scale == 1) tiles.insert(triple_of(entry.key.tile));
  });
  return tiles;
}

std::string tile_target(const tile_triple& tile) {
  const auto& [z, x, y] = tile;
  return "/tiles/communes/" + std::to_string(z) + "/" + std::to_string(x) + "/" + std::to_string(y) + ".png";
}

double communes_renders(const std::string& metrics_text) {
  return labelled_metric_value(metrics_text, "tuilerie_render_seconds_count", "tileset=\"communes\"");
}

// One seed of the Orléans area into a cache shared by the tests of the suite.
class SeededCache : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    directory = new temporary_directory();
    first_seed = new command_result(run_tuilerie(seed_arguments(cache())));
  }
  static void TearDownTestSuite() {
    delete first_seed;
    delete directory;
  }

  static fs::path cache() { return directory->path() / "cache"; }

  static std::set<tile_triple> expected_tiles() {
    return expected_seeded_tiles(orleans_area, 0, 12, communes_metatile);
  }

  static temporary_directory* directory;
  static command_result* first_seed;
};

temporary_directory* SeededCache::directory = nullptr;
command_result* SeededCache::first_seed = nullptr;

TEST_F(SeededCache, FirstSeedRendersEveryMetatile) {
  ASSERT_EQ(first_seed->exit_status, 0) << first_seed->out << first_seed->err;
  const auto summary = parse_seed_summary(first_seed->out);
  EXPECT_EQ(summary.rendered, static_cast<long long>(expected_tiles().size()));
  EXPECT_EQ(summary.skipped, 0);
  EXPECT_EQ(summary.failed, 0);
  EXPECT_EQ(summary.units_done, summary.units_total);
  EXPECT_NE(first_seed->out.find("seed communes png z0-12: "), std::string::npos) << first_seed->out;
}

TEST_F(SeededCache, SummaryIsOneLineWithoutTerminal) {
  ASSERT_EQ(first_seed->exit_status, 0) << first_seed->err;
  EXPECT_EQ(std::count(first_seed->out.begin(), first_seed->out.end(), '\n'), 1) << first_seed->out;
  EXPECT_EQ(first_seed->err, "") << "no progress bar or log line is written when standard error is a pipe";
}

TEST_F(SeededCache, StatsCountExactlyTheSeededTiles) {
  const auto stats = cache_stats_json(cache());
  EXPECT_EQ(entries_per_zoom(stats, "communes", "png"), count_per_zoom(expected_tiles()));
  EXPECT_EQ(stats.at("total").at("entries").get<std::uint64_t>(), expected_tiles().size());
  EXPECT_EQ(stats.at("total").at("fresh").get<std::uint64_t>(), expected_tiles().size());
  EXPECT_EQ(stats.at("total").at("stale").get<std::uint64_t>(), 0u);
}

TEST_F(SeededCache, StatsTableListsEveryZoom) {
  const auto result = run_tuilerie({"cache", "stats", "--config", test_config.string(), "--cache", cache().string()});
  ASSERT_EQ(result.exit_status, 0) << result.err;
  EXPECT_NE(result.out.find("tileset"), std::string::npos) << result.out;
  for (int z = 0; z <= 12; ++z) {
    const std::string row_start = "communes  png        1 " + std::string(z < 10 ? "   " : "  ") + std::to_string(z);
    EXPECT_NE(result.out.find(row_start), std::string::npos) << "zoom " << z << " missing from:\n" << result.out;
  }
}

TEST_F(SeededCache, StoresExactlyTheExpectedTiles) {
  ASSERT_EQ(first_seed->exit_status, 0) << first_seed->err;
  EXPECT_EQ(stored_tiles(cache(), "communes", tile_format::png), expected_tiles());
}

TEST_F(SeededCache, SecondSeedRendersNothing) {
  const auto second = run_tuilerie(seed_arguments(cache()));
  ASSERT_EQ(second.exit_status, 0) << second.err;
  const auto summary = parse_seed_summary(second.out);
  EXPECT_EQ(summary.rendered, 0);
  EXPECT_EQ(summary.skipped, static_cast<long long>(expected_tiles().size()));
  EXPECT_EQ(summary.failed, 0);
}

TEST_F(SeededCache, ServerAnswersSeededTilesFromCache) {
  server_process server(test_config, cache());
  const std::string before = server.get("/metrics").body;

  // Every tile of the area itself at z10 to z12, not only metatile corners.
  std::set<tile_triple> requested;
  for (int z = 10; z <= 12; ++z) {
    const tile_range range = tiles_covering(orleans_area, z);
    for (auto x = range.min_x; x <= range.max_x; ++x) {
      for (auto y = range.min_y; y <= range.max_y; ++y) requested.insert({z, x, y});
    }
  }
  for (const auto& tile : requested) {
    const auto reply = server.get(tile_target(tile));
    EXPECT_EQ(reply.status, 200u) << tile_target(tile);
    EXPECT_NO_THROW(decode_image(reply.body)) << tile_target(tile);
  }

  const std::string after = server.get("/metrics").body;
  EXPECT_EQ(metric_value(after, "tuilerie_cache_hits_total") - metric_value(before, "tuilerie_cache_hits_total"),
            static_cast<double>(requested.size()));
  EXPECT_EQ(metric_value(after, "tuilerie_cache_misses_total"), metric_value(before, "tuilerie_cache_misses_total"));
  EXPECT_EQ(communes_renders(after), communes_renders(before));
  EXPECT_EQ(communes_renders(after), 0);
}

TEST_F(SeededCache, ServerSendsTheSeededBytes) {
  server_process server(test_config, cache());
  const tile_range range = tiles_covering(orleans_area, 12);
  const tile_id tile{12, range.min_x, range.min_y};
  const auto reply = server.get(tile_target(triple_of(tile)));
  ASSERT_EQ(reply.status, 200u);

  tile_store store(tile_store_options{cache(), 1 << 20, 1ull << 30});
  const auto cached = store.get(tile_key{"communes", tile_format::png, 1, tile});
  ASSERT_TRUE(cached.has_value());
  EXPECT_EQ(reply.body, cached->body);
}

TEST(SeedCommand, WorksWhileServerUsesTheCache) {
  temporary_directory directory;
  const fs::path cache = directory.path() / "cache";
  server_process server(test_config, cache);
  const auto expected = expected_seeded_tiles(orleans_area, 0, 12, communes_metatile);

  // Tiles of the seeded metatiles at z8 to z12, requested from the server while
  // the seed renders the same metatiles.
  std::vector<tile_triple> requests;
  for (const auto& tile : expected) {
    if (std::get<0>(tile) >= 8 && std::get<1>(tile) % 3 == 0 && std::get<2>(tile) % 3 == 0) requests.push_back(tile);
  }
  ASSERT_GT(requests.size(), 10u);

  tuilerie_process seed(seed_arguments(cache));
  std::map<unsigned, int> statuses;
  for (const auto& tile : requests) ++statuses[server.get(tile_target(tile)).status];
  const auto result = seed.wait();

  ASSERT_EQ(result.exit_status, 0) << result.out << result.err;
  EXPECT_EQ(result.err, "") << "the seed logged a warning or an error";
  const auto summary = parse_seed_summary(result.out);
  EXPECT_EQ(summary.failed, 0);
  EXPECT_EQ(summary.rendered + summary.skipped, static_cast<long long>(expected.size()));
  EXPECT_EQ(statuses, (std::map<unsigned, int>{{200u, static_cast<int>(requests.size())}}));

  const std::string metrics = server.get("/metrics").body;
  EXPECT_EQ(metric_value(metrics, "tuilerie_render_failures_total"), 0);
  EXPECT_EQ(metric_value(metrics, "tuilerie_cache_write_failures_total"), 0);
  EXPECT_EQ(entries_per_zoom(cache_stats_json(cache), "communes", "png"), count_per_zoom(expected));

  const auto again = run_tuilerie(seed_arguments(cache));
  ASSERT_EQ(again.exit_status, 0) << again.err;
  EXPECT_EQ(parse_seed_summary(again.out).rendered, 0);
}

TEST(SeedCommand, SigtermStopsAndSaysHowFarItGot) {
  temporary_directory directory;
  const fs::path cache = directory.path() / "cache";
  // The whole Loiret at z0-16 takes minutes even on a fast machine, so the signal lands mid-way.
  tuilerie_process seed({"seed", "--config", test_config.string(), "--cache", cache.string(), "--tileset",
                         "communes", "--zoom", "0-16", "--log-level", "info"});
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  seed.send(SIGTERM);
  const auto result = seed.wait();

  EXPECT_EQ(result.exit_status, 128 + SIGTERM) << result.out << result.err;
  EXPECT_NE(result.out.find("interrupted by SIGTERM after"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("run the same command to resume"), std::string::npos) << result.out;
  const auto summary = parse_seed_summary(result.out);
  EXPECT_LT(summary.units_done, summary.units_total);
  EXPECT_GT(summary.rendered, 0);

  // The renders in flight at the signal were stored, not lost: the cache
  // contains exactly the tiles that the summary counts as rendered.
  EXPECT_EQ(static_cast<long long>(stored_tiles(cache, "communes", tile_format::png).size()), summary.rendered);
}

struct bad_option_case {
  std::vector<std::string> arguments;  // after --config and --cache
  std::string option;                  // named in the message
};

TEST(SeedCommand, RejectsBadOptionsWithStatus2) {
  temporary_directory directory;
  const fs::path cache = directory.path() / "cache";
  const std::vector<bad_option_case> cases{
      {{"--tileset", "nowhere", "--zoom", "0-3"}, "--tileset"},
      {{"--tileset", "relief", "--zoom", "5-6", "--format", "mvt"}, "--format"},
      {{"--tileset", "communes", "--zoom", "0-3", "--format", "jpeg"}, "--format"},
      {{"--tileset", "communes", "--zoom", "0-3", "--bbox", "1.8,47.8,2.2"}, "--bbox"},
      {{"--tileset", "communes", "--zoom", "0-3", "--bbox", "1.8,47.8,2.2,48,3"}, "--bbox"},
      {{"--tileset", "communes", "--zoom", "0-3", "--bbox", "2.2,47.8,1.8,48.0"}, "--bbox"},
      {{"--tileset", "communes", "--zoom", "0-3", "--bbox", "1.8,48.0,2.2,48.0"}, "--bbox"},
      {{"--tileset", "communes", "--zoom", "0-3", "--bbox", "1.8,47.8,2.2,91"}, "--bbox"},
      {{"--tileset", "communes", "--zoom", "0-3", "--bbox", "-181,47.8,2.2,48"}, "--bbox"},
      {{"--tileset", "communes", "--zoom", "0-3", "--bbox", "a,47.8,2.2,48"}, "--bbox"},
      {{"--tileset", "communes", "--zoom", "5-3"}, "--zoom"},
      {{"--tileset", "communes", "--zoom", "0-25"}, "--zoom"},
      {{"--tileset", "communes", "--zoom", "-1"}, "--zoom"},
      {{"--tileset", "communes", "--zoom", "20-24"}, "--zoom"},
      {{"--tileset", "communes", "--zoom", "zero"}, "--zoom"},
      {{"--tileset", "communes"}, "--zoom"},
      {{"--tileset", "communes", "--zoom", "1", "--scale", "3"}, "--scale"},
      {{"--tileset", "communes", "--zoom", "1", "--format", "mvt", "--scale", "2"}, "--scale"},
      {{"--tileset", "communes", "--zoom", "1", "--threads", "0"}, "--threads"},
  };
  for (const auto& bad : cases) {
    std::vector<std::string> arguments{"seed", "--config", test_config.string(), "--cache", cache.string()};
    arguments.insert(arguments.end(), bad.arguments.begin(), bad.arguments.end());
    const auto result = run_tuilerie(arguments);
    std::string command;
    for (const auto& argument : bad.arguments) command += argument + " ";
    EXPECT_EQ(result.exit_status, 2) << command << "\n" << result.err;
    EXPECT_NE(result.err.find(bad.option), std::string::npos) << command << "\n" << result.err;
    EXPECT_EQ(result.out, "") << command;
  }
  EXPECT_FALSE(fs::exists(cache)) << "a rejected seed must not create the cache";
}

}  // namespace
}  // namespace tuilerie::testing
