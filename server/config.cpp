// Loads the YAML configuration and checks every value before start-up.
#include "server/config.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <fstream>
#include <set>
#include <sstream>

namespace tuilerie {

namespace {

std::string format_config_error(const std::filesystem::path& file, const std::string& key, int line,
                                const std::string& reason) {
  std::ostringstream out;
  out << file.string();
  if (line > 0) out << ":" << line;
  if (!key.empty()) out << ": " << key;
  out << ": " << reason;
  return out.str();
}

// Reads typed values out of YAML nodes and reports errors with the key path.
class config_reader {
 public:
  explicit config_reader(std::filesystem::path file) : file_(std::move(file)) {}

  [[noreturn]] void fail(const YAML::Node& node, const std::string& key, const std::string& reason) const {
    const int line = node.IsDefined() && node.Mark().line >= 0 ? node.Mark().line + 1 : 0;
    throw config_error(file_, key, line, reason);
  }

  void require_map(const YAML::Node& node, const std::string& key) const {
    if (!node.IsMap()) fail(node, key, "must be a mapping of keys to values");
  }

  // Rejects keys that the schema does not know, which are almost always typos.
  void reject_unknown_keys(const YAML::Node& node, const std::string& key,
                           const std::set<std::string>& known) const {
    for (const auto& entry : node) {
      const auto name = entry.first.as<std::string>();
      if (!known.contains(name)) {
        std::string expected;
        for (const auto& k : known) expected += (expected.empty() ? "" : ", ") + k;
        fail(entry.first, join(key, name), "unknown key; expected one of: " + expected);
      }
    }
  }

  std::string string(const YAML::Node& node, const std::string& key) const {
    if (!node.IsScalar()) fail(node, key, "must be a string");
    return node.as<std::string>();
  }

  long long integer(const YAML::Node& node, const std::string& key, long long min, long long max) const {
    const std::string text = node.IsScalar() ? node.Scalar() : std::string{};
    long long value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (!node.IsScalar() || error != std::errc{} || end != text.data() + text.size() || value < min ||
        value > max) {
      fail(node, key,
           "must be an integer from " + std::to_string(min) + " to " + std::to_string(max) + ", got '" +
               text + "'");
    }
    return value;
  }

  double number(const YAML::Node& node, const std::string& key, double min, double max) const {
    double value = 0;
    try {
      value = node.as<double>();
    } catch (const YAML::Exception&) {
      fail(node, key, "must be a number");
    }
    if (!(value >= min && value <= max)) {
      fail(node, key, "must be a number from " + trim_number(min) + " to " + trim_number(max) + ", got " +
                          node.Scalar());
    }
    return value;
  }

  bool boolean(const YAML::Node& node, const std::string& key) const {
    try {
      return node.as<bool>();
    } catch (const YAML::Exception&) {
      fail(node, key, "must be true or false");
    }
  }

  std::vector<std::string> string_list(const YAML::Node& node, const std::string& key) const {
    if (!node.IsSequence()) fail(node, key, "must be a list of strings");
    std::vector<std::string> values;
    for (std::size_t i = 0; i < node.size(); ++i) {
      values.push_back(string(node[i], key + "[" + std::to_string(i) + "]"));
    }
    return values;
  }

  // Resolves a path relative to the configuration file's directory.
  std::filesystem::path path(const YAML::Node& node, const std::string& key) const {
    const std::filesystem::path value = string(node, key);
    if (value.empty()) fail(node, key, "must not be empty");
    return value.is_absolute() ? value : file_.parent_path() / value;
  }

  std::filesystem::path existing_file(const YAML::Node& node, const std::string& key) const {
    auto resolved = path(node, key);
    std::error_code error;
    if (!std::filesystem::is_regular_file(resolved, error)) {
      fail(node, key, "file not found: " + resolved.string());
    }
    return resolved;
  }

  static std::string join(const std::string& parent, const std::string& child) {
    return parent.empty() ? child : parent + "." + child;
  }

  const std::filesystem::path& file() const { return file_; }

