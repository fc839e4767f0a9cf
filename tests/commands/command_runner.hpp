// Runs the tuilerie binary's commands as child processes for the command tests, and the tile sets they expect.
#pragma once

#include "render/tile_grid.hpp"

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <set>
#include <string>
#include <tuple>
#include <vector>

namespace tuilerie::testing {

struct command_result {
  int exit_status = -1;  // -1 when killed by a signal
  int signal = 0;        // the signal that ended the process, or 0
  std::string out;       // standard output
  std::string err;       // standard error
};

// A running child process whose standard output and error go to pipes.
class child_process {
 public:
  // Starts command[0], a path or a program found on PATH, with the rest as
  // its arguments, without a shell.
  explicit child_process(const std::vector<std::string>& command);
  ~child_process();
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  pid_t pid() const { return pid_; }

  // Sends a signal to the process.
  void send(int signal) const;

  // Reads both outputs until the process ends and returns them with its
  // status. A process still running after time_limit is killed with SIGKILL
  // and the test fails.
  command_result wait(std::chrono::seconds time_limit = std::chrono::seconds(120));

 private:
  std::string program_;
  pid_t pid_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
};

// A running process of the build's tuilerie binary.
class tuilerie_process : public child_process {
 public:
  // Starts the binary with the arguments (without argv[0]).
  explicit tuilerie_process(const std::vector<std::string>& arguments);
};

// Runs command[0] (a path or a program found on PATH) with the rest as its
// arguments, without a shell, and waits for it.
command_result run_program(const std::vector<std::string>& command,
                           std::chrono::seconds time_limit = std::chrono::seconds(120));

// Runs tuilerie with the arguments and waits for it.
command_result run_tuilerie(const std::vector<std::string>& arguments,
                            std::chrono::seconds time_limit = std::chrono::seconds(120));

// Runs a shell command (GDAL's and SQLite's tools) under a time limit of
// 120 s and returns its exit status and its output, standard error included.
command_result run_shell(const std::string& command);

// A tile as z, x, y, ordered so that sets of tiles compare and print simply.
using tile_triple = std::tuple<int, std::uint32_t, std::uint32_t>;

inline tile_triple triple_of(const tile_id& tile) { return {tile.z, tile.x, tile.y}; }

// The tiles that a seed of the area stores: at each zoom, the tiles that
// tiles_covering returns, rounded out to whole metatiles of metatile_size
// tiles per side (all of the grid where it is smaller than one metatile).
std::set<tile_triple> expected_seeded_tiles(const bbox& area, int minzoom, int maxzoom,
                                            std::uint32_t metatile_size);

// The tiles of a set at one zoom.
std::set<tile_triple> tiles_at_zoom(const std::set<tile_triple>& tiles, int z);

// The numbers of a seed summary line ("... 661 tiles rendered, 0 skipped,
// 0 failed in ..."). Fails the test and returns -1s when the line does not
// match.
struct seed_summary {
  long long units_done = -1;
  long long units_total = -1;
  long long rendered = -1;
  long long skipped = -1;
  long long failed = -1;
};
seed_summary parse_seed_summary(const std::string& out);

}  // namespace tuilerie::testing
