// libpq settings, the reachability check and the change listener.
#include "server/postgis.hpp"

#include "tilecache/tile_store.hpp"

#include <libpq-fe.h>
#include <poll.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <memory>

namespace tuilerie {

namespace {

void set_variable(const char* name, const std::string& value) {
  if (!value.empty()) ::setenv(name, value.c_str(), 1);
}

struct connection_closer {
  void operator()(PGconn* connection) const { PQfinish(connection); }
};
using connection_ptr = std::unique_ptr<PGconn, connection_closer>;

struct result_clearer {
  void operator()(PGresult* result) const { PQclear(result); }
};
using result_ptr = std::unique_ptr<PGresult, result_clearer>;

// An empty conninfo: libpq takes every setting from the PG* variables.
connection_ptr connect_from_environment() { return connection_ptr(PQconnectdb("")); }

std::string connection_error(PGconn* connection) {
  std::string message = connection ? PQerrorMessage(connection) : "out of memory";
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  return message;
}

// The degrees of longitude that `pixels` span at zoom z; in latitude the
// same pixels span fewer degrees, so this bounds both.
double pixels_in_degrees(std::uint32_t pixels, int z) { return pixels * 360.0 / (256.0 * std::exp2(z)); }

bbox grown_box(const bbox& box, double margin) {
  return {std::max(-180.0, box.minx - margin), std::max(-mercator_max_latitude, box.miny - margin),
          std::min(180.0, box.maxx + margin), std::min(mercator_max_latitude, box.maxy + margin)};
}

std::optional<std::int64_t> read_last_id(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::int64_t id = 0;
  if (in >> id) return id;
  return std::nullopt;
}

// Written to a temporary file then renamed, so a crash leaves the old or the
// new id, never a partial one.
void write_last_id(const std::filesystem::path& file, std::int64_t id) {
  const auto temporary = file.string() + ".tmp" + std::to_string(::getpid());
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << id << '\n';
    if (!out) {
      spdlog::error("cannot write {}; edits may be purged twice after a restart", temporary);
      return;
    }
  }
  std::error_code error;
  std::filesystem::rename(temporary, file, error);
  if (error) spdlog::error("cannot rename {} to {}: {}", temporary, file.string(), error.message());
}

// Reads up to `batch` changes after last_id. Throws std::runtime_error with
// the server's message when the query fails.
std::vector<table_change> read_changes(PGconn* connection, std::int64_t last_id, int batch) {
  const std::string after = std::to_string(last_id);
  const std::string limit = std::to_string(batch);
  const char* values[] = {after.c_str(), limit.c_str()};
  result_ptr result(PQexecParams(connection,
                                 "SELECT id, table_name, west, south, east, north FROM tuilerie.changes "
                                 "WHERE id > $1::bigint ORDER BY id LIMIT $2::int",
                                 2, nullptr, values, nullptr, nullptr, 0));
  if (PQresultStatus(result.get()) != PGRES_TUPLES_OK) throw std::runtime_error(connection_error(connection));
  std::vector<table_change> changes;
  for (int row = 0; row < PQntuples(result.get()); ++row) {
    table_change change;
    change.id = std::stoll(PQgetvalue(result.get(), row, 0));
    change.table = PQgetvalue(result.get(), row, 1);
    change.lonlat = {std::stod(PQgetvalue(result.get(), row, 2)), std::stod(PQgetvalue(result.get(), row, 3)),
                     std::stod(PQgetvalue(result.get(), row, 4)), std::stod(PQgetvalue(result.get(), row, 5))};
    changes.push_back(std::move(change));
  }
  return changes;
}

std::int64_t newest_change_id(PGconn* connection) {
  result_ptr result(PQexec(connection, "SELECT coalesce(max(id), 0) FROM tuilerie.changes"));
  if (PQresultStatus(result.get()) != PGRES_TUPLES_OK) throw std::runtime_error(connection_error(connection));
  return std::stoll(PQgetvalue(result.get(), 0, 0));
}

}  // namespace

void apply_postgis_environment(const postgis_settings& postgis) {
  if (!postgis.configured) return;
  set_variable("PGHOST", postgis.host);
  if (postgis.port != 0) set_variable("PGPORT", std::to_string(postgis.port));
  set_variable("PGDATABASE", postgis.dbname);
  set_variable("PGUSER", postgis.user);
  set_variable("PGCONNECT_TIMEOUT", std::to_string(postgis.connect_timeout_seconds));
  if (std::getenv("PGAPPNAME") == nullptr) set_variable("PGAPPNAME", "tuilerie");
  // A slow query blocks a render thread, so PostgreSQL cancels it after this.
  std::string options = std::getenv("PGOPTIONS") ? std::getenv("PGOPTIONS") : "";
  options += (options.empty() ? "" : " ") + std::string("-c statement_timeout=") +
             std::to_string(postgis.statement_timeout_ms);
  set_variable("PGOPTIONS", options);
}

bool postgis_reachable() {
  const auto connection = connect_from_environment();
  return connection && PQstatus(connection.get()) == CONNECTION_OK;
}

bool is_lost_connection(std::string_view error) {
  static constexpr std::string_view phrases[] = {
      "server closed the connection unexpectedly", "no connection to the server",
      "could not send data to server",            "could not receive data from server",
      "SSL SYSCALL error",                         "SSL connection has been closed unexpectedly"};
  return std::any_of(std::begin(phrases), std::end(phrases),
                     [error](std::string_view phrase) { return error.find(phrase) != std::string_view::npos; });
}