 private:
  static std::string trim_number(double value) {
    std::ostringstream out;
    out << value;
    return out.str();
  }

  std::filesystem::path file_;
};

bool is_power_of_two(long long value) { return value > 0 && (value & (value - 1)) == 0; }

server_limits read_limits(const config_reader& reader, const YAML::Node& node) {
  server_limits limits;
  reader.require_map(node, "server.limits");
  reader.reject_unknown_keys(node, "server.limits",
                             {"max_connections", "header_bytes", "request_timeout_seconds", "render_timeout_seconds",
                              "render_queue"});
  auto read = [&](const char* name, std::uint32_t& value, long long min, long long max) {
    if (node[name]) value = static_cast<std::uint32_t>(reader.integer(node[name], std::string("server.limits.") + name, min, max));
  };
  read("max_connections", limits.max_connections, 1, 1 << 20);
  read("header_bytes", limits.header_bytes, 1024, 1 << 20);
  read("request_timeout_seconds", limits.request_timeout_seconds, 1, 3600);
  if (node["render_timeout_seconds"]) {
    limits.render_timeout_seconds =
        reader.number(node["render_timeout_seconds"], "server.limits.render_timeout_seconds", 0.01, 3600);
  }
  read("render_queue", limits.render_queue, 1, 1 << 20);
  return limits;
}

server_settings read_server(const config_reader& reader, const YAML::Node& node) {
  server_settings server;
  server.web_root = reader.file().parent_path() / "../web";
  if (!node) return server;
  reader.require_map(node, "server");
  reader.reject_unknown_keys(node, "server",
                             {"listen", "io_threads", "render_threads", "cors_origins", "web_root", "admin_token",
                              "limits"});
  if (node["limits"]) server.limits = read_limits(reader, node["limits"]);
  if (node["admin_token"]) {
    server.admin_token = reader.string(node["admin_token"], "server.admin_token");
    if (server.admin_token.size() < 16) {
      reader.fail(node["admin_token"], "server.admin_token", "must be at least 16 characters, or absent to disable /admin");
    }
  }
  if (node["web_root"]) server.web_root = reader.path(node["web_root"], "server.web_root");
  if (node["listen"]) {
    try {
      server.listen = parse_listen_address(reader.string(node["listen"], "server.listen"));
    } catch (const std::invalid_argument& error) {
      reader.fail(node["listen"], "server.listen", error.what());
    }
  }
  if (node["io_threads"]) {
    server.io_threads = static_cast<unsigned>(reader.integer(node["io_threads"], "server.io_threads", 1, 256));
  }
  if (node["render_threads"]) {
    server.render_threads =
        static_cast<unsigned>(reader.integer(node["render_threads"], "server.render_threads", 1, 256));
  }
  if (node["cors_origins"]) {
    server.cors_origins = reader.string_list(node["cors_origins"], "server.cors_origins");
  }
  return server;
}

cache_settings read_cache(const config_reader& reader, const YAML::Node& node) {
  cache_settings cache;
  cache.path = reader.file().parent_path() / cache.path;
  if (!node) return cache;
  reader.require_map(node, "cache");
  reader.reject_unknown_keys(node, "cache", {"path", "initial_size_mb", "max_size_mb", "mercator_copies"});
  if (node["path"]) cache.path = reader.path(node["path"], "cache.path");
  if (node["mercator_copies"]) cache.mercator_copies = reader.boolean(node["mercator_copies"], "cache.mercator_copies");
  if (node["initial_size_mb"]) {
    cache.initial_size_mb =
        static_cast<std::uint64_t>(reader.integer(node["initial_size_mb"], "cache.initial_size_mb", 1, 1 << 24));
  }
  if (node["max_size_mb"]) {
    cache.max_size_mb =
        static_cast<std::uint64_t>(reader.integer(node["max_size_mb"], "cache.max_size_mb", 1, 1 << 24));
  }
  if (cache.initial_size_mb > cache.max_size_mb) {
    reader.fail(node["initial_size_mb"], "cache.initial_size_mb", "must not exceed cache.max_size_mb");
  }
  return cache;
}

postgis_settings read_postgis(const config_reader& reader, const YAML::Node& node) {
  postgis_settings postgis;
  if (!node) return postgis;
  reader.require_map(node, "postgis");
  if (node["password"]) {
    reader.fail(node["password"], "postgis.password",
                "passwords are not read from the configuration; set PGPASSWORD or use a ~/.pgpass file");
  }
  reader.reject_unknown_keys(node, "postgis",
                             {"host", "port", "dbname", "user", "pool_size", "statement_timeout_ms",
                              "connect_timeout_seconds", "changes_channel", "changes_poll_seconds"});
  postgis.configured = true;

  if (node["host"]) postgis.host = reader.string(node["host"], "postgis.host");
  if (node["port"]) postgis.port = static_cast<std::uint16_t>(reader.integer(node["port"], "postgis.port", 1, 65535));
  if (node["dbname"]) postgis.dbname = reader.string(node["dbname"], "postgis.dbname");
  if (node["user"]) postgis.user = reader.string(node["user"], "postgis.user");
  if (node["pool_size"]) {
    postgis.pool_size = static_cast<unsigned>(reader.integer(node["pool_size"], "postgis.pool_size", 1, 256));
  }

  if (node["statement_timeout_ms"]) {
    postgis.statement_timeout_ms = static_cast<std::uint32_t>(
        reader.integer(node["statement_timeout_ms"], "postgis.statement_timeout_ms", 0, 3600000));
  }
  if (node["connect_timeout_seconds"]) {
    postgis.connect_timeout_seconds = static_cast<std::uint32_t>(
        reader.integer(node["connect_timeout_seconds"], "postgis.connect_timeout_seconds", 1, 600));
  }

  if (node["changes_channel"]) {
    postgis.changes_channel = reader.string(node["changes_channel"], "postgis.changes_channel");
    const bool valid = !postgis.changes_channel.empty() && postgis.changes_channel.size() <= 63 &&
                       std::all_of(postgis.changes_channel.begin(), postgis.changes_channel.end(),
                                   [](unsigned char c) { return std::islower(c) || std::isdigit(c) || c == '_'; });
    if (!valid) {
      reader.fail(node["changes_channel"], "postgis.changes_channel",
                  "must be 1 to 63 lowercase letters, digits or '_', as in sql/tuilerie-changes.sql");
    }
  }
  if (node["changes_poll_seconds"]) {
    postgis.changes_poll_seconds = static_cast<std::uint32_t>(
        reader.integer(node["changes_poll_seconds"], "postgis.changes_poll_seconds", 1, 3600));
  }
  return postgis;
}

std::vector<tile_format> read_formats(const config_reader& reader, const YAML::Node& node, const std::string& key) {
  std::vector<tile_format> formats;
  for (const auto& name : reader.string_list(node, key)) {
    const auto format = parse_tile_format(name);
    if (!format || name == "pbf") reader.fail(node, key, "unknown format '" + name + "'; expected png, webp or mvt");
    if (std::find(formats.begin(), formats.end(), *format) == formats.end()) formats.push_back(*format);
  }
  if (formats.empty()) reader.fail(node, key, "must list at least one format");
  return formats;
}

bbox read_bounds(const config_reader& reader, const YAML::Node& node, const std::string& key) {
  if (!node.IsSequence() || node.size() != 4) {
    reader.fail(node, key, "must be [west, south, east, north] in degrees");
  }
  bbox bounds;
  bounds.minx = reader.number(node[0], key + "[0]", -180, 180);
  bounds.miny = reader.number(node[1], key + "[1]", -90, 90);
  bounds.maxx = reader.number(node[2], key + "[2]", -180, 180);
  bounds.maxy = reader.number(node[3], key + "[3]", -90, 90);
  if (bounds.minx >= bounds.maxx || bounds.miny >= bounds.maxy) {
    reader.fail(node, key, "west must be less than east and south less than north");
  }
  return bounds;
}

void read_center(const config_reader& reader, const YAML::Node& node, const std::string& key,
                 tileset_settings& tileset) {
  if (!node.IsSequence() || node.size() != 3) reader.fail(node, key, "must be [longitude, latitude, zoom]");
  tileset.center_lon = reader.number(node[0], key + "[0]", -180, 180);
  tileset.center_lat = reader.number(node[1], key + "[1]", -90, 90);
  tileset.center_zoom = static_cast<int>(reader.integer(node[2], key + "[2]", 0, max_zoom));
}

vector_layer_settings read_vector_layer(const config_reader& reader, const YAML::Node& node,
                                        const std::string& key, const std::string& name) {
  vector_layer_settings layer;
  layer.name = name;
  if (node.IsNull()) return layer;
  reader.require_map(node, key);
  reader.reject_unknown_keys(node, key, {"minzoom", "maxzoom", "fields"});
  if (node["minzoom"]) layer.minzoom = static_cast<int>(reader.integer(node["minzoom"], key + ".minzoom", 0, max_zoom));
  if (node["maxzoom"]) layer.maxzoom = static_cast<int>(reader.integer(node["maxzoom"], key + ".maxzoom", 0, max_zoom));
  if (layer.minzoom > layer.maxzoom) reader.fail(node, key, "minzoom must not exceed maxzoom");
  if (node["fields"]) layer.fields = reader.string_list(node["fields"], key + ".fields");
  return layer;
}

vector_settings read_vector(const config_reader& reader, const YAML::Node& node, const std::string& key) {
  vector_settings vector;
  if (!node) return vector;
  reader.require_map(node, key);
  reader.reject_unknown_keys(node, key, {"extent", "buffer", "simplify", "layers"});
  if (node["extent"]) {
    const auto extent = reader.integer(node["extent"], key + ".extent", 256, 1 << 16);
    if (!is_power_of_two(extent)) reader.fail(node["extent"], key + ".extent", "must be a power of two");
    vector.extent = static_cast<std::uint32_t>(extent);
  }
  if (node["buffer"]) {
    vector.buffer = static_cast<std::uint32_t>(reader.integer(node["buffer"], key + ".buffer", 0, vector.extent));
  }
  if (node["simplify"]) vector.simplify = reader.number(node["simplify"], key + ".simplify", 0, 64);
  if (const auto layers = node["layers"]) {
    reader.require_map(layers, key + ".layers");
    for (const auto& entry : layers) {
      const auto name = entry.first.as<std::string>();
      vector.layers.push_back(read_vector_layer(reader, entry.second, key + ".layers." + name, name));
    }
  }
  return vector;
}

std::vector<cache_control_rule> read_cache_control(const config_reader& reader, const YAML::Node& node,
                                                   const std::string& key) {
  std::vector<cache_control_rule> rules;
  if (node.IsScalar()) {
    rules.push_back({0, max_zoom, reader.string(node, key)});
    return rules;
  }
  if (!node.IsSequence()) reader.fail(node, key, "must be a string or a list of {minzoom, maxzoom, value}");
  for (std::size_t i = 0; i < node.size(); ++i) {
    const std::string item_key = key + "[" + std::to_string(i) + "]";
    const auto item = node[i];
    reader.require_map(item, item_key);
    reader.reject_unknown_keys(item, item_key, {"minzoom", "maxzoom", "value"});
    cache_control_rule rule;
    if (item["minzoom"]) rule.minzoom = static_cast<int>(reader.integer(item["minzoom"], item_key + ".minzoom", 0, max_zoom));
    if (item["maxzoom"]) rule.maxzoom = static_cast<int>(reader.integer(item["maxzoom"], item_key + ".maxzoom", 0, max_zoom));
    if (!item["value"]) reader.fail(item, item_key + ".value", "missing; give the Cache-Control header value");
    rule.value = reader.string(item["value"], item_key + ".value");
    rules.push_back(rule);
  }
  return rules;
}

// Reads either a number of seconds for every zoom or a list of
// {minzoom, maxzoom, seconds} rules.
std::vector<max_age_rule> read_max_age(const config_reader& reader, const YAML::Node& node, const std::string& key) {
  constexpr long long ten_years = 10LL * 365 * 24 * 3600;
  std::vector<max_age_rule> rules;
  if (node.IsScalar()) {
    rules.push_back({0, max_zoom, reader.integer(node, key, 1, ten_years)});
    return rules;
  }
  if (!node.IsSequence()) reader.fail(node, key, "must be a number of seconds or a list of {minzoom, maxzoom, seconds}");
  for (std::size_t i = 0; i < node.size(); ++i) {
    const std::string item_key = key + "[" + std::to_string(i) + "]";
    const auto item = node[i];
    reader.require_map(item, item_key);
    reader.reject_unknown_keys(item, item_key, {"minzoom", "maxzoom", "seconds"});
    max_age_rule rule;
    if (item["minzoom"]) rule.minzoom = static_cast<int>(reader.integer(item["minzoom"], item_key + ".minzoom", 0, max_zoom));
    if (item["maxzoom"]) rule.maxzoom = static_cast<int>(reader.integer(item["maxzoom"], item_key + ".maxzoom", 0, max_zoom));
    if (!item["seconds"]) reader.fail(item, item_key + ".seconds", "missing; give the maximum age in seconds");
    rule.seconds = reader.integer(item["seconds"], item_key + ".seconds", 1, ten_years);
    rules.push_back(rule);
  }
  return rules;
}

void read_tileset_zooms(const config_reader& reader, const YAML::Node& node, const std::string& key,
                        tileset_settings& tileset) {
  if (node["minzoom"]) tileset.minzoom = static_cast<int>(reader.integer(node["minzoom"], key + ".minzoom", 0, max_zoom));
  if (node["maxzoom"]) tileset.maxzoom = static_cast<int>(reader.integer(node["maxzoom"], key + ".maxzoom", 0, max_zoom));
  if (tileset.minzoom > tileset.maxzoom) reader.fail(node, key + ".minzoom", "must not exceed maxzoom");
}

tileset_settings read_tileset(const config_reader& reader, const YAML::Node& node, const std::string& name) {
  const std::string key = "tilesets." + name;
  reader.require_map(node, key);
  reader.reject_unknown_keys(node, key,
                             {"title", "description", "attribution", "style", "legend", "formats", "minzoom",
                              "maxzoom", "bounds", "center", "metatile", "buffer", "vector", "cache_control",
                              "max_age", "postgis_tables"});
  tileset_settings tileset;
  tileset.name = name;
  tileset.title = node["title"] ? reader.string(node["title"], key + ".title") : name;
  if (node["description"]) tileset.description = reader.string(node["description"], key + ".description");
  if (node["attribution"]) tileset.attribution = reader.string(node["attribution"], key + ".attribution");
  if (!node["style"]) reader.fail(node, key + ".style", "missing; give the path of a Mapnik XML style");
  tileset.style = reader.existing_file(node["style"], key + ".style");
  if (node["legend"]) tileset.legend = reader.existing_file(node["legend"], key + ".legend");
  if (node["formats"]) tileset.formats = read_formats(reader, node["formats"], key + ".formats");
  read_tileset_zooms(reader, node, key, tileset);
  if (node["bounds"]) tileset.bounds = read_bounds(reader, node["bounds"], key + ".bounds");
  tileset.center_lon = (tileset.bounds.minx + tileset.bounds.maxx) / 2;
  tileset.center_lat = (tileset.bounds.miny + tileset.bounds.maxy) / 2;
  tileset.center_zoom = tileset.minzoom;
  if (node["center"]) read_center(reader, node["center"], key + ".center", tileset);
  if (node["metatile"]) {
    const auto size = reader.integer(node["metatile"], key + ".metatile", 1, 16);
    if (!is_power_of_two(size)) reader.fail(node["metatile"], key + ".metatile", "must be 1, 2, 4, 8 or 16");
    tileset.metatile = static_cast<std::uint32_t>(size);
  }
  if (node["buffer"]) tileset.buffer = static_cast<std::uint32_t>(reader.integer(node["buffer"], key + ".buffer", 0, 1024));
  tileset.vector = read_vector(reader, node["vector"], key + ".vector");
  if (node["cache_control"]) tileset.cache_control = read_cache_control(reader, node["cache_control"], key + ".cache_control");
  if (node["max_age"]) tileset.max_age = read_max_age(reader, node["max_age"], key + ".max_age");
  if (node["postgis_tables"]) {
    tileset.postgis_tables = reader.string_list(node["postgis_tables"], key + ".postgis_tables");
    for (const auto& table : tileset.postgis_tables) {
      if (table.find('.') == std::string::npos || table.front() == '.' || table.back() == '.') {
        reader.fail(node["postgis_tables"], key + ".postgis_tables",
                    "must name tables as schema.table, as the change table records them; got '" + table + "'");
      }
    }
  }
  return tileset;
}

void require_field_name(const config_reader& reader, const YAML::Node& node, const std::string& key) {
  const std::string name = reader.string(node, key);
  if (name.empty()) reader.fail(node, key, "must not be empty; give a field name of the source layer");
}

void read_collection_time(const config_reader& reader, const YAML::Node& node, const std::string& key,
                          collection_settings& collection) {
  if (node["datetime"]) {
    require_field_name(reader, node["datetime"], key + ".datetime");
    collection.datetime = reader.string(node["datetime"], key + ".datetime");
  }
  if (node["datetime_end"]) {
    if (!node["datetime"]) {
      reader.fail(node["datetime_end"], key + ".datetime_end",
                  "needs datetime too; set datetime to the field that starts each feature's interval");
    }
    require_field_name(reader, node["datetime_end"], key + ".datetime_end");
    collection.datetime_end = reader.string(node["datetime_end"], key + ".datetime_end");
  }
}

collection_settings read_collection(const config_reader& reader, const YAML::Node& node, const std::string& id,
                                    int line) {
  const std::string key = "collections." + id;
  reader.require_map(node, key);
  reader.reject_unknown_keys(node, key,
                             {"title", "description", "attribution", "source", "layer", "srs", "queryables",
                              "datetime", "datetime_end", "point_query"});
  collection_settings collection;
  collection.id = id;
  collection.line = line;
  collection.title = node["title"] ? reader.string(node["title"], key + ".title") : id;
  if (node["description"]) collection.description = reader.string(node["description"], key + ".description");
  if (node["attribution"]) collection.attribution = reader.string(node["attribution"], key + ".attribution");
  if (!node["source"]) {
    reader.fail(node, key + ".source", "missing; give the path of a vector file (GeoPackage, Shapefile, GeoJSON)");
  }
  const std::string source = reader.string(node["source"], key + ".source");
  collection.source = source.starts_with("PG:") ? std::filesystem::path(source)
                                                 : reader.existing_file(node["source"], key + ".source");
  if (node["layer"]) collection.layer = reader.string(node["layer"], key + ".layer");
  if (node["srs"]) {
    collection.srs = reader.string(node["srs"], key + ".srs");
    if (collection.srs.empty()) reader.fail(node["srs"], key + ".srs", "must not be empty; give for example EPSG:2154");
  }
  if (node["queryables"]) {
    collection.queryables = reader.string_list(node["queryables"], key + ".queryables");
    std::set<std::string> seen;
    for (const auto& name : collection.queryables) {
      if (name.empty() || !seen.insert(name).second) {
        reader.fail(node["queryables"], key + ".queryables", "must list distinct, non-empty field names");
      }
    }
  }
  read_collection_time(reader, node, key, collection);
  if (node["point_query"]) collection.point_query = reader.boolean(node["point_query"], key + ".point_query");
  return collection;
}

std::map<std::string, collection_settings> read_collections(const config_reader& reader, const YAML::Node& node) {
  std::map<std::string, collection_settings> collections;
  if (!node) return collections;
  reader.require_map(node, "collections");
  for (const auto& entry : node) {
    const auto id = entry.first.as<std::string>();
    if (!is_valid_tileset_name(id)) {
      reader.fail(entry.first, "collections." + id, "invalid collection id; use 1 to 64 letters, digits, '-' or '_'");
    }
    const int line = entry.first.Mark().line >= 0 ? entry.first.Mark().line + 1 : 0;
    collections.emplace(id, read_collection(reader, entry.second, id, line));
  }
  return collections;
}

point_query_settings read_point_query(const config_reader& reader, const YAML::Node& node) {
  point_query_settings settings;
  if (!node) return settings;
  const std::string key = "ogc.point_query";
  reader.require_map(node, key);
  reader.reject_unknown_keys(node, key, {"default_radius_m", "max_radius_m"});
  // A point query is a local search: 100 km bounds the features one query
  // reads from each collection.
  constexpr double radius_limit_m = 100000;
  if (node["max_radius_m"]) {
    settings.max_radius_m = reader.number(node["max_radius_m"], key + ".max_radius_m", 1, radius_limit_m);
  }
  if (node["default_radius_m"]) {
    settings.default_radius_m =
        reader.number(node["default_radius_m"], key + ".default_radius_m", 1, radius_limit_m);
  }
  if (settings.default_radius_m > settings.max_radius_m) {
    reader.fail(node, key + ".default_radius_m", "must not exceed ogc.point_query.max_radius_m");
  }
  return settings;
}

void read_ogc_limits(const config_reader& reader, const YAML::Node& node, ogc_settings& ogc) {
  // 10000 features of a detailed layer already make a response of hundreds
  // of megabytes.
  constexpr long long limit_ceiling = 10000;
  if (node["max_limit"]) {
    ogc.max_limit = static_cast<unsigned>(reader.integer(node["max_limit"], "ogc.max_limit", 1, limit_ceiling));
  }
  if (node["default_limit"]) {
    ogc.default_limit =
        static_cast<unsigned>(reader.integer(node["default_limit"], "ogc.default_limit", 1, limit_ceiling));
  }
  if (ogc.default_limit > ogc.max_limit) {
    reader.fail(node["default_limit"] ? node["default_limit"] : node["max_limit"], "ogc.default_limit",
                "must not exceed ogc.max_limit (" + std::to_string(ogc.max_limit) + ")");
  }
}

ogc_settings read_ogc(const config_reader& reader, const YAML::Node& node) {
  ogc_settings ogc;
  if (!node) return ogc;
  reader.require_map(node, "ogc");
  reader.reject_unknown_keys(node, "ogc",
                             {"base_path", "title", "description", "threads", "default_limit", "max_limit",
                              "coordinate_precision", "point_query"});
  if (node["base_path"]) {
    ogc.base_path = reader.string(node["base_path"], "ogc.base_path");
    if (!is_valid_ogc_base_path(ogc.base_path)) {
      reader.fail(node["base_path"], "ogc.base_path",
                  "invalid path '" + ogc.base_path +
                      "'; use '/' and letters, digits, '-', '_' or '/', with no trailing '/', outside "
                      "/tiles, /catalog, /health, /metrics, /legends, /styles, /web, /query and /wmts");
    }
  }
  if (node["title"]) ogc.title = reader.string(node["title"], "ogc.title");
  if (node["description"]) ogc.description = reader.string(node["description"], "ogc.description");
  if (node["threads"]) ogc.threads = static_cast<unsigned>(reader.integer(node["threads"], "ogc.threads", 1, 64));
  read_ogc_limits(reader, node, ogc);
  if (node["coordinate_precision"]) {
    ogc.coordinate_precision =
        static_cast<int>(reader.integer(node["coordinate_precision"], "ogc.coordinate_precision", 0, 15));
  }
  ogc.point_query = read_point_query(reader, node["point_query"]);
  return ogc;
}

}  // namespace

config_error::config_error(const std::filesystem::path& file, const std::string& key, int line,
                           const std::string& reason)
    : std::runtime_error(format_config_error(file, key, line, reason)) {}

listen_address parse_listen_address(const std::string& text) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) {
    throw std::invalid_argument("must be HOST:PORT, for example 127.0.0.1:8080, got '" + text + "'");
  }
  listen_address address;
  address.host = text.substr(0, colon);
  if (address.host.size() > 2 && address.host.front() == '[' && address.host.back() == ']') {
    address.host = address.host.substr(1, address.host.size() - 2);
  }
  const std::string port = text.substr(colon + 1);
  unsigned value = 0;
  const auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (error != std::errc{} || end != port.data() + port.size() || value > 65535) {
    throw std::invalid_argument("port must be a number from 0 to 65535, got '" + port + "'");
  }
  address.port = static_cast<std::uint16_t>(value);
  return address;
}

