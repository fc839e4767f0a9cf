// The purge command on a seeded cache: exactly the tiles of the box and zooms disappear, in every format, and a
// new seed renders exactly the metatiles that lost tiles.
#include "command_runner.hpp"

#include "tests/tilecache/cache_test_support.hpp"
#include "tilecache/tile_store.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <iterator>
#include <regex>

namespace tuilerie::testing {
namespace {

namespace fs = std::filesystem;

const fs::path source_dir = TUILERIE_SOURCE_DIR;
const fs::path test_config = source_dir / "config" / "test.yaml";

const std::string seed_bbox = "1.80,47.80,2.20,48.00";
const bbox seed_area{1.80, 47.80, 2.20, 48.00};
constexpr std::uint32_t communes_metatile = 8;  // tilesets.communes.metatile in config/test.yaml

// Inside the seeded area, across a z12 metatile edge (longitude 2.109375).
const std::string purge_bbox = "2.05,47.88,2.15,47.93";
const bbox purge_area{2.05, 47.88, 2.15, 47.93};

command_result seed(const fs::path& cache, const std::string& format, const std::string& zoom) {
  return run_tuilerie({"seed", "--config", test_config.string(), "--cache", cache.string(), "--tileset", "communes",
                       "--bbox", seed_bbox, "--zoom", zoom, "--format", format});
}

command_result purge(const fs::path& cache, const std::vector<std::string>& options,
                     const std::string& tileset = "communes") {
  std::vector<std::string> arguments{"purge", "--config", test_config.string(), "--cache", cache.string(),
                                     "--tileset", tileset};
  arguments.insert(arguments.end(), options.begin(), options.end());
  return run_tuilerie(arguments);
}

long long purged_count(const std::string& out) {
  std::smatch match;
  if (!std::regex_search(out, match, std::regex(R"(purged (\d+) entries)"))) {
    ADD_FAILURE() << "no 'purged N entries' in: " << out;
    return -1;
  }
  return std::stoll(match[1]);
}

std::set<tile_triple> stored_tiles(const fs::path& cache, tile_format format) {
  tile_store store(tile_store_options{cache, 1 << 20, 1ull << 30});
  std::set<tile_triple> tiles;
  store.for_each_entry("communes", [&](const tile_entry& entry) {
    if (entry.key.format == format) tiles.insert(triple_of(entry.key.tile));
  });
  return tiles;
}

// The tiles that tiles_covering returns for the area at zooms minzoom to maxzoom.
std::set<tile_triple> covering_tiles(const bbox& area, int minzoom, int maxzoom) {
  std::set<tile_triple> tiles;
  for (int z = minzoom; z <= maxzoom; ++z) {
    const tile_range range = tiles_covering(area, z);
    for (auto x = range.min_x; x <= range.max_x; ++x) {
      for (auto y = range.min_y; y <= range.max_y; ++y) tiles.insert({z, x, y});
    }
  }
  return tiles;
}

std::set<tile_triple> difference(const std::set<tile_triple>& from, const std::set<tile_triple>& removed) {
  std::set<tile_triple> rest;
  std::set_difference(from.begin(), from.end(), removed.begin(), removed.end(), std::inserter(rest, rest.end()));
  return rest;
}

TEST(PurgeCommand, DeletesExactlyBoxAndZooms) {
  temporary_directory directory;
  const fs::path cache = directory.path() / "cache";
  ASSERT_EQ(seed(cache, "png", "0-12").exit_status, 0);
  const auto seeded = expected_seeded_tiles(seed_area, 0, 12, communes_metatile);
  ASSERT_EQ(stored_tiles(cache, tile_format::png), seeded);

  const auto result = purge(cache, {"--bbox", purge_bbox, "--zoom", "10-12"});
  ASSERT_EQ(result.exit_status, 0) << result.err;
  const auto purged = covering_tiles(purge_area, 10, 12);
  ASSERT_TRUE(std::includes(seeded.begin(), seeded.end(), purged.begin(), purged.end()));
  EXPECT_EQ(purged_count(result.out), static_cast<long long>(purged.size()));
  EXPECT_EQ(stored_tiles(cache, tile_format::png), difference(seeded, purged));
}

TEST(PurgeCommand, ReseedRendersPartlyPurgedMetatiles) {
  temporary_directory directory;
  const fs::path cache = directory.path() / "cache";
  ASSERT_EQ(seed(cache, "png", "0-12").exit_status, 0);
  ASSERT_EQ(purge(cache, {"--bbox", purge_bbox, "--zoom", "10-12"}).exit_status, 0);

  std::set<tile_triple> hit_metatiles;
  for (const auto& [z, x, y] : covering_tiles(purge_area, 10, 12)) {
    const metatile meta = metatile_of({z, x, y}, communes_metatile);
    hit_metatiles.insert({meta.z, meta.x, meta.y});
  }
  const long long tiles_per_metatile = communes_metatile * communes_metatile;
  const auto seeded = expected_seeded_tiles(seed_area, 0, 12, communes_metatile);

  const auto reseed = seed(cache, "png", "0-12");
  ASSERT_EQ(reseed.exit_status, 0) << reseed.err;
  const auto summary = parse_seed_summary(reseed.out);
  EXPECT_EQ(summary.rendered, static_cast<long long>(hit_metatiles.size()) * tiles_per_metatile);
  EXPECT_EQ(summary.rendered + summary.skipped, static_cast<long long>(seeded.size()));
  EXPECT_EQ(stored_tiles(cache, tile_format::png), seeded);
}

TEST(PurgeCommand, ZoomRangeCoversEveryFormat) {
  temporary_directory directory;
  const fs::path cache = directory.path() / "cache";
  ASSERT_EQ(seed(cache, "png", "0-8").exit_status, 0);
  ASSERT_EQ(seed(cache, "mvt", "0-8").exit_status, 0);
  const auto raster = expected_seeded_tiles(seed_area, 0, 8, communes_metatile);
  const auto vector = expected_seeded_tiles(seed_area, 0, 8, 1);

  const auto result = purge(cache, {"--zoom", "7-8"});
  ASSERT_EQ(result.exit_status, 0) << result.err;
  const auto raster_purged = difference(raster, expected_seeded_tiles(seed_area, 0, 6, communes_metatile));
  const auto vector_purged = difference(vector, expected_seeded_tiles(seed_area, 0, 6, 1));
  EXPECT_EQ(purged_count(result.out), static_cast<long long>(raster_purged.size() + vector_purged.size()));
  EXPECT_EQ(stored_tiles(cache, tile_format::png), difference(raster, raster_purged));
  EXPECT_EQ(stored_tiles(cache, tile_format::mvt), difference(vector, vector_purged));

  const auto everything = purge(cache, {});
  ASSERT_EQ(everything.exit_status, 0) << everything.err;
  EXPECT_TRUE(stored_tiles(cache, tile_format::png).empty());
  EXPECT_TRUE(stored_tiles(cache, tile_format::mvt).empty());
}

TEST(PurgeCommand, RejectsBadOptionsWithStatus2) {
  temporary_directory directory;
  const fs::path cache = directory.path() / "cache";
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases{
      {{"--zoom", "12-10"}, "--zoom"},
      {{"--zoom", "0-30"}, "--zoom"},
      {{"--bbox", "2.15,47.88,2.05,47.93"}, "--bbox"},
      {{"--bbox", "2.05,47.88,2.15"}, "--bbox"},
  };
  for (const auto& [options, option] : cases) {
    const auto result = purge(cache, options);
    EXPECT_EQ(result.exit_status, 2) << option << ": " << result.err;
    EXPECT_NE(result.err.find(option), std::string::npos) << result.err;
  }
  const auto bad_name = purge(cache, {}, "not a name");
  EXPECT_EQ(bad_name.exit_status, 2) << bad_name.err;
  EXPECT_NE(bad_name.err.find("--tileset"), std::string::npos) << bad_name.err;

  const auto missing = run_tuilerie({"purge", "--config", test_config.string(), "--cache", cache.string()});
  EXPECT_EQ(missing.exit_status, 2);
  EXPECT_NE((missing.out + missing.err).find("--tileset"), std::string::npos) << missing.out << missing.err;
  EXPECT_FALSE(fs::exists(cache)) << "a rejected purge must not create the cache";
}

}  // namespace
}  // namespace tuilerie::testing
