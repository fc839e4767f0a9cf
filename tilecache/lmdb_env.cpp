// Opening an LMDB environment, running transactions and changing the map size.
#include "tilecache/lmdb_env.hpp"

#include "tilecache/tile_store.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <mutex>
#include <set>
#include <system_error>
#include <utility>

namespace tuilerie {

namespace {

// MDB_NOTLS: reader slots belong to transactions, not threads, because pool
// threads run transactions. MDB_NORDAHEAD: tiles are read at random, so the
// kernel's read-ahead would fill the page cache with pages no request needs.
// MDB_NOMETASYNC: the meta page is not flushed on each commit. After an OS
// crash or power loss the last committed transaction may be rolled back, but
// the database stays consistent (LMDB 0.9 documentation of the flag). Losing
// a few cached tiles only means rendering them again. MDB_NOSYNC is not used
// because it can corrupt the database on such a crash.
constexpr unsigned int environment_flags = MDB_NOTLS | MDB_NORDAHEAD | MDB_NOMETASYNC;

// Reader slots in the lock file, shared by every process that opens the
// environment. With MDB_NOTLS each running read transaction takes one, so this
// bounds the concurrent reads of all servers and seeders together; LMDB's
// default of 126 (lmdb.h) is tight for two servers with large thread pools.
constexpr unsigned int max_readers = 512;

// Rounds of MDB_MAP_RESIZED in a row before giving up on one transaction. Each
// round adopts the size another process recorded, so more than one means
// that process keeps growing the map during this call.
constexpr int max_resized_rounds = 8;

// Aborts a transaction on scope exit unless it was released (committed).
class transaction_guard {
 public:
  explicit transaction_guard(MDB_txn* txn) : txn_(txn) {}
  ~transaction_guard() {
    if (txn_ != nullptr) mdb_txn_abort(txn_);
  }
  transaction_guard(const transaction_guard&) = delete;
  transaction_guard& operator=(const transaction_guard&) = delete;

  MDB_txn* release() { return std::exchange(txn_, nullptr); }

 private:
  MDB_txn* txn_;
};

std::uint64_t doubled(std::uint64_t size, std::uint64_t limit) {
  return size > limit / 2 ? limit : std::min(size * 2, limit);
}

constexpr double bytes_per_mib = 1024.0 * 1024.0;

// Directories whose environment this process has open. LMDB forbids opening
// one environment twice in a process, because closing either copy releases
// the fcntl() locks of both (lmdb.h, "Caveats").
std::mutex open_directories_mutex;
std::set<std::filesystem::path> open_directories;

}  // namespace

lmdb_env::lmdb_env(const std::filesystem::path& directory, std::uint64_t initial_map_size)
    : directory_(directory) {
  try {
    open(initial_map_size);
  } catch (const cache_error&) {
    if (env_ != nullptr) mdb_env_close(env_);
    unregister_directory();
    throw;
  }
}

lmdb_env::~lmdb_env() {
  mdb_env_close(env_);
  unregister_directory();
}

void lmdb_env::open(std::uint64_t initial_map_size) {
  std::error_code error;
  std::filesystem::create_directories(directory_, error);
  if (error) {
    throw cache_error("cannot create the tile cache directory '" + directory_.string() +
                      "': " + error.message() + "; check the path and its permissions");
  }
  register_directory();

  int code = mdb_env_create(&env_);
  if (code != 0) {
    env_ = nullptr;
    throw cache_error(describe_error("creating the LMDB environment", code));
  }
  code = mdb_env_set_maxreaders(env_, max_readers);
  if (code == 0) code = mdb_env_set_mapsize(env_, initial_map_size);
  if (code == 0) code = mdb_env_open(env_, directory_.c_str(), environment_flags, 0664);
  if (code != 0) {
    throw cache_error(describe_error("opening the LMDB environment", code) +
                      "; the directory must be writable and on a local file system");
  }

  int stale_readers = 0;
  code = mdb_reader_check(env_, &stale_readers);
  if (code != 0) {
    throw cache_error(describe_error("clearing stale reader slots", code));
  }
  if (stale_readers > 0) {
    spdlog::info("tile cache '{}': cleared {} reader slots left by processes that exited",
                 directory_.string(), stale_readers);
  }

  adopt_recorded_map_size(initial_map_size);
  open_database();
}

void lmdb_env::open_database() {
  MDB_txn* txn = nullptr;
  int code = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn);
  if (code == 0) {
    code = mdb_dbi_open(txn, nullptr, 0, &dbi_);
    if (code == 0) {
      code = mdb_txn_commit(txn);
    } else {
      mdb_txn_abort(txn);
    }
  }
  if (code != 0) {
    throw cache_error(describe_error("opening the tile database", code));
  }
}

int lmdb_env::read(const lmdb_work& work) {
  for (int round = 0; round < max_resized_rounds; ++round) {
    {
      std::shared_lock lock(map_mutex_);
      MDB_txn* txn = nullptr;
      const int code = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn);
      if (code != MDB_MAP_RESIZED) {
        if (code != 0) return code;
        transaction_guard guard(txn);
        return work(txn, dbi_);
      }
    }
    adopt_after_resized();
  }
  return MDB_MAP_RESIZED;
}

