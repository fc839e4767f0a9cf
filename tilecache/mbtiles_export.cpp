// MBTiles 1.3 export: the schema, the metadata rows and the TMS row flip, written with SQLite's C API.
#include "tilecache/mbtiles_export.hpp"

#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>
#include <limits>
#include <system_error>
#include <utility>
#include <vector>

namespace tuilerie {

namespace {

// MBTiles' application id, 0x4d504258 ("MPBX"), from the list of assigned
// numbers in SQLite's magic.txt, so that file(1) and GDAL recognise the file.
constexpr int mbtiles_application_id = 0x4d504258;

// The tables and unique indexes of MBTiles 1.3, section "Database".
constexpr const char* mbtiles_schema =
    "CREATE TABLE metadata (name TEXT, value TEXT);"
    "CREATE UNIQUE INDEX metadata_index ON metadata (name);"
    "CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB);"
    "CREATE UNIQUE INDEX tile_index ON tiles (zoom_level, tile_column, tile_row);";

// An open SQLite database. close() reports errors, and the destructor
// quietly closes a database that a failure left open.
class sqlite_database {
 public:
  explicit sqlite_database(std::filesystem::path path) : path_(std::move(path)) {
    const int code = sqlite3_open_v2(path_.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
    if (code != SQLITE_OK) {
      const std::string reason = db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(code);
      sqlite3_close_v2(db_);
      db_ = nullptr;
      throw mbtiles_error("cannot create the MBTiles file '" + path_.string() + "': " + reason);
    }
  }
  ~sqlite_database() { sqlite3_close_v2(db_); }
  sqlite_database(const sqlite_database&) = delete;
  sqlite_database& operator=(const sqlite_database&) = delete;

  void execute(const std::string& sql, const std::string& action) {
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) fail(action);
  }

  void close() {
    if (sqlite3_close(db_) != SQLITE_OK) fail("closing");
    db_ = nullptr;
  }

  [[noreturn]] void fail(const std::string& action) const {
    throw mbtiles_error("MBTiles file '" + path_.string() + "': " + action + " failed: " + sqlite3_errmsg(db_));
  }

  sqlite3* handle() const { return db_; }

 private:
  std::filesystem::path path_;
  sqlite3* db_ = nullptr;
};

// A prepared statement, reset after each row so it can insert the next.
class sqlite_statement {
 public:
  sqlite_statement(sqlite_database& db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db.handle(), sql, -1, &statement_, nullptr) != SQLITE_OK) {
      db.fail(std::string("preparing ") + sql);
    }
  }
  ~sqlite_statement() { sqlite3_finalize(statement_); }
  sqlite_statement(const sqlite_statement&) = delete;
  sqlite_statement& operator=(const sqlite_statement&) = delete;

  void bind(int index, std::int64_t value) { check(sqlite3_bind_int64(statement_, index, value)); }

  void bind(int index, const std::string& text) {
    check(sqlite3_bind_text(statement_, index, text.data(), static_cast<int>(text.size()), SQLITE_STATIC));
  }

  // Binds bytes that must stay alive until run() returns.
  void bind_blob(int index, const std::string& bytes) {
    check(sqlite3_bind_blob64(statement_, index, bytes.data(), bytes.size(), SQLITE_STATIC));
  }

  void run() {
    if (sqlite3_step(statement_) != SQLITE_DONE) db_.fail("inserting a row");
    check(sqlite3_reset(statement_));
    check(sqlite3_clear_bindings(statement_));
  }

 private:
  void check(int code) {
    if (code != SQLITE_OK) db_.fail("binding a value");
  }

  sqlite_database& db_;
  sqlite3_stmt* statement_ = nullptr;
};

// Removes the file on scope exit unless it was kept, so a failed export leaves
// no partial file behind.
class partial_file_guard {
 public:
  explicit partial_file_guard(std::filesystem::path path) : path_(std::move(path)) {}
  ~partial_file_guard() {
    if (path_.empty()) return;
    std::error_code ignored;
    std::filesystem::remove(path_, ignored);
  }
  partial_file_guard(const partial_file_guard&) = delete;
  partial_file_guard& operator=(const partial_file_guard&) = delete;

