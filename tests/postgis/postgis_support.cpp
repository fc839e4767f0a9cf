// Reads the test database's env file, and runs psql as a child process.
#include "postgis_support.hpp"

#include "command_runner.hpp"

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <stdexcept>
#include <vector>

namespace tuilerie::testing {

namespace {

// Maximum time of one psql call.
constexpr std::chrono::seconds psql_time_limit{60};

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
  const auto result = run_program({"psql", "--no-psqlrc", "--no-align", "--tuples-only", "--quiet", "--set",
                                   "ON_ERROR_STOP=1", "--host", database.host, "--port",
                                   std::to_string(database.port), "--username", database.user, "--dbname",
                                   database.database, "--command", sql},
                                  psql_time_limit);
  if (result.signal != 0) {
    throw std::runtime_error("psql timed out after " + std::to_string(psql_time_limit.count()) + " s on: " + sql);
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
