// Configuration loading: valid files, and errors that name the file and key.
#include "server/config.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace tuilerie {
namespace {

const std::filesystem::path source_dir = TUILERIE_SOURCE_DIR;

// A config file placed in the source tree's config/ folder, so that relative
// style paths resolve to styles/ as in the shipped configurations.
const std::filesystem::path config_file = source_dir / "config" / "unit-test.yaml";

std::string minimal_tileset(const std::string& extra = "") {
  return "tilesets:\n"
         "  flood:\n"
         "    style: ../tests/data/config/minimal.xml\n" +
         extra;
}

std::string error_of(const std::string& yaml) {
  try {
    parse_config(yaml, config_file);
  } catch (const config_error& error) {
    return error.what();
  }
  return "no error";
}

TEST(Config, MinimalFileGetsDefaults) {
  const config loaded = parse_config(minimal_tileset(), config_file);
  ASSERT_EQ(loaded.tilesets.size(), 1u);
  const tileset_settings& flood = loaded.tilesets.at("flood");
  EXPECT_EQ(flood.title, "flood");
  EXPECT_EQ(flood.metatile, 8u);
  EXPECT_EQ(flood.vector.extent, 4096u);
  EXPECT_TRUE(flood.serves(tile_format::png));
  EXPECT_FALSE(flood.serves(tile_format::mvt));
  EXPECT_EQ(loaded.server.listen.port, 8080);
  EXPECT_EQ(loaded.cache.path, config_file.parent_path() / "var/cache");
  EXPECT_TRUE(loaded.cache.mercator_copies);
}

TEST(Config, RelativePathsResolveFromConfigDirectory) {
  const config loaded = parse_config(minimal_tileset(), config_file);
  EXPECT_EQ(loaded.tilesets.at("flood").style, source_dir / "config" / "../tests/data/config/minimal.xml");
}

TEST(Config, FullTilesetIsRead) {
  const config loaded = parse_config(
      "server:\n  listen: 0.0.0.0:9000\n  render_threads: 3\n"
      "cache:\n  path: /tmp/tuilerie-cache\n  max_size_mb: 200\n  mercator_copies: false\n" +
          minimal_tileset("    formats: [png, mvt]\n    minzoom: 4\n    maxzoom: 16\n"
                          "    bounds: [1.5, 47.5, 2.5, 48.2]\n    center: [1.9, 47.9, 11]\n    metatile: 4\n"
                          "    vector:\n      extent: 8192\n      buffer: 16\n      layers:\n"
                          "        zones:\n          maxzoom: 14\n          fields: [alea]\n"
                          "    cache_control:\n      - {minzoom: 0, maxzoom: 10, value: 'public, max-age=86400'}\n"),
      config_file);
  EXPECT_EQ(loaded.server.listen.host, "0.0.0.0");
  EXPECT_EQ(loaded.server.listen.port, 9000);
  EXPECT_EQ(loaded.server.render_threads, 3u);
  EXPECT_EQ(loaded.cache.path, "/tmp/tuilerie-cache");
  EXPECT_EQ(loaded.cache.max_size_mb, 200u);
  EXPECT_FALSE(loaded.cache.mercator_copies);
  const tileset_settings& flood = loaded.tilesets.at("flood");
  EXPECT_TRUE(flood.serves(tile_format::mvt));
  EXPECT_FALSE(flood.serves(tile_format::webp));
  EXPECT_EQ(flood.minzoom, 4);
  EXPECT_EQ(flood.maxzoom, 16);
  EXPECT_DOUBLE_EQ(flood.bounds.minx, 1.5);
  EXPECT_EQ(flood.center_zoom, 11);
  EXPECT_EQ(flood.metatile, 4u);
  EXPECT_EQ(flood.vector.extent, 8192u);
  ASSERT_EQ(flood.vector.layers.size(), 1u);
  EXPECT_EQ(flood.vector.layers[0].name, "zones");
  EXPECT_EQ(flood.vector.layers[0].maxzoom, 14);
  EXPECT_EQ(flood.vector.layers[0].fields, std::vector<std::string>{"alea"});
  ASSERT_EQ(flood.cache_control.size(), 1u);
  EXPECT_EQ(flood.cache_control[0].value, "public, max-age=86400");
}

TEST(Config, ErrorNamesFileLineAndKey) {
  const std::string message = error_of(minimal_tileset("    maxzoom: abc\n"));
  EXPECT_NE(message.find("unit-test.yaml:4"), std::string::npos) << message;
  EXPECT_NE(message.find("tilesets.flood.maxzoom"), std::string::npos) << message;
  EXPECT_NE(message.find("'abc'"), std::string::npos) << message;
}

TEST(Config, UnknownKeyIsRejected) {
  const std::string message = error_of(minimal_tileset("    max_zoom: 12\n"));
  EXPECT_NE(message.find("tilesets.flood.max_zoom"), std::string::npos) << message;
  EXPECT_NE(message.find("unknown key"), std::string::npos) << message;
}

TEST(Config, MissingStyleFileIsNamed) {
  const std::string message = error_of("tilesets:\n  flood:\n    style: ../styles/nope.xml\n");
  EXPECT_NE(message.find("tilesets.flood.style"), std::string::npos) << message;
  EXPECT_NE(message.find("nope.xml"), std::string::npos) << message;
}

TEST(Config, MissingStyleKeyIsNamed) {
  const std::string message = error_of("tilesets:\n  flood:\n    title: Flood\n");
  EXPECT_NE(message.find("tilesets.flood.style"), std::string::npos) << message;
  EXPECT_NE(message.find("missing"), std::string::npos) << message;
}

TEST(Config, InvalidValuesAreRejected) {
  EXPECT_NE(error_of(minimal_tileset("    formats: [png, gif]\n")).find("unknown format 'gif'"), std::string::npos);
  EXPECT_NE(error_of(minimal_tileset("    metatile: 6\n")).find("tilesets.flood.metatile"), std::string::npos);
  EXPECT_NE(error_of(minimal_tileset("    minzoom: 12\n    maxzoom: 4\n")).find("must not exceed"), std::string::npos);
  EXPECT_NE(error_of(minimal_tileset("    bounds: [3, 47, 2, 48]\n")).find("west must be less than east"),
            std::string::npos);
  EXPECT_NE(error_of(minimal_tileset("    vector:\n      extent: 1000\n")).find("power of two"), std::string::npos);
  EXPECT_NE(error_of("server:\n  listen: localhost\n" + minimal_tileset()).find("server.listen"), std::string::npos);
  EXPECT_NE(error_of("tilesets:\n  ../etc:\n    style: x.xml\n").find("invalid tileset name"), std::string::npos);
  EXPECT_NE(error_of("cache:\n  mercator_copies: sometimes\n" + minimal_tileset()).find("cache.mercator_copies"),
            std::string::npos);
}

TEST(Config, RenderTimeoutTakesFractionsOfASecond) {
  const config loaded = parse_config("server:\n  limits:\n    render_timeout_seconds: 0.5\n" + minimal_tileset(),
                                     config_file);
  EXPECT_DOUBLE_EQ(loaded.server.limits.render_timeout_seconds, 0.5);
  const std::string message = error_of("server:\n  limits:\n    render_timeout_seconds: 0\n" + minimal_tileset());
  EXPECT_NE(message.find("server.limits.render_timeout_seconds"), std::string::npos) << message;
  EXPECT_NE(message.find("from 0.01 to 3600"), std::string::npos) << message;
}

TEST(Config, PostgisSectionIsRead) {
  const config loaded = parse_config(
      "postgis:\n  host: db.example\n  port: 5433\n  dbname: sig\n  user: tuilerie\n  pool_size: 4\n"
      "  statement_timeout_ms: 5000\n  changes_channel: tuilerie_changes\n" +
          minimal_tileset("    postgis_tables: [flood.zone_alea]\n"),
      config_file);
  EXPECT_TRUE(loaded.postgis.configured);
  EXPECT_EQ(loaded.postgis.host, "db.example");
  EXPECT_EQ(loaded.postgis.port, 5433);
  EXPECT_EQ(loaded.postgis.pool_size, 4u);
  EXPECT_EQ(loaded.postgis.statement_timeout_ms, 5000u);
  EXPECT_EQ(loaded.postgis.changes_poll_seconds, 30u);
  EXPECT_EQ(loaded.tilesets.at("flood").postgis_tables, std::vector<std::string>{"flood.zone_alea"});
  EXPECT_FALSE(parse_config(minimal_tileset(), config_file).postgis.configured);
}

TEST(Config, InvalidPostgisValuesAreRejected) {
  auto error_with = [](const std::string& postgis, const std::string& tileset_extra = "") {
    return error_of("postgis:\n" + postgis + minimal_tileset(tileset_extra));
  };
  const std::string password = error_with("  password: secret\n");
  EXPECT_NE(password.find("postgis.password"), std::string::npos) << password;
  EXPECT_NE(password.find("PGPASSWORD"), std::string::npos) << password;
  EXPECT_EQ(password.find("secret"), std::string::npos) << "the message must not repeat the password";
  EXPECT_NE(error_with("  port: 70000\n").find("postgis.port"), std::string::npos);
  EXPECT_NE(error_with("  changes_channel: Bad-Name\n").find("postgis.changes_channel"), std::string::npos);
  EXPECT_NE(error_with("  host: x\n", "    postgis_tables: [zone_alea]\n").find("schema.table"), std::string::npos);
  const std::string no_channel = error_with("  host: x\n", "    postgis_tables: [flood.zone_alea]\n");
  EXPECT_NE(no_channel.find("tilesets.flood.postgis_tables"), std::string::npos) << no_channel;
  EXPECT_NE(no_channel.find("postgis.changes_channel"), std::string::npos) << no_channel;
}

TEST(Config, DatabaseCollectionSourceIsNotAPath) {
  const config loaded = parse_config(minimal_tileset() +
                                         "collections:\n  zones:\n    source: 'PG:dbname=sig'\n"
                                         "    layer: flood.zone_alea\n",
                                     config_file);
  EXPECT_EQ(loaded.collections.at("zones").source.string(), "PG:dbname=sig");
}

TEST(Config, InvalidYamlReportsLine) {
  const std::string message = error_of("tilesets:\n  flood: [unclosed\n");
  EXPECT_NE(message.find("invalid YAML"), std::string::npos) << message;
  EXPECT_NE(message.find("unit-test.yaml:"), std::string::npos) << message;
}

// The reader converts every key to a string, and yaml-cpp throws its own exception when the key is a list
// or a mapping; parse_config must turn it into a config_error with the key's line.
TEST(Config, NonScalarKeyIsConfigError) {
  const std::pair<std::string, std::string> cases[] = {
      {"tilesets:\n  [a, b]:\n    style: x.xml\n", "unit-test.yaml:2: "},
      {"? [server]\n: 1\n", "unit-test.yaml:1: "},
      {minimal_tileset("    vector:\n      layers:\n        [zones]: {}\n"), "unit-test.yaml:6: "},
      {minimal_tileset() + "collections:\n  {id: 1}: {}\n", "unit-test.yaml:5: "},
  };
  for (const auto& [yaml, expected_location] : cases) {
    const std::string message = error_of(yaml);
    EXPECT_NE(message.find(expected_location), std::string::npos) << yaml << " -> " << message;
    EXPECT_NE(message.find("not as a list or a mapping"), std::string::npos) << yaml << " -> " << message;
  }
}

TEST(Config, NoTilesetsIsAnError) {
  EXPECT_NE(error_of("server:\n  io_threads: 2\n").find("tilesets"), std::string::npos);
}

TEST(Config, UnreadableFileIsNamed) {
  try {
    load_config("/nonexistent/tuilerie.yaml");
    FAIL() << "expected config_error";
  } catch (const config_error& error) {
    EXPECT_NE(std::string(error.what()).find("/nonexistent/tuilerie.yaml"), std::string::npos);
  }
}

std::string with_collection(const std::string& body) {
  return minimal_tileset() + "collections:\n  flood_hazard:\n" + body;
}

const std::string flood_source = "    source: ../data/flood/pprn-38DDT20130013-inondation-l93.gpkg\n";

TEST(Config, CollectionsAndOgcDefaults) {
  const config loaded = parse_config(minimal_tileset(), config_file);
  EXPECT_TRUE(loaded.collections.empty());
  EXPECT_EQ(loaded.ogc.base_path, "/ogc");
  EXPECT_EQ(loaded.ogc.default_limit, 10u);
  EXPECT_EQ(loaded.ogc.max_limit, 1000u);
  EXPECT_EQ(loaded.ogc.coordinate_precision, 7);
  EXPECT_DOUBLE_EQ(loaded.ogc.point_query.default_radius_m, 500);
}

TEST(Config, FullCollectionIsRead) {
  const config loaded = parse_config(
      with_collection("    title: Aléa inondation\n    description: Zones\n    attribution: DDT 38\n" + flood_source +
                      "    layer: zone_alea\n    srs: EPSG:2154\n    queryables: [nivalea, coderisque]\n"
                      "    datetime: datecarte\n    point_query: true\n"),
      config_file);
  ASSERT_EQ(loaded.collections.size(), 1u);
  const collection_settings& flood = loaded.collections.at("flood_hazard");
  EXPECT_EQ(flood.id, "flood_hazard");
  EXPECT_EQ(flood.title, "Aléa inondation");
  EXPECT_EQ(flood.source, source_dir / "config" / "../data/flood/pprn-38DDT20130013-inondation-l93.gpkg");
  EXPECT_EQ(flood.layer, "zone_alea");
  EXPECT_EQ(flood.srs, "EPSG:2154");
  EXPECT_EQ(flood.queryables, (std::vector<std::string>{"nivalea", "coderisque"}));
  EXPECT_EQ(flood.datetime, "datecarte");
  EXPECT_TRUE(flood.datetime_end.empty());
  EXPECT_TRUE(flood.point_query);
  EXPECT_EQ(flood.line, 5);  // the line of its key, for errors found when GDAL opens it
}

TEST(Config, CollectionTitleDefaultsToId) {
  const config loaded = parse_config(with_collection(flood_source), config_file);
  EXPECT_EQ(loaded.collections.at("flood_hazard").title, "flood_hazard");
  EXPECT_FALSE(loaded.collections.at("flood_hazard").point_query);
}

TEST(Config, InvalidCollectionsAreRejected) {
  const std::pair<std::string, std::string> cases[] = {
      {with_collection("    title: x\n"), "collections.flood_hazard.source: missing"},
      {with_collection("    source: ../data/nope.gpkg\n"), "file not found"},
      {with_collection(flood_source + "    max_features: 3\n"), "collections.flood_hazard.max_features: unknown key"},
      {with_collection(flood_source + "    datetime_end: datefin\n"), "needs datetime too"},
      {with_collection(flood_source + "    queryables: [nivalea, nivalea]\n"), "distinct"},
      {with_collection(flood_source + "    queryables: nivalea\n"), "must be a list of strings"},
      {with_collection(flood_source + "    srs: ''\n"), "collections.flood_hazard.srs: must not be empty"},
      {with_collection(flood_source + "    point_query: maybe\n"), "must be true or false"},
      {minimal_tileset() + "collections:\n  ../etc:\n" + flood_source, "invalid collection id"},
      {minimal_tileset() + "collections: [a, b]\n", "collections: must be a mapping"},
  };
  for (const auto& [yaml, expected] : cases) {
    const std::string message = error_of(yaml);
    EXPECT_NE(message.find(expected), std::string::npos) << message;
    EXPECT_NE(message.find("unit-test.yaml:"), std::string::npos) << message;
  }
}

TEST(Config, FullOgcSectionIsRead) {
  const config loaded = parse_config(
      minimal_tileset() +
          "ogc:\n  base_path: /services/ogc\n  title: Loiret\n  description: Données\n  threads: 4\n"
          "  default_limit: 20\n  max_limit: 500\n  coordinate_precision: 6\n"
          "  point_query:\n    default_radius_m: 250\n    max_radius_m: 2000\n",
      config_file);
  EXPECT_EQ(loaded.ogc.base_path, "/services/ogc");
  EXPECT_EQ(loaded.ogc.title, "Loiret");
  EXPECT_EQ(loaded.ogc.threads, 4u);
  EXPECT_EQ(loaded.ogc.default_limit, 20u);
  EXPECT_EQ(loaded.ogc.max_limit, 500u);
  EXPECT_EQ(loaded.ogc.coordinate_precision, 6);
  EXPECT_DOUBLE_EQ(loaded.ogc.point_query.default_radius_m, 250);
  EXPECT_DOUBLE_EQ(loaded.ogc.point_query.max_radius_m, 2000);
}

TEST(Config, InvalidOgcValuesAreRejected) {
  const std::pair<std::string, std::string> cases[] = {
      {"ogc:\n  base_path: ogc\n", "ogc.base_path: invalid path 'ogc'"},
      {"ogc:\n  base_path: /ogc/\n", "ogc.base_path"},
      {"ogc:\n  base_path: /\n", "ogc.base_path"},
      {"ogc:\n  base_path: //ogc\n", "ogc.base_path"},
      {"ogc:\n  base_path: /tiles/ogc\n", "ogc.base_path"},
      {"ogc:\n  base_path: /wmts\n", "ogc.base_path"},
      {"ogc:\n  base_path: /o.g.c\n", "ogc.base_path"},
      {"ogc:\n  threads: 0\n", "ogc.threads: must be an integer from 1 to 64"},
      {"ogc:\n  max_limit: 0\n", "ogc.max_limit"},
      {"ogc:\n  max_limit: 20000\n", "ogc.max_limit"},
      {"ogc:\n  default_limit: 100\n  max_limit: 50\n", "ogc.default_limit: must not exceed ogc.max_limit (50)"},
      {"ogc:\n  coordinate_precision: 16\n", "ogc.coordinate_precision"},
      {"ogc:\n  point_query:\n    default_radius_m: 900\n    max_radius_m: 800\n", "must not exceed"},
      {"ogc:\n  point_query:\n    max_radius_m: 0\n", "ogc.point_query.max_radius_m"},
      {"ogc:\n  page_size: 10\n", "ogc.page_size: unknown key"},
  };
  for (const auto& [ogc, expected] : cases) {
    const std::string message = error_of(minimal_tileset() + ogc);
    EXPECT_NE(message.find(expected), std::string::npos) << ogc << " -> " << message;
  }
}

TEST(Config, OgcBasePathCheck) {
  EXPECT_TRUE(is_valid_ogc_base_path("/ogc"));
  EXPECT_TRUE(is_valid_ogc_base_path("/services/ogc-api_v1"));
  EXPECT_TRUE(is_valid_ogc_base_path("/tilesets"));  // only the /tiles segment itself is taken
  EXPECT_FALSE(is_valid_ogc_base_path("/tiles"));
  EXPECT_FALSE(is_valid_ogc_base_path("/query"));
  EXPECT_FALSE(is_valid_ogc_base_path("/ogc/"));
  EXPECT_FALSE(is_valid_ogc_base_path("ogc"));
  EXPECT_FALSE(is_valid_ogc_base_path("/og c"));
  EXPECT_FALSE(is_valid_ogc_base_path("/" + std::string(65, 'a')));
}

TEST(Config, ListenAddressParsing) {
  EXPECT_EQ(parse_listen_address("127.0.0.1:0").port, 0);
  EXPECT_EQ(parse_listen_address("[::1]:8080").host, "::1");
  EXPECT_THROW(parse_listen_address("127.0.0.1"), std::invalid_argument);
  EXPECT_THROW(parse_listen_address("127.0.0.1:70000"), std::invalid_argument);
  EXPECT_THROW(parse_listen_address("127.0.0.1:80x"), std::invalid_argument);
}

}  // namespace
}  // namespace tuilerie
