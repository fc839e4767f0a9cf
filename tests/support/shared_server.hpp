// A GoogleTest fixture whose tests share one server started from
// config/test.yaml for the whole suite.
#pragma once

#include "server_process.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>

namespace tuilerie::testing {

inline std::filesystem::path test_config_file() {
  return std::filesystem::path(TUILERIE_SOURCE_DIR) / "config" / "test.yaml";
}

class shared_server_test : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server = std::make_unique<server_process>(test_config_file()); }
  static void TearDownTestSuite() { server.reset(); }

  static inline std::unique_ptr<server_process> server;
};

}  // namespace tuilerie::testing
