// Which libpq errors is_lost_connection takes for a connection that the server ended, checked on the
// messages that a real PostgreSQL and libpq give. A lost connection makes the renderer try again on
// another one. A query error must not, because a slow query would then run once per pooled connection.
#include "postgis_support.hpp"
#include "server/postgis.hpp"

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <memory>
#include <string>

namespace tuilerie::testing {
namespace {

using connection_ptr = std::unique_ptr<PGconn, decltype(&PQfinish)>;

connection_ptr connect(const test_database& database) {
  connection_ptr connection(PQconnectdb(connection_info(database).c_str()), &PQfinish);
  if (PQstatus(connection.get()) != CONNECTION_OK) {
    ADD_FAILURE() << "cannot connect: " << PQerrorMessage(connection.get());
  }
  return connection;
}

// Runs the statement, which the test expects to fail, and returns libpq's message.
std::string error_of(PGconn* connection, const std::string& sql) {
  std::unique_ptr<PGresult, decltype(&PQclear)> result(PQexec(connection, sql.c_str()), &PQclear);
  const ExecStatusType status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
  EXPECT_TRUE(status == PGRES_FATAL_ERROR || status == PGRES_BAD_RESPONSE) << sql << " succeeded";
  return PQerrorMessage(connection);
}

TEST(LostConnection, TerminatedBackend) {
  const auto database = read_test_database();
  const auto connection = connect(database);
  run_sql(database, "SELECT pg_terminate_backend(" + std::to_string(PQbackendPID(connection.get())) + ")");
  const std::string first = error_of(connection.get(), "SELECT 1");
  EXPECT_TRUE(is_lost_connection(first)) << first;
  const std::string second = error_of(connection.get(), "SELECT 1");
  EXPECT_TRUE(is_lost_connection(second)) << second;
}

TEST(LostConnection, NotForStatementTimeout) {
  const auto connection = connect(read_test_database());
  const std::string message = error_of(connection.get(), "SET statement_timeout = 50; SELECT pg_sleep(5)");
  EXPECT_NE(message.find("statement timeout"), std::string::npos) << message;
  EXPECT_FALSE(is_lost_connection(message)) << message;
}

TEST(LostConnection, NotForSqlError) {
  const auto connection = connect(read_test_database());
  const std::string message = error_of(connection.get(), "SELECT * FROM flood.no_such_table");
  EXPECT_FALSE(is_lost_connection(message)) << message;
}

}  // namespace
}  // namespace tuilerie::testing
