// The LMDB tile store: checked reads, batched writes that grow the map or evict, purges and listings.
#include "tilecache/tile_store.hpp"

#include "tilecache/lmdb_env.hpp"
#include "tilecache/lmdb_sweep.hpp"
#include "tilecache/tile_value.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <chrono>
#include <cmath>
#include <limits>
#include <mutex>

namespace tuilerie {

namespace {

// Write attempts of one batch. Each MDB_MAP_FULL grows the map (doubling, so
// 64 rounds reach any 64-bit size) or evicts, then the batch runs again.
constexpr int max_store_attempts = 72;

// Evictions one batch may start or wait for before it is given up. Another
// thread's batch, or a reader on an old snapshot, may take or pin the room
// that one eviction made, so a second try helps when writers contend.
constexpr int max_evictions_per_batch = 2;

// Share of the entries evicted when the map is full at its maximum size: one
// in ten, so that one eviction, which reads every entry's header, makes room
// for many metatiles before the next.
constexpr std::uint64_t eviction_divisor = 10;

// Cap on the creation times sampled to find the eviction cutoff, which bounds
// the memory of an eviction to 8 MiB whatever the number of entries.
constexpr std::size_t max_eviction_samples = std::size_t{1} << 20;

// Entries that for_each_entry reads per read transaction: a few milliseconds
// of cursor steps, so a listing of millions of entries never keeps one
// snapshot, and the pages it pins, for long.
constexpr std::size_t entries_per_listing = 4096;

constexpr double bytes_per_mib = 1024.0 * 1024.0;

using encoded_entry = std::pair<std::string, std::string>;  // LMDB key and value

MDB_val as_mdb_val(std::string_view bytes) { return {bytes.size(), const_cast<char*>(bytes.data())}; }

std::string_view as_view(const MDB_val& value) {
  return {static_cast<const char*>(value.mv_data), value.mv_size};
}

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Repeated failures are logged at counts 1, 2, 4, 8, ... so a cache that stays
// full cannot flood the log.
bool is_logged_repeat(std::uint64_t count) { return std::has_single_bit(count); }

const tile_store_options& checked_options(const tile_store_options& options) {
  if (options.initial_size_bytes == 0 || options.initial_size_bytes > options.max_size_bytes) {
    throw cache_error("tile cache '" + options.path.string() + "': initial size " +
                      std::to_string(options.initial_size_bytes) + " bytes must be above 0 and at most " +
                      "the maximum size of " + std::to_string(options.max_size_bytes) + " bytes");
  }
  return options;
}

void check_purge_arguments(const std::string& tileset, int minzoom, int maxzoom,
                           const std::optional<bbox>& lonlat) {
  if (tileset.empty() || tileset.find('\0') != std::string::npos) {
    throw std::invalid_argument("invalid tileset name '" + tileset + "' to purge");
  }
  if (minzoom < 0 || maxzoom > max_zoom || minzoom > maxzoom) {
    throw std::invalid_argument("invalid zoom range " + std::to_string(minzoom) + " to " +
                                std::to_string(maxzoom) + " to purge: expected 0 <= minzoom <= maxzoom <= " +
                                std::to_string(max_zoom));
  }
  if (lonlat && !(std::isfinite(lonlat->minx) && std::isfinite(lonlat->maxx) && std::isfinite(lonlat->miny) &&
                  std::isfinite(lonlat->maxy) && lonlat->minx <= lonlat->maxx && lonlat->miny <= lonlat->maxy)) {
    throw std::invalid_argument("invalid box to purge: " + std::to_string(lonlat->minx) + "," +
                                std::to_string(lonlat->miny) + "," + std::to_string(lonlat->maxx) + "," +
                                std::to_string(lonlat->maxy) + "; expected west,south,east,north in degrees");
  }
}

bool is_in_range(const tile_range& range, const tile_id& tile) {
  return tile.x >= range.min_x && tile.x <= range.max_x && tile.y >= range.min_y && tile.y <= range.max_y;
}

// Returns the creation time that orders entries for eviction. A value whose
// header fails its checks sorts first, so it is evicted before any valid entry.
std::int64_t eviction_time(std::string_view value) {
  std::string problem;
  const auto header = decode_tile_value_header(value, problem);
  return header ? header->created_unix : std::numeric_limits<std::int64_t>::min();
}

// The entries that one read transaction of for_each_entry lists.
struct entry_listing {
  std::vector<tile_entry> entries;
  std::string resume_key;  // first key not listed yet, empty when finished
};

tile_entry make_tile_entry(tile_key key, std::string_view value) {
  tile_entry entry;
  entry.key = std::move(key);
  entry.stored_bytes = value.size();
  std::string problem;
  if (const auto header = decode_tile_value_header(value, problem)) {
    entry.valid_header = true;
    entry.created_unix = header->created_unix;
    entry.data_version = header->data_version;
    entry.body_bytes = header->body_bytes;
  }
  return entry;
}

// Lists up to entries_per_listing entries whose key starts with prefix, from
// the first key at or after start (the first key of all when start is empty).
int list_entries(MDB_txn* txn, MDB_dbi dbi, std::string_view prefix, const std::string& start,
                 entry_listing& listing) {
  listing = entry_listing{};
  MDB_cursor* cursor = nullptr;
  const int open_code = mdb_cursor_open(txn, dbi, &cursor);
  if (open_code != 0) return open_code;

  MDB_val key;
  MDB_val value;
  int code = 0;
  if (start.empty()) {
    code = mdb_cursor_get(cursor, &key, &value, MDB_FIRST);
  } else {
    key = as_mdb_val(start);
    code = mdb_cursor_get(cursor, &key, &value, MDB_SET_RANGE);
  }
  for (; code == 0; code = mdb_cursor_get(cursor, &key, &value, MDB_NEXT)) {
    const std::string_view key_bytes = as_view(key);
    if (!key_bytes.starts_with(prefix)) break;
    if (listing.entries.size() == entries_per_listing) {
      listing.resume_key = std::string(key_bytes);
      break;
    }
    if (auto decoded = decode_tile_key(key_bytes)) {
      listing.entries.push_back(make_tile_entry(std::move(*decoded), as_view(value)));
    }
  }
  // A cursor of a read-only transaction is not freed with the transaction.
  mdb_cursor_close(cursor);
  return code == MDB_NOTFOUND ? 0 : code;
}

}  // namespace

struct tile_store::impl {
  explicit impl(const tile_store_options& store_options)
      : options(checked_options(store_options)), env(options.path, options.initial_size_bytes) {}

