// The MapLibre styles a real server serves for its vector tilesets: one per tileset, valid for
// MapLibre's own validator, and reading only the MVT layers and fields that the tileset's TileJSON lists.
#include "node_command.hpp"
#include "server_process.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace tuilerie::testing {
namespace {

const std::filesystem::path source_dir = TUILERIE_SOURCE_DIR;
const std::filesystem::path test_config = source_dir / "config" / "test.yaml";
// gl-style-validate from @maplibre/maplibre-gl-style-spec, installed by npm in tests/js.
const std::filesystem::path style_validator = source_dir / "tests" / "js" / "node_modules" / ".bin" / "gl-style-validate";
const std::filesystem::path output_dir = std::filesystem::path(TUILERIE_BINARY_DIR) / "tests" / "web" / "styles";

// Adds the attribute names that the expression reads with "get" or "has" to fields.
void collect_fields(const nlohmann::json& expression, std::set<std::string>& fields) {
  if (!expression.is_array()) {
    if (expression.is_object()) {
      for (const auto& [key, value] : expression.items()) collect_fields(value, fields);
    }
    return;
  }
  if (expression.size() == 2 && expression[0].is_string() && expression[1].is_string() &&
      (expression[0] == "get" || expression[0] == "has")) {
    fields.insert(expression[1].get<std::string>());
    return;
  }
  for (const auto& item : expression) collect_fields(item, fields);
}

class MapLibreStyles : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new server_process(test_config); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  // The names of the tilesets whose catalog entry lists the mvt format.
  static std::vector<std::string> vector_tilesets() {
    const auto catalog = nlohmann::json::parse(server_->get("/catalog").body);
    std::vector<std::string> names;
    for (const auto& tileset : catalog["tilesets"]) {
      const auto& formats = tileset["formats"];
      if (std::find(formats.begin(), formats.end(), "mvt") != formats.end()) names.push_back(tileset["name"]);
    }
    return names;
  }

  static server_process* server_;
};

server_process* MapLibreStyles::server_ = nullptr;

TEST_F(MapLibreStyles, EveryVectorTilesetHasValidStyle) {
  const auto node = find_in_path("node");
  if (node.empty()) GTEST_FAIL() << "node is not installed (Debian package nodejs; scripts/install-deps.sh)";
  const auto names = vector_tilesets();
  ASSERT_FALSE(names.empty());
  const auto directory = output_dir;
  std::filesystem::create_directories(directory);
  for (const auto& name : names) {
    const auto reply = server_->get("/styles/" + name + ".json");
    ASSERT_EQ(reply.status, 200u) << "no styles/" << name << ".maplibre.json for vector tileset " << name;
    const auto file = directory / (name + ".json");
    std::ofstream(file, std::ios::binary) << reply.body;
    const auto result = run_command(quoted(node) + " " + quoted(style_validator) + " " + quoted(file), 60);
    EXPECT_EQ(result.exit_code, 0) << name << ": " << result.output;
  }
}

TEST_F(MapLibreStyles, StylesReadServedLayersAndFields) {
  for (const auto& name : vector_tilesets()) {
    const auto tilejson = nlohmann::json::parse(server_->get("/tiles/" + name + ".json?format=mvt").body);
    std::map<std::string, std::set<std::string>> fields_of_layer;
    for (const auto& layer : tilejson["vector_layers"]) {
      auto& fields = fields_of_layer[layer["id"].get<std::string>()];
      for (const auto& [field, type] : layer["fields"].items()) fields.insert(field);
    }
    const auto style = nlohmann::json::parse(server_->get("/styles/" + name + ".json").body, nullptr, false);
    ASSERT_TRUE(style.is_object()) << "styles/" << name << ".maplibre.json is not JSON";
    for (const auto& [source_id, source] : style["sources"].items()) {
      EXPECT_EQ(source["url"], "http://127.0.0.1:" + std::to_string(server_->port()) + "/tiles/" + name + ".json?format=mvt")
          << name << " source " << source_id;
    }
    for (const auto& layer : style["layers"]) {
      if (!layer.contains("source-layer")) continue;
      const std::string id = name + "/" + layer["id"].get<std::string>();
      const auto found = fields_of_layer.find(layer["source-layer"].get<std::string>());
      ASSERT_NE(found, fields_of_layer.end()) << id << " reads MVT layer " << layer["source-layer"]
                                              << ", which the tileset does not serve";
      std::set<std::string> used;
      for (const char* key : {"filter", "paint", "layout"}) {
        if (layer.contains(key)) collect_fields(layer[key], used);
      }
      for (const auto& field : used) {
        EXPECT_TRUE(found->second.contains(field)) << id << " reads field " << field << ", which MVT layer "
                                                  << found->first << " does not keep (see vector.layers in the config)";
      }
    }
  }
}

}  // namespace
}  // namespace tuilerie::testing