bool is_valid_tileset_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

bool is_valid_ogc_base_path(std::string_view path) {
  if (path.size() < 2 || path.size() > 65 || path.front() != '/' || path.back() == '/') return false;
  if (path.find("//") != std::string_view::npos) return false;
  const bool allowed_characters = std::all_of(path.begin(), path.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '/';
  });
  if (!allowed_characters) return false;
  const std::string_view first_segment = path.substr(1, path.find('/', 1) - 1);
  static const std::set<std::string_view> taken{"tiles",  "catalog", "health", "metrics", "legends",
                                                "styles", "web",     "query",  "wmts"};
  return !taken.contains(first_segment);
}

bool tileset_settings::serves(tile_format format) const {
  return std::find(formats.begin(), formats.end(), format) != formats.end();
}

namespace {

config read_config(const std::string& yaml_text, const std::filesystem::path& file) {
  const config_reader reader(file);
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::ParserException& error) {
    throw config_error(file, "", error.mark.line + 1, "invalid YAML: " + error.msg);
  }
  if (!root.IsMap()) throw config_error(file, "", 0, "must be a YAML mapping with a 'tilesets' key");
  reader.reject_unknown_keys(root, "", {"server", "cache", "postgis", "tilesets", "collections", "ogc"});

  config result;
  result.file = file;
  result.server = read_server(reader, root["server"]);
  result.cache = read_cache(reader, root["cache"]);
  result.postgis = read_postgis(reader, root["postgis"]);
  const auto tilesets = root["tilesets"];
  if (!tilesets) throw config_error(file, "tilesets", 0, "missing; the server needs at least one tileset");
  reader.require_map(tilesets, "tilesets");
  for (const auto& entry : tilesets) {
    const auto name = entry.first.as<std::string>();
    if (!is_valid_tileset_name(name)) {
      reader.fail(entry.first, "tilesets." + name,
                  "invalid tileset name; use 1 to 64 letters, digits, '-' or '_'");
    }
    result.tilesets.emplace(name, read_tileset(reader, entry.second, name));
  }
  if (result.tilesets.empty()) throw config_error(file, "tilesets", 0, "must name at least one tileset");
  for (const auto& [name, tileset] : result.tilesets) {
    if (!tileset.postgis_tables.empty() && result.postgis.changes_channel.empty()) {
      reader.fail(tilesets[name]["postgis_tables"], "tilesets." + name + ".postgis_tables",
                  "needs postgis.changes_channel, the channel on which edits are announced");
    }
  }
  result.collections = read_collections(reader, root["collections"]);
  result.ogc = read_ogc(reader, root["ogc"]);
  return result;
}

}  // namespace

config parse_config(const std::string& yaml_text, const std::filesystem::path& file) {
  try {
    return read_config(yaml_text, file);
  } catch (const YAML::Exception& error) {
    // yaml-cpp throws on a conversion that the reader does not check first, such as a key that is a
    // list or a mapping instead of a name; it is reported like any other configuration error.
    const int line = error.mark.is_null() ? 0 : error.mark.line + 1;
    throw config_error(file, "", line,
                       "unexpected YAML structure (yaml-cpp: " + error.msg +
                           "); write each key as a plain name, not as a list or a mapping");
  }
}

config load_config(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) throw config_error(file, "", 0, "cannot read the configuration file; check the path and permissions");
  std::stringstream text;
  text << in.rdbuf();
  return parse_config(text.str(), std::filesystem::absolute(file));
}

}  // namespace tuilerie
