// PostGIS support for the serve and seed commands: libpq settings, the
// database reachability check, and the listener that purges edited tiles.
#pragma once

#include "render/tile_grid.hpp"
#include "server/config.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace tuilerie {

class tile_store;

// Sets the PG* environment variables from the postgis section, so that both
// Mapnik and GDAL connect with them: keys the file gives replace the
// environment's, the others keep it. Adds the statement timeout to PGOPTIONS.
// Call before any thread starts, as setenv is not thread-safe.
void apply_postgis_environment(const postgis_settings& postgis);

// Whether a new connection to the database succeeds within the connect
// timeout. Tells a database outage (503) from a broken query (500).
bool postgis_reachable();

// Whether an error message reports that the database ended the connection the
// query ran on (a restart, pg_terminate_backend, an idle timeout), rather than
// that the query itself failed. The phrases are libpq's own, and they stay in
// English because the process never leaves the C locale.
bool is_lost_connection(std::string_view error);

// One row of tuilerie.changes: a table's edited rows' box in degrees.
struct table_change {
  std::int64_t id = 0;
  std::string table;  // schema.table
  bbox lonlat;
};

// Purges the cached tiles that the edits touched, at every zoom of each
// tileset that lists an edited table in postgis_tables, in one pass per
// tileset. Each box grows by the tileset's buffer at each zoom, since symbols
// drawn from a feature reach that far. Returns the number of entries deleted.
std::uint64_t purge_changed_tiles(const config& settings, tile_store& store, const std::vector<table_change>& changes);

// The tilesets that list the table in postgis_tables.
std::vector<std::string> tilesets_reading(const config& settings, const std::string& table);

// Follows tuilerie.changes (sql/tuilerie-changes.sql) on its own thread and
// connection. A NOTIFY on postgis.changes_channel wakes it, and it also reads
// the table every changes_poll_seconds. The last applied id is kept in a
// file beside the cache, so edits made while the server was down are
// purged at the next start. Without that file the stale cached tiles are
// unknown, so on_history_unknown is called once. The
// constructor returns after the first catch-up, so that a restarted server
// never serves a tile that an edit made while it was stopped left stale,
// or after its first failure to reach the database.
class postgis_change_listener {
 public:
  using change_function = std::function<void(const std::vector<table_change>&)>;
  using history_function = std::function<void()>;

  postgis_change_listener(const postgis_settings& postgis, std::filesystem::path state_file,
                          change_function on_change, history_function on_history_unknown);
  ~postgis_change_listener();
  postgis_change_listener(const postgis_change_listener&) = delete;
  postgis_change_listener& operator=(const postgis_change_listener&) = delete;

  // Stops the thread and closes the connection; called by the destructor.
  void stop();

 private:
  void run();
  void finish_first_pass();
  bool wait_or_stop(std::chrono::milliseconds delay);

  postgis_settings postgis_;
  std::filesystem::path state_file_;
  change_function on_change_;
  history_function on_history_unknown_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool first_pass_done_ = false;  // caught up once, or failed once
  std::thread thread_;
};

}  // namespace tuilerie