  std::optional<cached_tile> read_entry(const tile_key& key, const std::string& encoded_key);
  void drop_corrupt_entry(const tile_key& key, const std::string& encoded_key, const std::string& problem);
  bool store(const std::vector<encoded_entry>& batch, const tile_key& first_key);
  int write_batch(const std::vector<encoded_entry>& batch);
  void evict_oldest(std::uint64_t min_count, std::uint64_t observed_round);
  std::int64_t find_eviction_cutoff(std::uint64_t count, std::uint64_t entries);
  void record_write_failure(std::size_t batch_size, const tile_key& first_key, const std::string& reason);

  tile_store_options options;
  lmdb_env env;

  std::mutex eviction_mutex;  // one eviction at a time in this process
  std::atomic<std::uint64_t> eviction_round{0};
  std::atomic<std::uint64_t> evictions{0};
  std::atomic<std::uint64_t> corrupt_dropped{0};
  std::atomic<std::uint64_t> write_failures{0};
};

tile_store::tile_store(const tile_store_options& options) : impl_(std::make_unique<impl>(options)) {
  const auto info = impl_->env.map_info();
  spdlog::info("tile cache '{}': opened with {} entries, map {:.1f} MiB of at most {:.1f} MiB",
               options.path.string(), info.entries, info.map_size_bytes / bytes_per_mib,
               options.max_size_bytes / bytes_per_mib);
}

tile_store::~tile_store() = default;

std::optional<cached_tile> tile_store::get(const tile_key& key) {
  return impl_->read_entry(key, encode_tile_key(key));
}

std::optional<cached_tile> tile_store::impl::read_entry(const tile_key& key, const std::string& encoded_key) {
  std::optional<cached_tile> tile;
  bool found = false;
  std::string problem;
  const int code = env.read([&](MDB_txn* txn, MDB_dbi dbi) {
    MDB_val lmdb_key = as_mdb_val(encoded_key);
    MDB_val value;
    const int get_code = mdb_get(txn, dbi, &lmdb_key, &value);
    if (get_code != 0) return get_code == MDB_NOTFOUND ? 0 : get_code;
    found = true;
    tile = decode_tile_value(as_view(value), problem);
    return 0;
  });
  if (code != 0) {
    throw cache_error(env.describe_error("reading " + format_tile_key(key), code));
  }

  if (found && !tile) {
    drop_corrupt_entry(key, encoded_key, problem);
  }
  return tile;
}

// Deletes the entry only if it still fails its check: another thread or
// process may have stored a good tile since it was read.
void tile_store::impl::drop_corrupt_entry(const tile_key& key, const std::string& encoded_key,
                                          const std::string& problem) {
  bool deleted = false;
  const int code = env.write([&](MDB_txn* txn, MDB_dbi dbi) {
    MDB_val lmdb_key = as_mdb_val(encoded_key);
    MDB_val value;
    const int get_code = mdb_get(txn, dbi, &lmdb_key, &value);
    if (get_code != 0) return get_code == MDB_NOTFOUND ? 0 : get_code;
    std::string current_problem;
    if (decode_tile_value(as_view(value), current_problem)) return 0;
    const int delete_code = mdb_del(txn, dbi, &lmdb_key, nullptr);
    deleted = delete_code == 0;
    return delete_code;
  });

  if (code != 0) {
    spdlog::error("{}; the corrupt entry ({}) stays and is checked again on the next read",
                  env.describe_error("deleting the corrupt entry " + format_tile_key(key), code), problem);
    return;
  }
  if (deleted) {
    ++corrupt_dropped;
    spdlog::warn("tile cache '{}': deleted corrupt entry {} ({}); the tile will be rendered again",
                 options.path.string(), format_tile_key(key), problem);
  }
}

bool tile_store::put_batch(const std::vector<std::pair<tile_key, cached_tile>>& entries) {
  if (entries.empty()) {
    return true;
  }

  const std::int64_t now = unix_now();
  std::vector<encoded_entry> batch;
  batch.reserve(entries.size());
  std::uint64_t batch_bytes = 0;
  for (const auto& [key, tile] : entries) {
    if (tile.body.size() > max_tile_body_bytes) {
      impl_->record_write_failure(entries.size(), entries.front().first,
                                  "the body of " + format_tile_key(key) + " has " +
                                      std::to_string(tile.body.size()) + " bytes, above the limit of " +
                                      std::to_string(max_tile_body_bytes));
      return false;
    }
    const std::int64_t created_unix = tile.created_unix != 0 ? tile.created_unix : now;
    batch.emplace_back(encode_tile_key(key), encode_tile_value(tile.body, created_unix, tile.data_version));
    batch_bytes += batch.back().first.size() + batch.back().second.size();
  }

  // Evicting cannot help a batch larger than the whole map.
  if (batch_bytes >= impl_->options.max_size_bytes) {
    impl_->record_write_failure(entries.size(), entries.front().first,
                                "the batch of " + std::to_string(batch_bytes) +
                                    " bytes does not fit in the maximum map size of " +
                                    std::to_string(impl_->options.max_size_bytes) + " bytes");
    return false;
  }
  return impl_->store(batch, entries.front().first);
}

bool tile_store::impl::store(const std::vector<encoded_entry>& batch, const tile_key& first_key) {
  int evictions_tried = 0;
  int code = 0;
  try {
    for (int attempt = 0; attempt < max_store_attempts; ++attempt) {
      const std::uint64_t generation = env.resize_generation();
      const std::uint64_t observed_round = eviction_round.load();
      code = write_batch(batch);
      if (code != MDB_MAP_FULL) break;
      if (env.grow(generation, options.max_size_bytes)) continue;
      if (evictions_tried == max_evictions_per_batch) break;
      evict_oldest(batch.size(), observed_round);
      ++evictions_tried;
    }
  } catch (const cache_error& error) {
    record_write_failure(batch.size(), first_key, error.what());
    return false;
  }

  if (code != 0) {
    record_write_failure(batch.size(), first_key, mdb_strerror(code));
    return false;
  }
  return true;
}

int tile_store::impl::write_batch(const std::vector<encoded_entry>& batch) {
  return env.write([&](MDB_txn* txn, MDB_dbi dbi) {
    for (const auto& [key, value] : batch) {
      MDB_val lmdb_key = as_mdb_val(key);
      MDB_val lmdb_value = as_mdb_val(value);
      const int code = mdb_put(txn, dbi, &lmdb_key, &lmdb_value, 0);
      if (code != 0) return code;
    }
    return 0;
  });
}

void tile_store::impl::record_write_failure(std::size_t batch_size, const tile_key& first_key,
                                            const std::string& reason) {
  const std::uint64_t failures = ++write_failures;
  if (is_logged_repeat(failures)) {
    spdlog::error("tile cache '{}': could not store a batch of {} tiles from {}: {}; the tiles are served "
                  "but not cached ({} failed batches since opening)",
                  options.path.string(), batch_size, format_tile_key(first_key), reason, failures);
  }
}

// Evicts about a tenth of the entries (at least min_count + 1), oldest first
// by created_unix. One pass samples creation times to find the cutoff time,
// and a second deletes entries created at or before it in key order until the
// count is reached. Entries created in the same second as the cutoff are thus
// chosen by key, not by age.
//
// LMDB reuses the pages that transaction T frees only in transaction T + 2 or
// later, and only once no reader is on a snapshot older than T + 1
// (mdb_find_oldest and mdb_page_alloc in LMDB 0.9 mdb.c). So the last entry is
// deleted in a transaction of its own, after which the retried batch can reuse
// the pages of all the others.
void tile_store::impl::evict_oldest(std::uint64_t min_count, std::uint64_t observed_round) {
  std::lock_guard lock(eviction_mutex);
  if (eviction_round.load() != observed_round) {
    return;  // another thread evicted while this one waited: try its room first
  }
  const std::uint64_t round = ++eviction_round;

  const std::uint64_t entries = env.map_info().entries;
  const std::uint64_t count = std::min(entries, std::max(entries / eviction_divisor, min_count + 1));
  if (count == 0) {
    return;
  }
  const std::int64_t cutoff = find_eviction_cutoff(count, entries);

  sweep_request request;
  request.filter = [cutoff](std::string_view, std::string_view value) {
    return eviction_time(value) <= cutoff ? sweep_decision::remove : sweep_decision::keep;
  };
  request.max_map_size = options.max_size_bytes;
  std::uint64_t deleted = 0;
  std::uint64_t deleted_last = 0;
  request.max_deletes = count - 1;
  int code = sweep(env, request, deleted);
  if (code == 0) {
    request.max_deletes = 1;
    code = sweep(env, request, deleted_last);
    deleted += deleted_last;
  }
  evictions += deleted;

  if (code != 0) {
    spdlog::error("{} after evicting {} of {} entries",
                  env.describe_error("evicting the oldest entries of the full map", code), deleted, count);
    return;
  }
  if (is_logged_repeat(round)) {
    spdlog::warn("tile cache '{}': map full at its maximum of {:.1f} MiB; evicted {} of {} entries created at "
                 "or before unix time {} (eviction {} since opening)",
                 options.path.string(), options.max_size_bytes / bytes_per_mib, deleted, entries, cutoff, round);
  }
}

// Returns the creation time at or below which about `count` of the `entries`
// entries were created, from a sample of at most max_eviction_samples.
std::int64_t tile_store::impl::find_eviction_cutoff(std::uint64_t count, std::uint64_t entries) {
  const std::uint64_t stride = entries / max_eviction_samples + 1;
  std::vector<std::int64_t> samples;
  samples.reserve(std::min<std::uint64_t>(entries, max_eviction_samples) + 1);

  const int code = env.read([&](MDB_txn* txn, MDB_dbi dbi) {
    MDB_cursor* cursor = nullptr;
    const int open_code = mdb_cursor_open(txn, dbi, &cursor);
    if (open_code != 0) return open_code;
    MDB_val key;
    MDB_val value;
    std::uint64_t index = 0;
    int cursor_code = mdb_cursor_get(cursor, &key, &value, MDB_FIRST);
    for (; cursor_code == 0; cursor_code = mdb_cursor_get(cursor, &key, &value, MDB_NEXT), ++index) {
      if (index % stride == 0 && samples.size() < max_eviction_samples) {
        samples.push_back(eviction_time(as_view(value)));
      }
    }
    mdb_cursor_close(cursor);
    return cursor_code == MDB_NOTFOUND ? 0 : cursor_code;
  });
  if (code != 0) {
    throw cache_error(env.describe_error("reading creation times to evict", code));
  }
  if (samples.empty()) {
    return std::numeric_limits<std::int64_t>::min();
  }

  // The number of samples whose share of all samples reaches count/entries,
  // rounded up; the cutoff is the largest of them.
  const std::uint64_t samples_to_cutoff = (count * samples.size() + entries - 1) / entries;
  const auto position =
      static_cast<std::size_t>(std::clamp<std::uint64_t>(samples_to_cutoff, 1, samples.size()) - 1);
  std::nth_element(samples.begin(), samples.begin() + static_cast<std::ptrdiff_t>(position), samples.end());
  return samples[position];
}

std::uint64_t tile_store::purge(const std::string& tileset, int minzoom, int maxzoom,
                                const std::optional<bbox>& lonlat) {
  check_purge_arguments(tileset, minzoom, maxzoom, lonlat);
  std::array<tile_range, max_zoom + 1> ranges{};
  if (lonlat) {
    for (int z = minzoom; z <= maxzoom; ++z) {
      ranges[static_cast<std::size_t>(z)] = tiles_covering(*lonlat, z);
    }
  }
  const std::uint64_t deleted = purge_matching(tileset, [&](const tile_id& tile) {
    if (tile.z < minzoom || tile.z > maxzoom) return false;
    return !lonlat || is_in_range(ranges[static_cast<std::size_t>(tile.z)], tile);
  });
  const std::string box = lonlat ? fmt::format(" in the box {},{},{},{}", lonlat->minx, lonlat->miny,
                                                lonlat->maxx, lonlat->maxy)
                                  : std::string();
  spdlog::debug("tile cache '{}': purged {} entries of tileset '{}' at zooms {} to {}{}",
                impl_->options.path.string(), deleted, tileset, minzoom, maxzoom, box);
  return deleted;
}

std::uint64_t tile_store::purge_matching(const std::string& tileset, const std::function<bool(const tile_id&)>& matches) {
  if (tileset.empty() || tileset.find('\0') != std::string::npos) {
    throw std::invalid_argument("invalid tileset name '" + tileset + "' to purge");
  }
  const std::string prefix = tileset + '\0';
  sweep_request request;
  request.prefix = prefix;
  request.filter = [&](std::string_view key_bytes, std::string_view) {
    const auto key = decode_tile_key(key_bytes);
    return key && matches(key->tile) ? sweep_decision::remove : sweep_decision::keep;
  };
  request.max_map_size = impl_->options.max_size_bytes;

  std::uint64_t deleted = 0;
  const int code = sweep(impl_->env, request, deleted);
  if (code != 0) {
    throw cache_error(impl_->env.describe_error("purging tileset '" + tileset + "'", code) + " after deleting " +
                      std::to_string(deleted) + " entries");
  }
  return deleted;
}

void tile_store::for_each_entry(const std::string& tileset, const std::function<void(const tile_entry&)>& visit) {
  if (tileset.find('\0') != std::string::npos) {
    throw std::invalid_argument("invalid tileset name '" + tileset + "' to list: it contains a NUL byte");
  }
  const std::string prefix = tileset.empty() ? std::string() : tileset + '\0';
  std::string start = prefix;
  do {
    entry_listing listing;
    const int code = impl_->env.read(
        [&](MDB_txn* txn, MDB_dbi dbi) { return list_entries(txn, dbi, prefix, start, listing); });
    if (code != 0) {
      const std::string listed = tileset.empty() ? "all entries" : "the entries of tileset '" + tileset + "'";
      throw cache_error(impl_->env.describe_error("listing " + listed, code));
    }
    for (const auto& entry : listing.entries) visit(entry);
    start = std::move(listing.resume_key);
  } while (!start.empty());
}

tile_store_stats tile_store::stats() {
  const auto info = impl_->env.map_info();
  tile_store_stats result;
  result.entries = info.entries;
  result.map_size_bytes = info.map_size_bytes;
  result.used_bytes = info.used_bytes;
  result.evictions = impl_->evictions.load();
  result.corrupt_dropped = impl_->corrupt_dropped.load();
  result.write_failures = impl_->write_failures.load();
  return result;
}

}  // namespace tuilerie
