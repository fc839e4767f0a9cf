// Tuilerie's configuration: the YAML file's schema as types, and its loader.
#pragma once

#include "render/tile_format.hpp"
#include "render/tile_grid.hpp"
#include "render/vector_settings.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace tuilerie {

// A configuration that cannot be used. The message names the file, the key
// (as a dotted path), the line when yaml-cpp reports one, and what to fix.
class config_error : public std::runtime_error {
 public:
  config_error(const std::filesystem::path& file, const std::string& key, int line,
               const std::string& reason);
};

struct listen_address {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;
};

// Parses "HOST:PORT" (or "[v6]:PORT"); throws std::invalid_argument.
listen_address parse_listen_address(const std::string& text);

// Limits enforced on every connection and render, named where they are
// enforced (http_server.cpp, render_pool.cpp, router.cpp).
struct server_limits {
  std::uint32_t max_connections = 1024;  // beyond it a new connection gets 503 and is closed
  std::uint32_t header_bytes = 8 * 1024;  // request line and headers together; beyond it 431
  std::uint32_t request_timeout_seconds = 30;  // one whole request, slow senders included
  double render_timeout_seconds = 30;          // beyond it the request gets 504; fractions allowed
  std::uint32_t render_queue = 256;            // waiting renders; beyond it 503 with Retry-After
};

struct server_settings {
  listen_address listen;
  unsigned io_threads = 2;
  unsigned render_threads = 2;
  // Origins allowed by CORS; "*" allows every origin.
  std::vector<std::string> cors_origins{"*"};
  // The viewer's files; web_root/node_modules contains the npm packages it uses.
  std::filesystem::path web_root;
  // Bearer token for /admin routes; empty disables them. The environment
  // variable TUILERIE_ADMIN_TOKEN, when set, overrides the file.
  std::string admin_token;
  server_limits limits;
};

struct cache_settings {
  std::filesystem::path path = "var/cache";
  // The LMDB map starts at initial_size_mb and grows up to max_size_mb.
  std::uint64_t initial_size_mb = 64;
  std::uint64_t max_size_mb = 1024;
  // Render layers stored in another SRS from Web Mercator copies kept in
  // path/mercator, made once per version of their file.
  bool mercator_copies = true;
};

// The PostgreSQL server that postgis layers (Mapnik's postgis input) and PG:
// collections (GDAL's PostgreSQL driver) read. Keys left empty or 0 come from
// the PG* environment variables, then from libpq's defaults. There is no
// password key: libpq reads PGPASSWORD or the ~/.pgpass file.
struct postgis_settings {
  bool configured = false;  // the file has a postgis section
  std::string host;
  std::uint16_t port = 0;
  std::string dbname;
  std::string user;
  unsigned pool_size = 0;  // connections per postgis datasource; 0 means server.render_threads
  std::uint32_t statement_timeout_ms = 30000;
  std::uint32_t connect_timeout_seconds = 5;
  // The LISTEN channel on which the tuilerie.record_change() trigger
  // (sql/tuilerie-changes.sql) announces edits; empty disables edit tracking.
  std::string changes_channel;
  // How often the change table is read even without a notification, as a
  // safety net for a notification lost with a connection.
  std::uint32_t changes_poll_seconds = 30;
};

struct cache_control_rule {
  int minzoom = 0;
  int maxzoom = max_zoom;
  std::string value;  // the Cache-Control header sent for tiles in this range
};

struct max_age_rule {
  int minzoom = 0;
  int maxzoom = max_zoom;
  std::int64_t seconds = 0;
};