  void keep() { path_.clear(); }

 private:
  std::filesystem::path path_;
};

// Counts the tiles as they are written and tracks what the metadata needs.
struct export_progress {
  mbtiles_export_result result;
  int minzoom = std::numeric_limits<int>::max();
  int maxzoom = std::numeric_limits<int>::min();
  tile_range maxzoom_tiles;  // the extent of the tiles written at maxzoom
  std::int64_t newest_created_unix = 0;

  void add(const tile_id& tile) {
    minzoom = std::min(minzoom, tile.z);
    if (tile.z > maxzoom) {
      maxzoom = tile.z;
      maxzoom_tiles = {tile.z, tile.x, tile.y, tile.x, tile.y};
      return;
    }
    if (tile.z < maxzoom) return;
    maxzoom_tiles.min_x = std::min(maxzoom_tiles.min_x, tile.x);
    maxzoom_tiles.min_y = std::min(maxzoom_tiles.min_y, tile.y);
    maxzoom_tiles.max_x = std::max(maxzoom_tiles.max_x, tile.x);
    maxzoom_tiles.max_y = std::max(maxzoom_tiles.max_y, tile.y);
  }
};

// The extent of a range of tiles in degrees.
bbox lonlat_extent(const tile_range& tiles) {
  const bbox north_west = lonlat_bounds({tiles.z, tiles.min_x, tiles.min_y});
  const bbox south_east = lonlat_bounds({tiles.z, tiles.max_x, tiles.max_y});
  return {north_west.minx, south_east.miny, south_east.maxx, north_west.maxy};
}

// TMS numbers rows from the south edge, XYZ from the north (MBTiles 1.3,
// "Content" of the tiles table): tile 11/327/791 is stored in row 1256.
std::int64_t tms_row(const tile_id& tile) {
  return static_cast<std::int64_t>(tiles_per_side(tile.z)) - 1 - static_cast<std::int64_t>(tile.y);
}

void insert_tile(sqlite_statement& insert, const tile_id& tile, const std::string& body) {
  insert.bind(1, std::int64_t{tile.z});
  insert.bind(2, std::int64_t{tile.x});
  insert.bind(3, tms_row(tile));
  insert.bind_blob(4, body);
  insert.run();
}

// Writes the entry's tile when it belongs to the export and is fresh. The
// entry is read again with get(), which checks the body, because it may have
// been replaced or deleted since it was listed.
void export_entry(tile_store& store, const mbtiles_export_request& request, const tile_entry& entry,
                  sqlite_statement& insert, export_progress& progress) {
  if (entry.key.format != request.format || entry.key.scale != request.scale) return;
  auto& result = progress.result;
  if (!entry.valid_header || entry.data_version != request.data_version) {
    ++result.stale_skipped;
    return;
  }
  if (entry.body_bytes == 0) {
    ++result.empty_skipped;
    return;
  }
  const auto tile = store.get(entry.key);
  if (!tile || tile->data_version != request.data_version) {
    ++result.stale_skipped;
    return;
  }
  if (tile->body.empty()) {
    ++result.empty_skipped;
    return;
  }

  insert_tile(insert, entry.key.tile, tile->body);
  ++result.tiles_written;
  result.bytes_written += tile->body.size();
  progress.add(entry.key.tile);
  progress.newest_created_unix = std::max(progress.newest_created_unix, tile->created_unix);
}

