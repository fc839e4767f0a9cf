// Bad configurations and styles stop start-up with exit status 2 and a
// message that names the file and what to fix; nothing starts serving.
#include "server_process.hpp"

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace tuilerie::testing {
namespace {

namespace fs = std::filesystem;

const fs::path source_dir = TUILERIE_SOURCE_DIR;

struct run_result {
  int exit_status = -1;
  std::string output;
};

// Runs `tuilerie serve` on the configuration and collects what it prints;
// the server must exit on its own within the time limit.
run_result run_serve(const fs::path& config) {
  const std::string command = "timeout 60 " + tuilerie_binary().string() + " serve --config " + config.string() +
                              " --listen 127.0.0.1:0 --cache " + (config.parent_path() / "cache").string() + " 2>&1";
  run_result result;
  FILE* pipe = popen(command.c_str(), "r");
  char buffer[4096];
  while (const auto count = fread(buffer, 1, sizeof buffer, pipe)) result.output.append(buffer, count);
  const int status = pclose(pipe);
  result.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

// A folder with a one-tileset configuration and the style given.
class BrokenSetup {
 public:
  explicit BrokenSetup(const std::string& style_xml) {
    root_ = fs::temp_directory_path() / ("tuilerie-startup-" + std::to_string(getpid()) + "-" + std::to_string(counter_++));
    fs::create_directories(root_);
    std::ofstream(root_ / "style.xml") << style_xml;
    std::ofstream(config()) << "tilesets:\n  zones:\n    style: style.xml\n";
  }
  ~BrokenSetup() {
    std::error_code ignored;
    fs::remove_all(root_, ignored);
  }
  fs::path config() const { return root_ / "config.yaml"; }

 private:
  static inline int counter_ = 0;
  fs::path root_;
};

std::string style_with(const std::string& fontset, const std::string& layer_style, const std::string& data_file) {
  return "<Map srs=\"epsg:3857\">" + fontset +
         "<Style name=\"zones\"><Rule><LineSymbolizer stroke=\"#000\"/></Rule></Style>"
         "<Layer name=\"zones\" srs=\"epsg:4326\"><StyleName>" +
         layer_style +
         "</StyleName><Datasource><Parameter name=\"type\">geojson</Parameter>"
         "<Parameter name=\"file\">" +
         data_file + "</Parameter></Datasource></Layer></Map>";
}

const std::string loiret = (source_dir / "data/admin/departement-45-loiret.geojson").string();

TEST(StartupErrors, MissingFontFaceIsNamed) {
  const BrokenSetup setup(style_with(
      "<FontSet name=\"labels\"><Font face-name=\"Marianne Regular\"/></FontSet>"
      "<Style name=\"texts\"><Rule><TextSymbolizer fontset-name=\"labels\" size=\"11\">[nom]</TextSymbolizer>"
      "</Rule></Style>",
      "zones", loiret));
  const auto result = run_serve(setup.config());
  EXPECT_EQ(result.exit_status, 2) << result.output;
  EXPECT_NE(result.output.find("Marianne Regular"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("style.xml"), std::string::npos) << result.output;
}

TEST(StartupErrors, LayerNamingMissingStyleIsNamed) {
  const BrokenSetup setup(style_with("", "nowhere", loiret));
  const auto result = run_serve(setup.config());
  EXPECT_EQ(result.exit_status, 2) << result.output;
  EXPECT_NE(result.output.find("'nowhere'"), std::string::npos) << result.output;
}

TEST(StartupErrors, MissingDataFileIsNamed) {
  const BrokenSetup setup(style_with("", "zones", "/nonexistent/zones.geojson"));
  const auto result = run_serve(setup.config());
  EXPECT_EQ(result.exit_status, 2) << result.output;
  EXPECT_NE(result.output.find("/nonexistent/zones.geojson"), std::string::npos) << result.output;
}

TEST(StartupErrors, UnparsableStyleIsNamed) {
  const BrokenSetup setup("<Map><Layer name=\"zones\"");
  const auto result = run_serve(setup.config());
  EXPECT_EQ(result.exit_status, 2) << result.output;
  EXPECT_NE(result.output.find("style.xml"), std::string::npos) << result.output;
}

TEST(StartupErrors, UnknownDatasourceTypeIsNamed) {
  std::string xml = style_with("", "zones", loiret);
  xml.replace(xml.find(">geojson<"), 9, ">shapely<");
  const BrokenSetup setup(xml);
  const auto result = run_serve(setup.config());
  EXPECT_EQ(result.exit_status, 2) << result.output;
  EXPECT_NE(result.output.find("shapely"), std::string::npos) << result.output;
}

}  // namespace
}  // namespace tuilerie::testing
