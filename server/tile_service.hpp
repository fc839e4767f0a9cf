// Serves tiles: cache lookup, coalesced rendering on the render pool, storing.
#pragma once

#include "server/config.hpp"
#include "server/metrics.hpp"
#include "server/tile_path.hpp"
#include "server/tileset_versions.hpp"
#include "tilecache/coalescer.hpp"
#include "tilecache/tile_store.hpp"

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace tuilerie {

class render_pool;

struct tile_result {
  enum class status {
    ok,          // tile contains the bytes (an empty body means a tile with no data)
    failed,      // the render failed; error gives the reason
    overloaded,  // the render queue is full; retry later
    unavailable,  // a data file or the database of the tileset is missing; retry later
  };
  status outcome = status::ok;
  std::shared_ptr<const cached_tile> tile;
  std::string error;
};

// Serves one tile request. Fresh cached tiles are returned at once. A miss
// renders the whole metatile (or the vector tile) once on the render pool,
// however many requests wait for it, stores every tile in one batch and
// answers all waiters.
class tile_service {
 public:
  using callback = std::function<void(tile_result)>;

  tile_service(const config& settings, tile_store& store, render_pool& pool, const tileset_versions& versions,
               metrics& counters);

  // Calls done exactly once, on the calling thread for a cache hit and on a
  // render thread otherwise. The request's tileset must exist, serve the
  // format and cover the zoom: the router checks that first.
  void get_tile(const tile_request& request, callback done);

  // The data version that fresh tiles of the tileset were rendered from.
  std::uint64_t data_version(const std::string& tileset) const;

  // Keeps renders of the tileset that are running now from storing their
  // tiles, which may predate an edit whose tiles were just purged. They are
  // still served to the requests waiting for them.
  void discard_renders_in_flight(const std::string& tileset);

  // False while the last write to the cache failed (full or read-only).
  bool cache_writable() const { return cache_writable_; }

 private:
  struct render_outcome;
  using outcome_ptr = std::shared_ptr<const render_outcome>;

  std::optional<cached_tile> read_cache(const tile_key& key);
  // Whether a cached tile comes from the current data and is within its max age.
  bool is_fresh(const cached_tile& cached, const tile_request& request) const;
  void render(const tile_request& request, const std::string& coalescing_key);
  // Runs render() again while it fails on a PostGIS connection that the
  // server closed: at most the largest pool size plus one attempts.
  template <typename Render>
  auto with_reconnection(Render render) const;
  outcome_ptr render_raster(class render_context& context, const tile_request& request) const;
  outcome_ptr render_vector(class render_context& context, const tile_request& request) const;
  void store(const tile_request& request, const render_outcome& outcome);

  // Logs a database outage once, and its end once.
  void note_database(bool reachable);

  const config& settings_;
  tile_store& store_;
  render_pool& pool_;
  const tileset_versions& versions_;
  metrics& metrics_;
  coalescer<std::string, outcome_ptr> renders_;
  std::atomic<bool> cache_writable_{true};
  std::atomic<bool> database_down_{false};
  // Per tileset, counts calls to discard_renders_in_flight. A render stores
  // its tiles only when the count did not change while it ran.
  std::map<std::string, std::atomic<std::uint64_t>> purges_;
};

}  // namespace tuilerie