std::vector<std::pair<std::string, std::string>> metadata_rows(const mbtiles_export_request& request,
                                                               const export_progress& progress) {
  const mbtiles_metadata& metadata = request.metadata;
  const bbox bounds = lonlat_extent(progress.maxzoom_tiles);
  const bool center_inside = bounds.contains(metadata.center_lon, metadata.center_lat);
  const double center_lon = center_inside ? metadata.center_lon : (bounds.minx + bounds.maxx) / 2;
  const double center_lat = center_inside ? metadata.center_lat : (bounds.miny + bounds.maxy) / 2;
  const int center_zoom = std::clamp(metadata.center_zoom, progress.minzoom, progress.maxzoom);
  std::vector<std::pair<std::string, std::string>> rows{
      {"name", metadata.name},
      {"format", mbtiles_format_name(request.format)},
      {"bounds", fmt::format("{},{},{},{}", bounds.minx, bounds.miny, bounds.maxx, bounds.maxy)},
      {"center", fmt::format("{},{},{}", center_lon, center_lat, center_zoom)},
      {"minzoom", std::to_string(progress.minzoom)},
      {"maxzoom", std::to_string(progress.maxzoom)},
      {"attribution", metadata.attribution},
      {"description", metadata.description},
      {"type", "overlay"},
      // The creation time of the newest tile, in Unix seconds: a plain number,
      // as MBTiles 1.3 requires, that grows when tiles are rendered again.
      {"version", std::to_string(progress.newest_created_unix)},
      {"scheme", "tms"},
      // Tuilerie's hash of the style and data files that the tiles come from.
      {"tuilerie_data_version", fmt::format("{:016x}", request.data_version)},
  };
  if (!metadata.json.empty()) rows.emplace_back("json", metadata.json);
  return rows;
}

void insert_metadata(sqlite_database& db, const std::vector<std::pair<std::string, std::string>>& rows) {
  sqlite_statement insert(db, "INSERT INTO metadata (name, value) VALUES (?, ?)");
  for (const auto& [name, value] : rows) {
    insert.bind(1, name);
    insert.bind(2, value);
    insert.run();
  }
}

// Writes the export into path and returns what it wrote. The file is
// complete when this returns.
export_progress write_mbtiles(tile_store& store, const mbtiles_export_request& request,
                              const std::filesystem::path& path) {
  export_progress progress;
  sqlite_database db(path);
  db.execute(fmt::format("PRAGMA application_id = {};", mbtiles_application_id), "setting the application id");
  db.execute(mbtiles_schema, "creating the tables");
  // One transaction for all rows: SQLite syncs once instead of once per tile.
  db.execute("BEGIN;", "starting a transaction");
  {
    sqlite_statement insert(db, "INSERT INTO tiles (zoom_level, tile_column, tile_row, tile_data) VALUES (?, ?, ?, ?)");
    store.for_each_entry(request.tileset,
                         [&](const tile_entry& entry) { export_entry(store, request, entry, insert, progress); });
  }
  if (progress.result.tiles_written > 0) {
    insert_metadata(db, metadata_rows(request, progress));
    progress.result.minzoom = progress.minzoom;
    progress.result.maxzoom = progress.maxzoom;
  }
  db.execute("COMMIT;", "committing the tiles");
  db.close();
  return progress;
}

std::filesystem::path partial_path(const std::filesystem::path& output) {
  std::filesystem::path partial = output;
  partial += ".partial";
  return partial;
}

}  // namespace

std::string mbtiles_format_name(tile_format format) {
  switch (format) {
    case tile_format::png:
      return "png";
    case tile_format::webp:
      return "webp";
    case tile_format::mvt:
      return "pbf";
  }
  throw std::invalid_argument("unknown tile format " + std::to_string(static_cast<int>(format)));
}

mbtiles_export_result export_mbtiles(tile_store& store, const mbtiles_export_request& request) {
  const std::filesystem::path partial = partial_path(request.output);
  // A partial file is left only by an export that was killed: start afresh.
  std::error_code error;
  std::filesystem::remove(partial, error);
  if (error) {
    throw mbtiles_error("cannot remove the partial file '" + partial.string() + "' of an earlier export: " +
                        error.message());
  }

  partial_file_guard guard(partial);
  const export_progress progress = write_mbtiles(store, request, partial);
  if (progress.result.tiles_written == 0) return progress.result;

  std::filesystem::rename(partial, request.output, error);
  if (error) {
    throw mbtiles_error("cannot rename '" + partial.string() + "' to '" + request.output.string() +
                        "': " + error.message());
  }
  guard.keep();
  return progress.result;
}

}  // namespace tuilerie
