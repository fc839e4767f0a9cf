// Reads the test database's env file, and runs psql as a child process with both outputs read through poll().
#include "postgis_support.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdlib>
#include <fstream>
#include <map>
#include <stdexcept>
#include <vector>

namespace tuilerie::testing {

namespace {

// Maximum time of one psql call, in seconds. `timeout` ends psql after it.
constexpr const char* psql_time_limit_seconds = "60";

struct program_output {
  int exit_status = -1;  // -1 when ended by a signal
  std::string out;
  std::string err;
};

// Reads what is available on fd into output. Returns false at end of file.
bool read_available(int fd, std::string& output) {
  std::array<char, 4096> buffer;
  const auto count = read(fd, buffer.data(), buffer.size());
  if (count <= 0) return false;
  output.append(buffer.data(), static_cast<std::size_t>(count));
  return true;
}

// Runs a program found on PATH with the arguments, without a shell, and collects both outputs.
program_output run_program(std::vector<std::string> arguments) {
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
  const pid_t pid = fork();
  if (pid < 0) {
    for (const int fd : {out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]}) close(fd);
    throw std::runtime_error("fork failed");
  }
  if (pid == 0) {
    dup2(out_pipe[1], STDOUT_FILENO);
    dup2(err_pipe[1], STDERR_FILENO);
    execvp(argv[0], argv.data());
    _exit(127);
  }
  close(out_pipe[1]);
  close(err_pipe[1]);

  program_output output;
  std::array<pollfd, 2> descriptors{pollfd{out_pipe[0], POLLIN, 0}, pollfd{err_pipe[0], POLLIN, 0}};
  bool out_open = true;
  bool err_open = true;
  while (out_open || err_open) {
    descriptors[0].fd = out_open ? out_pipe[0] : -1;
    descriptors[1].fd = err_open ? err_pipe[0] : -1;
    if (poll(descriptors.data(), descriptors.size(), -1) < 0) continue;
    if (out_open && descriptors[0].revents != 0) out_open = read_available(out_pipe[0], output.out);
    if (err_open && descriptors[1].revents != 0) err_open = read_available(err_pipe[0], output.err);
  }
  close(out_pipe[0]);
  close(err_pipe[0]);

  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFEXITED(status)) output.exit_status = WEXITSTATUS(status);
  return output;
}

std::map<std::string, std::string> read_key_values(const std::filesystem::path& file) {
  std::ifstream input(file);
  if (!input) {
    throw std::runtime_error(file.string() +
                             " not found: run this test through ctest, whose fixture `postgis` "
                             "starts the database, or run scripts/test-postgres.sh start " +
                             file.parent_path().string() + " first");
  }
  std::map<std::string, std::string> values;
  std::string line;
  while (std::getline(input, line)) {
    const auto equals = line.find('=');
    if (line.empty() || line.front() == '#' || equals == std::string::npos) continue;
    values[line.substr(0, equals)] = line.substr(equals + 1);
  }
  return values;
}

const std::string& required_value(const std::map<std::string, std::string>& values, const std::string& key,
                                  const std::filesystem::path& file) {
  const auto found = values.find(key);
  if (found == values.end() || found->second.empty()) {
    throw std::runtime_error(file.string() + ": " + key +
                             " is missing; start the database again with "
                             "scripts/test-postgres.sh start " +
                             file.parent_path().string());
  }
  return found->second;
}

}  // namespace

std::filesystem::path test_database_directory() { return TUILERIE_POSTGIS_DIR; }

test_database read_test_database(const std::filesystem::path& directory) {
  const auto file = directory / "env";
  const auto values = read_key_values(file);
  test_database database;
  database.host = required_value(values, "PGHOST", file);
  const std::string& port = required_value(values, "PGPORT", file);
  try {
    database.port = std::stoi(port);
  } catch (const std::logic_error&) {
    throw std::runtime_error(file.string() + ": PGPORT must be a port number, got '" + port + "'");
  }
  database.user = required_value(values, "PGUSER", file);
  database.database = required_value(values, "PGDATABASE", file);
  return database;
}

std::string run_sql(const test_database& database, const std::string& sql) {
  const auto result = run_program({"timeout", psql_time_limit_seconds, "psql", "--no-psqlrc", "--no-align",
                                   "--tuples-only", "--quiet", "--set", "ON_ERROR_STOP=1", "--host",
                                   database.host, "--port", std::to_string(database.port), "--username",
                                   database.user, "--dbname", database.database, "--command", sql});
  if (result.exit_status == 124) {
    throw std::runtime_error("psql timed out after " + std::string(psql_time_limit_seconds) +
                             " s on: " + sql);
  }
  if (result.exit_status != 0) {
    throw std::runtime_error("psql failed with status " + std::to_string(result.exit_status) + " on: " + sql +
                             "\n" + result.err);
  }
  return result.out;
}

std::string connection_info(const test_database& database) {
  return "host=" + database.host + " port=" + std::to_string(database.port) + " user=" + database.user +
         " dbname=" + database.database;
}

std::string gdal_connection_string(const test_database& database) {
  return "PG:" + connection_info(database);
}

void export_test_database(const test_database& database) {
  setenv("PGHOST", database.host.c_str(), 1);
  setenv("PGPORT", std::to_string(database.port).c_str(), 1);
  setenv("PGUSER", database.user.c_str(), 1);
  setenv("PGDATABASE", database.database.c_str(), 1);
}

}  // namespace tuilerie::testing
