// An LMDB environment shared by threads and processes: transactions and map size changes.
#pragma once

#include <lmdb.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <shared_mutex>
#include <string>
#include <string_view>

namespace tuilerie {

// Size and use of this process's memory map of the environment.
struct lmdb_map_info {
  std::uint64_t map_size_bytes = 0;
  std::uint64_t used_bytes = 0;  // pages up to the highest in use, free pages included
  std::uint64_t entries = 0;     // in the tile database
};

// Work done inside a transaction on the environment's one unnamed database.
// It returns 0 or the LMDB error code that makes the transaction fail.
using lmdb_work = std::function<int(MDB_txn* txn, MDB_dbi dbi)>;

// One LMDB environment, opened with MDB_NOTLS so that a transaction may run on
// any thread of a pool.
//
// LMDB requires that no transaction of this process is active while the map
// size changes. Every transaction holds map_mutex_ shared, and a size change
// holds it exclusive. Other processes may grow the map at any time; their
// growth is adopted when mdb_txn_begin returns MDB_MAP_RESIZED, or when this
// process runs out of room.
class lmdb_env {
 public:
  // Creates the directory if needed, opens the environment with the given
  // initial map size (a larger size recorded in the environment wins), and
  // clears reader slots left by killed processes. Throws cache_error naming
  // the directory and LMDB's reason, also when this process already has the
  // directory's environment open.
  lmdb_env(const std::filesystem::path& directory, std::uint64_t initial_map_size);
  ~lmdb_env();
  lmdb_env(const lmdb_env&) = delete;
  lmdb_env& operator=(const lmdb_env&) = delete;

  // Runs work in a read-only transaction. Returns 0 or the LMDB error code.
  int read(const lmdb_work& work);

  // Runs work in a write transaction and commits it when work returns 0.
  // Returns 0 or the first LMDB error code, such as MDB_MAP_FULL, after which
  // nothing of the transaction is stored.
  int write(const lmdb_work& work);

  // Counts map size changes made by this process. Read it before a write that
  // may fail with MDB_MAP_FULL and pass it to grow().
  std::uint64_t resize_generation() const { return resize_generation_.load(); }

  // Makes room after MDB_MAP_FULL: does nothing if another thread changed the
  // map since observed_generation, adopts a larger size recorded by another
  // process, or else doubles the map up to max_map_size. Returns false when
  // the map is already at max_map_size. Throws cache_error if LMDB cannot
  // remap the file.
  bool grow(std::uint64_t observed_generation, std::uint64_t max_map_size);

  // Reads the map size, page use and entry count. Throws cache_error.
  lmdb_map_info map_info();

  // Builds an error message naming the environment's directory, the action
  // that failed and LMDB's reason.
  std::string describe_error(std::string_view action, int code) const;

  const std::filesystem::path& directory() const { return directory_; }

 private:
  void open(std::uint64_t initial_map_size);
  void register_directory();
  void unregister_directory();
  void open_database();
  void adopt_recorded_map_size(std::uint64_t minimum);
  void adopt_after_resized();
  void set_map_size(std::uint64_t size);
  std::uint64_t current_map_size() const;

  std::filesystem::path directory_;
  std::filesystem::path registered_directory_;  // canonical; empty until registered
  MDB_env* env_ = nullptr;
  MDB_dbi dbi_ = 0;
  std::shared_mutex map_mutex_;
  std::atomic<std::uint64_t> resize_generation_{0};
};

}  // namespace tuilerie
