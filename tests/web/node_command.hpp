// A runner with a time limit for the Node.js scripts and other commands of the tests.
#pragma once

#include <filesystem>
#include <string>

namespace tuilerie::testing {

struct command_result {
  int exit_code = -1;  // -1 when the command did not exit normally
  std::string output;  // standard output; standard error goes to the test's own
};

// Runs a shell command through timeout(1), so that a hung child cannot stall the suite; a command
// that times out exits with 124. Throws std::runtime_error when no shell can be started.
command_result run_command(const std::string& command, int timeout_seconds);

// Returns the first executable named program in $PATH, or an empty path.
std::filesystem::path find_in_path(const std::string& program);

// Returns the path between single quotes, for a shell command. Throws std::invalid_argument when the
// path contains a single quote.
std::string quoted(const std::filesystem::path& path);

}  // namespace tuilerie::testing