int lmdb_env::write(const lmdb_work& work) {
  for (int round = 0; round < max_resized_rounds; ++round) {
    {
      std::shared_lock lock(map_mutex_);
      MDB_txn* txn = nullptr;
      const int code = mdb_txn_begin(env_, nullptr, 0, &txn);
      if (code != MDB_MAP_RESIZED) {
        if (code != 0) return code;
        transaction_guard guard(txn);
        const int work_code = work(txn, dbi_);
        if (work_code != 0) return work_code;
        // mdb_txn_commit frees the transaction even when it fails.
        return mdb_txn_commit(guard.release());
      }
    }
    adopt_after_resized();
  }
  return MDB_MAP_RESIZED;
}

bool lmdb_env::grow(std::uint64_t observed_generation, std::uint64_t max_map_size) {
  std::unique_lock lock(map_mutex_);
  if (resize_generation_.load() != observed_generation) {
    return true;
  }

  const std::uint64_t before = current_map_size();
  adopt_recorded_map_size(before);
  const std::uint64_t adopted = current_map_size();
  if (adopted > before) {
    ++resize_generation_;
    spdlog::info("tile cache '{}': adopted the map size of {:.1f} MiB set by another process",
                 directory_.string(), adopted / bytes_per_mib);
    return true;
  }
  if (before >= max_map_size) {
    return false;
  }

  const std::uint64_t grown = doubled(before, max_map_size);
  set_map_size(grown);
  ++resize_generation_;
  spdlog::info("tile cache '{}': grew the map from {:.1f} MiB to {:.1f} MiB (maximum {:.1f} MiB)",
               directory_.string(), before / bytes_per_mib, grown / bytes_per_mib,
               max_map_size / bytes_per_mib);
  return true;
}

lmdb_map_info lmdb_env::map_info() {
  lmdb_map_info info;
  const int code = read([&](MDB_txn* txn, MDB_dbi dbi) {
    MDB_stat stat;
    const int stat_code = mdb_stat(txn, dbi, &stat);
    if (stat_code != 0) return stat_code;
    MDB_envinfo environment;
    const int info_code = mdb_env_info(env_, &environment);
    if (info_code != 0) return info_code;

    info.entries = stat.ms_entries;
    info.map_size_bytes = environment.me_mapsize;
    info.used_bytes = (std::uint64_t{environment.me_last_pgno} + 1) * stat.ms_psize;
    return 0;
  });
  if (code != 0) {
    throw cache_error(describe_error("reading statistics", code));
  }
  return info;
}

std::string lmdb_env::describe_error(std::string_view action, int code) const {
  return "tile cache '" + directory_.string() + "': " + std::string(action) + " failed: " + mdb_strerror(code);
}

void lmdb_env::register_directory() {
  std::error_code error;
  std::filesystem::path canonical = std::filesystem::canonical(directory_, error);
  if (error) {
    throw cache_error("cannot resolve the tile cache directory '" + directory_.string() + "': " + error.message());
  }

  std::lock_guard lock(open_directories_mutex);
  if (!open_directories.insert(canonical).second) {
    throw cache_error("tile cache '" + directory_.string() +
                      "' is already open in this process; LMDB allows one open environment per directory and "
                      "process, so share one tile_store");
  }
  registered_directory_ = std::move(canonical);
}

void lmdb_env::unregister_directory() {
  if (registered_directory_.empty()) return;
  std::lock_guard lock(open_directories_mutex);
  open_directories.erase(registered_directory_);
  registered_directory_.clear();
}

// Adopts the size recorded in the environment, which another process may have
// grown, but keeps at least `minimum`. The caller holds map_mutex_ exclusive
// or is the constructor.
void lmdb_env::adopt_recorded_map_size(std::uint64_t minimum) {
  set_map_size(0);
  if (current_map_size() < minimum) {
    set_map_size(minimum);
  }
}

void lmdb_env::adopt_after_resized() {
  std::unique_lock lock(map_mutex_);
  const std::uint64_t before = current_map_size();
  adopt_recorded_map_size(before);
  ++resize_generation_;
  spdlog::info("tile cache '{}': another process grew the map; now {:.1f} MiB", directory_.string(),
               current_map_size() / bytes_per_mib);
}

// Unmaps and maps the file again with mdb_env_set_mapsize. A size of 0 takes
// the size recorded in the environment, and LMDB raises any size below the
// pages in use. The caller holds map_mutex_ exclusive or is the constructor.
void lmdb_env::set_map_size(std::uint64_t size) {
  const int code = mdb_env_set_mapsize(env_, size);
  if (code != 0) {
    throw cache_error(describe_error("setting the map size to " + std::to_string(size) + " bytes", code));
  }
}

std::uint64_t lmdb_env::current_map_size() const {
  MDB_envinfo info;
  const int code = mdb_env_info(env_, &info);
  if (code != 0) {
    throw cache_error(describe_error("reading the map size", code));
  }
  return info.me_mapsize;
}

}  // namespace tuilerie
