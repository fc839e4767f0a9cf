// A GoogleTest fixture whose tests share one server started from
// config/test.yaml for the whole suite.
#pragma once

#include "server_process.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>

namespace tuilerie::testing {

inline std::filesystem::path test_config_file() {
  return std::filesystem::path(TUILERIE_SOURCE_DIR) / "config" / "test.yaml";
}

class shared_server_test : public ::testing::Test {
 protected:
  // A server that does not start fails every test of the suite with the reason, rather than
  // crashing on a null server or passing unseen.
  static void SetUpTestSuite() {
    try {
      server = std::make_unique<server_process>(test_config_file());
    } catch (const std::exception& error) {
      start_error = error.what();
    }
  }
  static void TearDownTestSuite() { server.reset(); }
  void SetUp() override {
    if (!server) GTEST_FAIL() << "the shared server did not start: " << start_error;
  }

  static inline std::unique_ptr<server_process> server;
  static inline std::string start_error;
};

}  // namespace tuilerie::testing
