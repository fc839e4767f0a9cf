// cache stats and cache export on a cache larger than one listing transaction (4096 entries), with fresh
// and stale entries of several tilesets and formats stored directly through the tile store.
#include "command_runner.hpp"

#include "tests/tilecache/cache_test_support.hpp"
#include "tilecache/tile_store.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include <map>

namespace tuilerie::testing {
namespace {

namespace fs = std::filesystem;

const fs::path source_dir = TUILERIE_SOURCE_DIR;
const fs::path test_config = source_dir / "config" / "test.yaml";

constexpr std::uint32_t fresh_z14_tiles = 10000;
constexpr std::uint32_t stale_z13_tiles = 100;
constexpr std::uint32_t other_tileset_tiles = 50;
constexpr std::uint64_t seeded_z0_to_z2_tiles = 1 + 4 + 16;  // whole grids: a metatile covers them

// Stores `count` copies of body for tiles of one zoom and row, in batches of a
// metatile's size as the tile service stores them.
void put_tiles(tile_store& store, const tile_key& first, std::uint32_t count, const cached_tile& body) {
  std::vector<std::pair<tile_key, cached_tile>> batch;
  for (std::uint32_t i = 0; i < count; ++i) {
    tile_key key = first;
    key.tile.x += i;
    batch.emplace_back(key, body);
    if (batch.size() == 64 || i + 1 == count) {
      ASSERT_TRUE(store.put_batch(batch));
      batch.clear();
    }
  }
}

struct group_counts {
  std::uint64_t entries = 0;
  std::uint64_t fresh = 0;
  std::uint64_t stale = 0;
  friend bool operator==(const group_counts&, const group_counts&) = default;
};

std::ostream& operator<<(std::ostream& out, const group_counts& counts) {
  return out << counts.entries << " entries, " << counts.fresh << " fresh, " << counts.stale << " stale";
}

std::map<std::string, group_counts> groups_by_name(const nlohmann::json& stats) {
  std::map<std::string, group_counts> groups;
  for (const auto& group : stats.at("groups")) {
    const std::string name = group.at("tileset").get<std::string>() + "/" + group.at("format").get<std::string>() +
                             "/z" + std::to_string(group.at("zoom").get<int>());
    groups[name] = {group.at("entries").get<std::uint64_t>(), group.at("fresh").get<std::uint64_t>(),
                    group.at("stale").get<std::uint64_t>()};
  }
  return groups;
}

std::uint64_t mbtiles_tile_count(const fs::path& file) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* statement = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, "SELECT count(*) FROM tiles", -1, &statement, nullptr), SQLITE_OK);
  EXPECT_EQ(sqlite3_step(statement), SQLITE_ROW);
  const auto count = static_cast<std::uint64_t>(sqlite3_column_int64(statement, 0));
  sqlite3_finalize(statement);
  sqlite3_close(db);
  return count;
}

class LargeCache : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto seed = run_tuilerie({"seed", "--config", test_config.string(), "--cache", cache().string(),
                                    "--tileset", "communes", "--zoom", "0-2"});
    ASSERT_EQ(seed.exit_status, 0) << seed.err;

    // The seeded z0 tile gives a real PNG body and the current data version.
    tile_store store(tile_store_options{cache(), 1 << 20, 1ull << 30});
    const auto z0 = store.get(tile_key{"communes", tile_format::png, 1, {0, 0, 0}});
    ASSERT_TRUE(z0.has_value());
    cached_tile fresh = *z0;
    fresh.created_unix = 0;
    cached_tile stale = fresh;
    stale.data_version = fresh.data_version + 1;
    put_tiles(store, {"communes", tile_format::png, 1, {14, 0, 5700}}, fresh_z14_tiles, fresh);
    put_tiles(store, {"communes", tile_format::png, 1, {13, 4100, 2850}}, stale_z13_tiles, stale);
    put_tiles(store, {"air", tile_format::mvt, 1, {10, 517, 360}}, other_tileset_tiles, stale);
  }

  fs::path cache() const { return directory_.path() / "cache"; }

  temporary_directory directory_;
};

TEST_F(LargeCache, StatsCountEveryGroupExactly) {
  const auto result = run_tuilerie({"cache", "stats", "--config", test_config.string(), "--cache",
                                    cache().string(), "--json"});
  ASSERT_EQ(result.exit_status, 0) << result.err;
  const auto stats = nlohmann::json::parse(result.out);
  const std::map<std::string, group_counts> expected{
      {"air/mvt/z10", {other_tileset_tiles, 0, other_tileset_tiles}},
      {"communes/png/z0", {1, 1, 0}},
      {"communes/png/z1", {4, 4, 0}},
      {"communes/png/z2", {16, 16, 0}},
      {"communes/png/z13", {stale_z13_tiles, 0, stale_z13_tiles}},
      {"communes/png/z14", {fresh_z14_tiles, fresh_z14_tiles, 0}},
  };
  EXPECT_EQ(groups_by_name(stats), expected);
  EXPECT_EQ(stats.at("total").at("entries").get<std::uint64_t>(),
            seeded_z0_to_z2_tiles + fresh_z14_tiles + stale_z13_tiles + other_tileset_tiles);
}

TEST_F(LargeCache, ExportWritesEveryFreshTile) {
  const fs::path output = directory_.path() / "communes.mbtiles";
  const auto result = run_tuilerie({"cache", "export", "--config", test_config.string(), "--cache",
                                    cache().string(), "--tileset", "communes", "--mbtiles", output.string()});
  ASSERT_EQ(result.exit_status, 0) << result.err;
  EXPECT_NE(result.out.find("skipped " + std::to_string(stale_z13_tiles) + " stale"), std::string::npos)
      << result.out;
  EXPECT_EQ(mbtiles_tile_count(output), seeded_z0_to_z2_tiles + fresh_z14_tiles);
}

}  // namespace
}  // namespace tuilerie::testing
