// Child processes of the tuilerie binary with both outputs read through poll(), and expected tile sets.
#include "command_runner.hpp"

#include "server_process.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <iterator>
#include <regex>
#include <stdexcept>

namespace tuilerie::testing {

namespace {

// Reads what is available on fd into output. Returns false at end of file.
bool read_available(int fd, std::string& output) {
  std::array<char, 4096> buffer;
  const auto count = read(fd, buffer.data(), buffer.size());
  if (count <= 0) return false;
  output.append(buffer.data(), static_cast<std::size_t>(count));
  return true;
}

command_result status_result(int status) {
  command_result result;
  if (WIFEXITED(status)) result.exit_status = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.signal = WTERMSIG(status);
  return result;
}

// The build's tuilerie binary followed by the arguments.
std::vector<std::string> tuilerie_command(const std::vector<std::string>& arguments) {
  std::vector<std::string> command{tuilerie_binary().string()};
  command.insert(command.end(), arguments.begin(), arguments.end());
  return command;
}

}  // namespace

child_process::child_process(const std::vector<std::string>& command) : program_(command.at(0)) {
  std::vector<std::string> arguments = command;
  std::vector<char*> argv;
  for (auto& argument : arguments) argv.push_back(argument.data());
  argv.push_back(nullptr);

  int out_pipe[2];
  int err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  if (pipe2(err_pipe, O_CLOEXEC) != 0) {
    close(out_pipe[0]);
    close(out_pipe[1]);
    throw std::runtime_error("pipe2 failed");
  }
  pid_ = fork();
  if (pid_ < 0) {
    for (const int fd : {out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]}) close(fd);
    throw std::runtime_error("fork failed");
  }
  if (pid_ == 0) {
    dup2(out_pipe[1], STDOUT_FILENO);
    dup2(err_pipe[1], STDERR_FILENO);
    execvp(argv[0], argv.data());
    _exit(127);
  }
  close(out_pipe[1]);
  close(err_pipe[1]);
  out_fd_ = out_pipe[0];
  err_fd_ = err_pipe[0];
}

tuilerie_process::tuilerie_process(const std::vector<std::string>& arguments)
    : child_process(tuilerie_command(arguments)) {}

child_process::~child_process() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  if (out_fd_ >= 0) close(out_fd_);
  if (err_fd_ >= 0) close(err_fd_);
}

void child_process::send(int signal) const {
  if (pid_ > 0) kill(pid_, signal);
}

command_result child_process::wait(std::chrono::seconds time_limit) {
  const auto deadline = std::chrono::steady_clock::now() + time_limit;
  std::string out;
  std::string err;
  bool out_open = true;
  bool err_open = true;
  while (out_open || err_open) {
    if (std::chrono::steady_clock::now() > deadline) {
      ADD_FAILURE() << program_ << " did not finish within " << time_limit.count() << " s; killed it. Output: "
                    << out << err;
      kill(pid_, SIGKILL);
      break;
    }
    std::array<pollfd, 2> descriptors{pollfd{out_open ? out_fd_ : -1, POLLIN, 0},
                                      pollfd{err_open ? err_fd_ : -1, POLLIN, 0}};
    if (poll(descriptors.data(), descriptors.size(), 200) <= 0) continue;
    if (out_open && descriptors[0].revents != 0) out_open = read_available(out_fd_, out);
    if (err_open && descriptors[1].revents != 0) err_open = read_available(err_fd_, err);
  }

  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  command_result result = status_result(status);
  result.out = std::move(out);
  result.err = std::move(err);
  return result;
}

command_result run_program(const std::vector<std::string>& command, std::chrono::seconds time_limit) {
  child_process process(command);
  return process.wait(time_limit);
}

command_result run_tuilerie(const std::vector<std::string>& arguments, std::chrono::seconds time_limit) {
  tuilerie_process process(arguments);
  return process.wait(time_limit);
}

command_result run_shell(const std::string& command) {
  FILE* pipe = popen(("timeout 120 " + command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) throw std::runtime_error("popen failed for: " + command);
  std::string output;
  std::array<char, 4096> buffer;
  while (const auto count = std::fread(buffer.data(), 1, buffer.size(), pipe)) output.append(buffer.data(), count);
  command_result result = status_result(pclose(pipe));
  result.out = std::move(output);
  return result;
}

std::set<tile_triple> expected_seeded_tiles(const bbox& area, int minzoom, int maxzoom,
                                            std::uint32_t metatile_size) {
  std::set<tile_triple> tiles;
  for (int z = minzoom; z <= maxzoom; ++z) {
    const tile_range range = tiles_covering(area, z);
    const std::uint32_t side = std::min(metatile_size, std::uint32_t{1} << z);
    const std::uint32_t first_x = range.min_x - range.min_x % side;
    const std::uint32_t last_x = range.max_x - range.max_x % side + side - 1;
    const std::uint32_t first_y = range.min_y - range.min_y % side;
    const std::uint32_t last_y = range.max_y - range.max_y % side + side - 1;
    for (std::uint32_t x = first_x; x <= last_x; ++x) {
      for (std::uint32_t y = first_y; y <= last_y; ++y) tiles.insert({z, x, y});
    }
  }
  return tiles;
}

std::set<tile_triple> tiles_at_zoom(const std::set<tile_triple>& tiles, int z) {
  std::set<tile_triple> selected;
  std::copy_if(tiles.begin(), tiles.end(), std::inserter(selected, selected.end()),
               [z](const tile_triple& tile) { return std::get<0>(tile) == z; });
  return selected;
}

seed_summary parse_seed_summary(const std::string& out) {
  seed_summary summary;
  const std::regex units(R"((\d+) of (\d+) (meta)?tiles)");
  const std::regex tiles(R"((\d+) tiles rendered, (\d+) skipped, (\d+) failed in)");
  std::smatch match;
  if (!std::regex_search(out, match, units)) {
    ADD_FAILURE() << "no 'N of M metatiles' in the seed output: " << out;
    return summary;
  }
  summary.units_done = std::stoll(match[1]);
  summary.units_total = std::stoll(match[2]);
  if (!std::regex_search(out, match, tiles)) {
    ADD_FAILURE() << "no 'tiles rendered, skipped, failed' in the seed output: " << out;
    return summary;
  }
  summary.rendered = std::stoll(match[1]);
  summary.skipped = std::stoll(match[2]);
  summary.failed = std::stoll(match[3]);
  return summary;
}

}  // namespace tuilerie::testing
