// Two processes sharing one LMDB environment, one of them growing the map.
#include "tilecache/tile_store.hpp"

#include "tests/tilecache/cache_test_support.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace tuilerie {
namespace {

using testing::make_body;
using testing::temporary_directory;

// A helper run that takes longer than this has hung; it is killed.
constexpr auto helper_time_limit = std::chrono::seconds(60);

constexpr std::size_t body_bytes = 16 * 1024;

// Runs tile_store_helper with the arguments and returns its exit status, or
// -1 if it was killed by a signal or timed out.
int run_helper(const std::vector<std::string>& arguments) {
  std::vector<std::string> command = {TUILERIE_TILE_STORE_HELPER};
  command.insert(command.end(), arguments.begin(), arguments.end());
  std::vector<char*> argv;
  for (auto& argument : command) argv.push_back(argument.data());
  argv.push_back(nullptr);

  const pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    execv(argv[0], argv.data());
    _exit(127);
  }

  const auto deadline = std::chrono::steady_clock::now() + helper_time_limit;
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      ADD_FAILURE() << "tile_store_helper timed out after " << helper_time_limit.count() << " s";
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

tile_key key_at(std::uint32_t x) { return tile_key{"flood", tile_format::png, 1, {14, x, 5700}}; }

void put_tiles(tile_store& store, std::uint32_t first_x, std::uint32_t count) {
  for (std::uint32_t x = first_x; x < first_x + count; ++x) {
    cached_tile tile;
    tile.body = make_body(key_at(x).tile, 1, body_bytes);
    tile.data_version = 1;
    ASSERT_TRUE(store.put_batch({{key_at(x), tile}})) << "x=" << x;
  }
}

TEST(TileStoreProcesses, SecondProcessSharesEntriesAndMapGrowth) {
  temporary_directory directory;
  const auto path = directory.path() / "cache";
  tile_store store(tile_store_options{path, 256 * 1024, 64 << 20});
  const auto initial_map_size = store.stats().map_size_bytes;

  // The child reads what this process stored.
  put_tiles(store, 8000, 4);
  EXPECT_EQ(run_helper({path.string(), "check", "flood", "8000", "4", std::to_string(body_bytes)}), 0);

  // The child stores 4 MiB, growing the map far beyond this process's map.
  ASSERT_EQ(run_helper({path.string(), "put", "flood", "9000", "256", std::to_string(body_bytes)}), 0);

  // This process must adopt the larger map (MDB_MAP_RESIZED) to read them.
  for (std::uint32_t x = 9000; x < 9000 + 256; ++x) {
    const auto tile = store.get(key_at(x));
    ASSERT_TRUE(tile.has_value()) << "x=" << x;
    ASSERT_EQ(tile->body, make_body(key_at(x).tile, 1, body_bytes)) << "x=" << x;
  }
  EXPECT_GT(store.stats().map_size_bytes, initial_map_size);
  EXPECT_EQ(store.stats().entries, 4u + 256u);

  // Writing after the other process's growth works too, and the child reads the result.
  put_tiles(store, 10000, 64);
  EXPECT_EQ(run_helper({path.string(), "check", "flood", "10000", "64", std::to_string(body_bytes)}), 0);
  EXPECT_EQ(run_helper({path.string(), "check", "flood", "9000", "256", std::to_string(body_bytes)}), 0);

  // A tile that no process stored is absent in the child too.
  EXPECT_EQ(run_helper({path.string(), "check", "flood", "12000", "1", std::to_string(body_bytes)}), 1);
  EXPECT_EQ(store.stats().write_failures, 0u);
}

}  // namespace
}  // namespace tuilerie
