// The LMDB tile store: cached tile bytes with their ETag and data version.
#pragma once

#include "render/tile_format.hpp"
#include "render/tile_grid.hpp"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace tuilerie {

// An LMDB environment that cannot be opened or used. The message names the
// path and LMDB's reason.
class cache_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Identifies one cached tile. Tilesets, formats and scales never share entries.
struct tile_key {
  std::string tileset;
  tile_format format = tile_format::png;
  std::uint8_t scale = 1;  // 1 for 256 px tiles, 2 for @2x
  tile_id tile;

  friend bool operator==(const tile_key&, const tile_key&) = default;
};

// Encodes a key so that LMDB's byte order groups a tileset's entries by
// format, scale and zoom, and within a zoom by Morton (Z-order) code of x and
// y, which keeps neighbouring tiles and whole metatiles on nearby pages.
// Layout: the tileset name, a 0x00 byte, the format, scale and zoom bytes,
// then the 64-bit Morton code big-endian (x in the even bits, y in the odd).
// Throws std::invalid_argument for an empty tileset name or one with a NUL
// byte, an unknown format, a scale of 0, or a tile outside the grid.
std::string encode_tile_key(const tile_key& key);

// Inverts encode_tile_key. Returns nullopt for bytes that no valid key encodes to.
std::optional<tile_key> decode_tile_key(std::string_view bytes);

// Formats a key for messages, as tileset/z/x/y.ext or tileset/z/x/y@2x.ext.
std::string format_tile_key(const tile_key& key);

// A cached tile as it is sent: for MVT, the gzip-compressed bytes.
struct cached_tile {
  std::string body;             // empty for a tile with no data (served as 204)
  std::uint64_t etag = 0;       // XXH3 64-bit hash of body
  std::int64_t created_unix = 0;
  std::uint64_t data_version = 0;  // version of the tileset's data it was rendered from
};

struct tile_store_options {
  std::filesystem::path path;
  std::uint64_t initial_size_bytes = 64ull << 20;
  std::uint64_t max_size_bytes = 1ull << 30;
};

struct tile_store_stats {
  std::uint64_t entries = 0;
  std::uint64_t map_size_bytes = 0;   // current LMDB map size
  std::uint64_t used_bytes = 0;       // pages up to the highest in use (free pages included) times page size
  std::uint64_t evictions = 0;        // entries removed to make room, since opening
  std::uint64_t corrupt_dropped = 0;  // entries that failed their check, since opening
  std::uint64_t write_failures = 0;   // batches that could not be stored, since opening
};

// One stored entry as listed by tile_store::for_each_entry: its key and the
// header of its value, without the body.
struct tile_entry {
  tile_key key;
  std::uint64_t stored_bytes = 0;  // the LMDB value: header and body
  bool valid_header = false;       // when false, the fields below are 0 and get() drops the entry
  std::int64_t created_unix = 0;
  std::uint64_t data_version = 0;
  std::uint32_t body_bytes = 0;
};

// A thread-safe LMDB store of tiles. Reads use short read transactions on any
// thread (the environment is opened with MDB_NOTLS); writes are batched, one
// write transaction per metatile.
//
// Several processes may open the same path. LMDB allows one open environment
// per path in a process, which the constructor checks, and a child made by
// fork() must open its own store instead of using its parent's.
class tile_store {
 public:
  // Opens or creates the environment and clears stale reader slots left by
  // killed processes. Throws cache_error naming the path and the reason, also
  // when initial_size_bytes is 0 or above max_size_bytes, or when this
  // process already has a tile_store open on the path.
  explicit tile_store(const tile_store_options& options);
  ~tile_store();
  tile_store(const tile_store&) = delete;
  tile_store& operator=(const tile_store&) = delete;

  // Returns the entry, or nullopt when absent. An entry that fails its
  // integrity check (truncated, bad magic, checksum mismatch) is deleted, logged
  // and reported as absent, so it is rendered again. Throws cache_error when
  // LMDB fails, for example when all reader slots are taken.
  std::optional<cached_tile> get(const tile_key& key);

  // Stores all entries in one write transaction. When the map is full it grows
  // the map up to the maximum size, then evicts the oldest entries. Returns
  // false, after logging, if the batch could still not be stored; the caller
  // serves the tiles anyway. The stored ETag is computed from each body (the
  // entries' etag is not read), and a created_unix of 0 is stored as the
  // current time. Throws std::invalid_argument for a key encode_tile_key rejects.
  bool put_batch(const std::vector<std::pair<tile_key, cached_tile>>& entries);

  // Deletes a tileset's entries at zooms [minzoom, maxzoom] whose tiles
  // intersect the lon/lat box (or all of them without a box), in every format
  // and scale. A tile intersects the box when it is in tiles_covering(box, z).
  // Returns the number of entries deleted. Throws std::invalid_argument for a
  // bad zoom range, box or tileset name, and cache_error when LMDB fails; the
  // entries deleted before the failure stay deleted.
  std::uint64_t purge(const std::string& tileset, int minzoom, int maxzoom,
                      const std::optional<bbox>& lonlat = std::nullopt);

  // Deletes a tileset's entries, in every format and scale, whose tile
  // matches. One pass over the tileset's keys, however many areas the
  // predicate tests. Throws like purge().
  std::uint64_t purge_matching(const std::string& tileset, const std::function<bool(const tile_id&)>& matches);

  // Calls visit for each entry of a tileset, or of every tileset when the
  // name is empty, in key order: by tileset, format, scale, zoom, then Morton
  // code. Reads keys and headers only (bodies are neither copied nor hashed),
  // in read transactions of at most 4096 entries, and calls visit between
  // them, so visit may call get() and a long listing never keeps one old
  // snapshot. Entries stored or deleted during the listing may or may not be
  // visited; keys that are not tile keys are skipped. Throws cache_error when
  // LMDB fails, and std::invalid_argument for a tileset name with a NUL byte.
  void for_each_entry(const std::string& tileset, const std::function<void(const tile_entry&)>& visit);

  // Reads the entry count and map use from LMDB, and this instance's counters.
  // Throws cache_error.
  tile_store_stats stats();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

// The ETag hash used for cached_tile::etag.
std::uint64_t hash_tile_body(std::string_view body);

}  // namespace tuilerie
