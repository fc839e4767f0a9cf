// Cursor sweeps that delete selected entries in bounded write transactions.
#include "tilecache/lmdb_sweep.hpp"

#include <string>

namespace tuilerie {

namespace {

// Bounds on one sweep transaction. Other writers (tile stores of every
// process) wait while it runs; a few thousand cursor steps take milliseconds.
constexpr std::uint64_t deletes_per_transaction = 512;
constexpr std::uint64_t visits_per_transaction = 8192;

// Rounds of MDB_MAP_FULL for one chunk: each grows the map (doubling) or
// adopts another process's size, so this is far above any real need.
constexpr int max_full_rounds = 64;

std::string_view as_view(const MDB_val& value) {
  return {static_cast<const char*>(value.mv_data), value.mv_size};
}

// One transaction's worth of a sweep.
struct sweep_chunk {
  std::string resume_key;  // first key not visited yet, empty when finished
  std::uint64_t deleted = 0;
  bool finished = false;
};

int position_cursor(MDB_cursor* cursor, const std::string& start, MDB_val& key, MDB_val& value) {
  if (start.empty()) {
    return mdb_cursor_get(cursor, &key, &value, MDB_FIRST);
  }
  key = {start.size(), const_cast<char*>(start.data())};
  return mdb_cursor_get(cursor, &key, &value, MDB_SET_RANGE);
}

int sweep_one_chunk(MDB_txn* txn, MDB_dbi dbi, const sweep_request& request, const std::string& start,
                    std::uint64_t deleted_before, sweep_chunk& chunk) {
  chunk = sweep_chunk{};
  MDB_cursor* cursor = nullptr;
  const int open_code = mdb_cursor_open(txn, dbi, &cursor);
  if (open_code != 0) return open_code;

  // A cursor of a write transaction is freed when the transaction ends.
  MDB_val key;
  MDB_val value;
  int code = position_cursor(cursor, start, key, value);
  std::uint64_t visited = 0;
  while (code == 0) {
    const std::string_view key_bytes = as_view(key);
    if (!key_bytes.starts_with(request.prefix) || deleted_before + chunk.deleted >= request.max_deletes) {
      chunk.finished = true;
      return 0;
    }
    if (visited == visits_per_transaction || chunk.deleted == deletes_per_transaction) {
      chunk.resume_key = std::string(key_bytes);
      return 0;
    }
    ++visited;

    if (request.filter(key_bytes, as_view(value)) == sweep_decision::remove) {
      code = mdb_cursor_del(cursor, 0);
      if (code != 0) return code;
      ++chunk.deleted;
    }
    // After mdb_cursor_del the cursor's next step lands on the successor of
    // the deleted entry, so no entry is skipped.
    code = mdb_cursor_get(cursor, &key, &value, MDB_NEXT);
  }
  if (code == MDB_NOTFOUND) {
    chunk.finished = true;
    return 0;
  }
  return code;
}

}  // namespace

int sweep(lmdb_env& env, const sweep_request& request, std::uint64_t& deleted) {
  deleted = 0;
  std::string start(request.prefix);
  int full_rounds = 0;
  while (true) {
    sweep_chunk chunk;
    const std::uint64_t generation = env.resize_generation();
    const int code = env.write([&](MDB_txn* txn, MDB_dbi dbi) {
      return sweep_one_chunk(txn, dbi, request, start, deleted, chunk);
    });
    if (code == MDB_MAP_FULL && ++full_rounds < max_full_rounds &&
        env.grow(generation, request.max_map_size)) {
      continue;
    }
    if (code != 0) return code;

    deleted += chunk.deleted;
    if (chunk.finished) return 0;
    start = std::move(chunk.resume_key);
  }
}

}  // namespace tuilerie
