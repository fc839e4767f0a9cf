// A runner with a time limit for the Node.js scripts and other commands of the tests.
#include "node_command.hpp"

#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <stdexcept>
#include <sys/wait.h>
#include <unistd.h>

namespace tuilerie::testing {

command_result run_command(const std::string& command, int timeout_seconds) {
  const std::string bounded = "timeout " + std::to_string(timeout_seconds) + " " + command;
  FILE* output = ::popen(bounded.c_str(), "r");
  if (!output) throw std::runtime_error("cannot start a shell for: " + bounded);
  command_result result;
  char buffer[4096];
  for (std::size_t read = 0; (read = std::fread(buffer, 1, sizeof buffer, output)) > 0;) {
    result.output.append(buffer, read);
  }
  const int status = ::pclose(output);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

std::filesystem::path find_in_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::stringstream directories(path ? path : "");
  std::string directory;
  while (std::getline(directories, directory, ':')) {
    const auto candidate = std::filesystem::path(directory) / program;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return {};
}

std::string quoted(const std::filesystem::path& path) {
  if (path.string().find('\'') != std::string::npos) {
    throw std::invalid_argument("cannot quote a path with a single quote for the shell: " + path.string());
  }
  // Appended piece by piece: "'" + std::string draws a false -Wrestrict warning from GCC 12.
  std::string text(1, '\'');
  text += path.string();
  text += '\'';
  return text;
}

}  // namespace tuilerie::testing