std::vector<std::string> tilesets_reading(const config& settings, const std::string& table) {
  std::vector<std::string> names;
  for (const auto& [name, tileset] : settings.tilesets) {
    const auto& tables = tileset.postgis_tables;
    if (std::find(tables.begin(), tables.end(), table) != tables.end()) names.push_back(name);
  }
  return names;
}

std::uint64_t purge_changed_tiles(const config& settings, tile_store& store, const std::vector<table_change>& changes) {
  std::uint64_t deleted = 0;
  for (const auto& [name, tileset] : settings.tilesets) {
    const auto& tables = tileset.postgis_tables;
    // Per zoom, the tile ranges that the tileset's changed boxes cover.
    std::vector<std::vector<tile_range>> ranges(max_zoom + 1);
    const std::uint32_t buffer = std::max(tileset.buffer, tileset.vector.buffer);
    bool touched = false;
    for (const auto& change : changes) {
      if (std::find(tables.begin(), tables.end(), change.table) == tables.end()) continue;
      touched = true;
      for (int z = tileset.minzoom; z <= tileset.maxzoom; ++z) {
        ranges[static_cast<std::size_t>(z)].push_back(
            tiles_covering(grown_box(change.lonlat, pixels_in_degrees(buffer, z)), z));
      }
    }
    if (!touched) continue;
    deleted += store.purge_matching(name, [&ranges](const tile_id& tile) {
      for (const auto& range : ranges[static_cast<std::size_t>(tile.z)]) {
        if (tile.x >= range.min_x && tile.x <= range.max_x && tile.y >= range.min_y && tile.y <= range.max_y) {
          return true;
        }
      }
      return false;
    });
  }
  return deleted;
}

postgis_change_listener::postgis_change_listener(const postgis_settings& postgis, std::filesystem::path state_file,
                                                 change_function on_change, history_function on_history_unknown)
    : postgis_(postgis),
      state_file_(std::move(state_file)),
      on_change_(std::move(on_change)),
      on_history_unknown_(std::move(on_history_unknown)) {
  thread_ = std::thread([this] { run(); });
  std::unique_lock lock(mutex_);
  wake_.wait(lock, [this] { return first_pass_done_; });
}

void postgis_change_listener::finish_first_pass() {
  {
    const std::lock_guard lock(mutex_);
    if (first_pass_done_) return;
    first_pass_done_ = true;
  }
  wake_.notify_all();
}

postgis_change_listener::~postgis_change_listener() { stop(); }

void postgis_change_listener::stop() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool postgis_change_listener::wait_or_stop(std::chrono::milliseconds delay) {
  std::unique_lock lock(mutex_);
  return wake_.wait_for(lock, delay, [this] { return stopping_; });
}

void postgis_change_listener::run() {
  constexpr int batch = 1000;
  constexpr auto reconnect_delay = std::chrono::seconds(2);
  // Short, so that stop() is noticed quickly while waiting for notifications.
  constexpr int poll_timeout_ms = 250;
  const std::string listen = "LISTEN \"" + postgis_.changes_channel + "\"";
  std::optional<std::int64_t> last_id = read_last_id(state_file_);

  // A problem is logged when it first appears, not at every retry.
  std::string problem;
  auto report = [&](const std::string& message) {
    finish_first_pass();
    if (message != problem) {
      spdlog::error("PostGIS change listener: {}; retrying every {} s", message, reconnect_delay.count());
    }
    problem = message;
  };
  auto recovered = [&] {
    if (!problem.empty()) spdlog::info("PostGIS change listener works again; edits made meanwhile are purged");
    problem.clear();
  };

  while (!wait_or_stop(std::chrono::milliseconds(0))) {
    auto connection = connect_from_environment();
    result_ptr listening;
    if (PQstatus(connection.get()) == CONNECTION_OK) listening.reset(PQexec(connection.get(), listen.c_str()));
    if (!listening || PQresultStatus(listening.get()) != PGRES_COMMAND_OK) {
      report("cannot listen on '" + postgis_.changes_channel + "': " + connection_error(connection.get()));
      if (wait_or_stop(reconnect_delay)) return;
      continue;
    }
    try {
      if (!last_id) {
        last_id = newest_change_id(connection.get());
        on_history_unknown_();
        write_last_id(state_file_, *last_id);
      }
      auto next_read = std::chrono::steady_clock::now();
      while (!wait_or_stop(std::chrono::milliseconds(0))) {
        if (std::chrono::steady_clock::now() >= next_read) {
          for (auto changes = read_changes(connection.get(), *last_id, batch); !changes.empty();
               changes = read_changes(connection.get(), *last_id, batch)) {
            on_change_(changes);
            last_id = changes.back().id;
            write_last_id(state_file_, *last_id);
          }
          recovered();
          finish_first_pass();
          next_read = std::chrono::steady_clock::now() + std::chrono::seconds(postgis_.changes_poll_seconds);
        }
        pollfd socket{PQsocket(connection.get()), POLLIN, 0};
        if (::poll(&socket, 1, poll_timeout_ms) > 0 && PQconsumeInput(connection.get()) == 0) {
          throw std::runtime_error(connection_error(connection.get()));
        }
        while (PGnotify* notification = PQnotifies(connection.get())) {
          PQfreemem(notification);
          next_read = std::chrono::steady_clock::now();
        }
      }
      return;
    } catch (const std::exception& error) {
      report(error.what());
      if (wait_or_stop(reconnect_delay)) return;
    }
  }
}

}  // namespace tuilerie
