// Access to the test PostgreSQL that scripts/test-postgres.sh starts for the CTest fixture `postgis`:
// its connection settings, SQL through psql, and connection strings for libpq and GDAL.
#pragma once

#include <filesystem>
#include <string>

namespace tuilerie::testing {

// The connection settings of the test database, as written to DIR/env by scripts/test-postgres.sh.
struct test_database {
  std::string host;      // PGHOST: 127.0.0.1
  int port = 0;          // PGPORT
  std::string user;      // PGUSER: postgres, trusted without a password
  std::string database;  // PGDATABASE: tuilerie
};

// The directory of the test cluster: TUILERIE_POSTGIS_DIR, set by tests/postgis/CMakeLists.txt.
std::filesystem::path test_database_directory();

// Reads DIR/env (KEY=value lines). Throws std::runtime_error naming the file and the fix when it is
// missing, which happens when a test runs outside ctest's `postgis` fixture, or when a key is missing.
test_database read_test_database(const std::filesystem::path& directory = test_database_directory());

// Runs one SQL string (several statements allowed) with psql and returns its standard output: unaligned,
// tuples only, so "SELECT 1, 'a'" gives "1|a\n". psql stops at the first error (ON_ERROR_STOP) and runs
// under `timeout` for at most 60 s. Throws std::runtime_error with psql's message on any failure.
std::string run_sql(const test_database& database, const std::string& sql);

// The libpq connection string, for example "host=127.0.0.1 port=54321 user=postgres dbname=tuilerie".
std::string connection_info(const test_database& database);

// The connection string of GDAL's PostgreSQL driver: "PG:" followed by connection_info.
std::string gdal_connection_string(const test_database& database);

// Sets PGHOST, PGPORT, PGUSER and PGDATABASE in this process's environment, so that the tuilerie
// processes a test starts afterwards reach the test database through libpq's defaults.
void export_test_database(const test_database& database);

}  // namespace tuilerie::testing