struct tileset_settings {
  std::string name;
  std::string title;
  std::string description;
  std::string attribution;
  std::filesystem::path style;   // Mapnik XML
  std::optional<std::filesystem::path> legend;  // JSON legend shown by the viewer
  std::vector<tile_format> formats{tile_format::png, tile_format::webp};
  int minzoom = 0;
  int maxzoom = 18;
  bbox bounds{-180, -mercator_max_latitude, 180, mercator_max_latitude};  // degrees
  double center_lon = 0;
  double center_lat = 0;
  int center_zoom = 2;
  std::uint32_t metatile = 8;   // tiles per side, a power of two
  std::uint32_t buffer = 128;   // pixels rendered around a metatile, then cropped
  vector_settings vector;
  std::vector<cache_control_rule> cache_control;
  // Cached tiles older than this are rendered again on request; the first
  // rule whose zoom range covers the tile applies, and none means no expiry.
  std::vector<max_age_rule> max_age;
  // PostGIS tables ("schema.table") whose edits purge the tiles they touch,
  // read from the change table that postgis.changes_channel announces.
  std::vector<std::string> postgis_tables;

  bool serves(tile_format format) const;
  bool serves_zoom(int z) const { return z >= minzoom && z <= maxzoom; }
};

// A vector layer served as an OGC API - Features collection and, when
// point_query is set, searched by /query.
struct collection_settings {
  std::string id;
  std::string title;
  std::string description;
  std::string attribution;
  // Any vector file GDAL opens (GeoPackage, Shapefile, GeoJSON...), or "PG:"
  // followed by libpq connection keywords for a PostGIS database.
  std::filesystem::path source;
  std::string layer;             // the layer inside source; empty when source contains one layer
  // The source's CRS (EPSG:NNNN or any definition PROJ reads), with x as
  // easting or longitude. Required when the source declares none; overrides
  // the source's own otherwise.
  std::string srs;
  // Properties that clients may filter on with ?name=value; string, integer
  // and real fields only.
  std::vector<std::string> queryables;
  // Date or DateTime field that the datetime parameter filters on; empty for
  // a collection without time. datetime_end, when set, ends each feature's
  // time interval.
  std::string datetime;
  std::string datetime_end;
  bool point_query = false;
  int line = 0;  // of the collection's key in the configuration file, for errors found later
};

struct point_query_settings {
  double default_radius_m = 500;  // search radius for points and lines when the request gives none
  double max_radius_m = 5000;
};

struct ogc_settings {
  // URL path of the OGC API landing page: "/" followed by letters, digits,
  // '-', '_' or '/', with no trailing "/".
  std::string base_path = "/ogc";
  std::string title = "Tuilerie";
  std::string description;
  unsigned threads = 2;  // worker threads reading features through GDAL
  unsigned default_limit = 10;
  // Larger limit values are lowered to this one, as OGC API - Features
  // allows; it bounds the memory one response takes.
  unsigned max_limit = 1000;
  // Decimals written for coordinates in degrees: 7 is about a centimetre.
  int coordinate_precision = 7;
  point_query_settings point_query;
};

struct config {
  std::filesystem::path file;
  server_settings server;
  cache_settings cache;
  postgis_settings postgis;
  // Sorted by name, so listings are stable.
  std::map<std::string, tileset_settings> tilesets;
  // Sorted by id, so listings are stable.
  std::map<std::string, collection_settings> collections;
  ogc_settings ogc;
};

// Whether a tileset name has 1 to 64 letters, digits, '-' or '_', the only
// characters allowed, so names are safe in URLs, file names and cache keys.
bool is_valid_tileset_name(std::string_view name);

// Whether a path can be ogc.base_path: "/" followed by 1 to 64 letters,
// digits, '-', '_' or '/', without a trailing or doubled "/", and outside
// the server's other routes.
bool is_valid_ogc_base_path(std::string_view path);

// Loads and validates a configuration file. Relative paths in it are taken
// from the file's directory. Throws config_error.
config load_config(const std::filesystem::path& file);

// The same, from YAML text; `file` names the origin in error messages and
// anchors relative paths.
config parse_config(const std::string& yaml_text, const std::filesystem::path& file);

}  // namespace tuilerie
