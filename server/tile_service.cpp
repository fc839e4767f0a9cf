// Tile serving: cache first, then one coalesced render per metatile.
#include "server/tile_service.hpp"

#include "render/gzip.hpp"
#include "render/mapnik_setup.hpp"
#include "render/raster_renderer.hpp"
#include "render/render_pool.hpp"
#include "render/vector_tile_renderer.hpp"
#include "server/postgis.hpp"

#include <spdlog/spdlog.h>

#include <chrono>

namespace tuilerie {

struct tile_service::render_outcome {
  bool overloaded = false;  // the render pool's queue was full
  bool unavailable = false;  // the render failed because the database is unreachable
  std::string error;        // empty on success
  std::vector<std::pair<tile_id, std::shared_ptr<const cached_tile>>> tiles;
};

namespace {

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Raster tiles of one metatile share a render, vector tiles render alone.
tile_id render_unit(const tile_request& request, const tileset_settings& tileset) {
  if (!is_raster(request.format)) return request.tile;
  const metatile meta = metatile_of(request.tile, tileset.metatile);
  return {meta.z, meta.x, meta.y};
}

std::shared_ptr<const cached_tile> make_cached_tile(std::string body, std::uint64_t version) {
  auto tile = std::make_shared<cached_tile>();
  tile->etag = hash_tile_body(body);
  tile->body = std::move(body);
  tile->created_unix = unix_now();
  tile->data_version = version;
  return tile;
}

}  // namespace

tile_service::tile_service(const config& settings, tile_store& store, render_pool& pool,
                           const tileset_versions& versions, metrics& counters)
    : settings_(settings), store_(store), pool_(pool), versions_(versions), metrics_(counters) {
  for (const auto& [name, tileset] : settings.tilesets) purges_[name] = 0;
}

void tile_service::discard_renders_in_flight(const std::string& tileset) { ++purges_.at(tileset); }

void tile_service::note_database(bool reachable) {
  if (!reachable && !database_down_.exchange(true)) {
    spdlog::error("the PostGIS database is unreachable; tiles that need it get 503 until it returns, and cached "
                  "tiles are still served");
  } else if (reachable && database_down_.exchange(false)) {
    spdlog::info("the PostGIS database is reachable again");
  }
}

std::uint64_t tile_service::data_version(const std::string& tileset) const { return versions_.version(tileset); }

void tile_service::get_tile(const tile_request& request, callback done) {
  if (!versions_.available(request.tileset)) {
    done({tile_result::status::unavailable, nullptr, "a data file of the tileset is missing"});
    return;
  }
  const tile_key key{request.tileset, request.format, request.scale, request.tile};
  if (auto cached = read_cache(key); cached && is_fresh(*cached, request)) {
    ++metrics_.cache_hits;
    done({tile_result::status::ok, std::make_shared<const cached_tile>(std::move(*cached)), {}});
    return;
  }
  ++metrics_.cache_misses;

  const tileset_settings& tileset = settings_.tilesets.at(request.tileset);
  const tile_key unit_key{request.tileset, request.format, request.scale, render_unit(request, tileset)};
  const std::string coalescing_key = encode_tile_key(unit_key);
  const tile_id requested_tile = request.tile;
  const bool first = renders_.join(coalescing_key, [done, requested_tile](const outcome_ptr& outcome) {
    if (outcome->overloaded) {
      done({tile_result::status::overloaded, nullptr, outcome->error});
      return;
    }
    if (outcome->unavailable) {
      done({tile_result::status::unavailable, nullptr, outcome->error});
      return;
    }
    if (!outcome->error.empty()) {
      done({tile_result::status::failed, nullptr, outcome->error});
      return;
    }
    for (const auto& [tile, bytes] : outcome->tiles) {
      if (tile == requested_tile) {
        done({tile_result::status::ok, bytes, {}});
        return;
      }
    }
    done({tile_result::status::failed, nullptr, "the render did not produce the requested tile"});
  });
  if (first) {
    render(request, coalescing_key);
  } else {
    ++metrics_.coalesced_waits;
  }
}

bool tile_service::is_fresh(const cached_tile& cached, const tile_request& request) const {
  if (cached.data_version != data_version(request.tileset)) return false;
  for (const auto& rule : settings_.tilesets.at(request.tileset).max_age) {
    if (request.tile.z >= rule.minzoom && request.tile.z <= rule.maxzoom) {
      return unix_now() - cached.created_unix < rule.seconds;
    }
  }
  return true;
}

std::optional<cached_tile> tile_service::read_cache(const tile_key& key) {
  try {
    return store_.get(key);
  } catch (const cache_error& error) {
    // An LMDB failure (all reader slots taken, say) costs a render, not the request.
    const auto failures = ++metrics_.cache_read_failures;
    if ((failures & (failures - 1)) == 0) {
      spdlog::error("cache read failed for {} ({} failures so far); rendering instead: {}", format_tile_key(key),
                    failures, error.what());
    }
    return std::nullopt;
  }
}

void tile_service::render(const tile_request& request, const std::string& coalescing_key) {
  const bool queued = pool_.try_submit([this, request, coalescing_key](render_context& context) {
    const auto started = std::chrono::steady_clock::now();
    const std::uint64_t purges = purges_.at(request.tileset);
    outcome_ptr outcome = is_raster(request.format) ? render_raster(context, request) : render_vector(context, request);
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - started;
    metrics_.observe_render(request.tileset, elapsed.count());
    if (outcome->unavailable) {
      note_database(false);
    } else if (!outcome->error.empty()) {
      ++metrics_.render_failures;
    } else {
      if (settings_.postgis.configured) note_database(true);
      if (purges == purges_.at(request.tileset)) store(request, *outcome);
    }
    renders_.complete(coalescing_key, outcome);
  });
  if (!queued) {
    ++metrics_.render_rejected;
    auto outcome = std::make_shared<render_outcome>();
    outcome->overloaded = true;
    outcome->error = "the render queue is full";
    renders_.complete(coalescing_key, outcome);
  }
}

template <typename Render>
auto tile_service::with_reconnection(Render render) const {
  // Mapnik's PostGIS pool lends a pooled connection without checking that
  // the server still has it open. A query on a connection the server ended
  // fails and marks it bad, so the pool drops it at the next loan. Every slot
  // of the pool may hold such a connection, hence the bound.
  const unsigned attempts = largest_postgis_pool_size() + 1;
  for (unsigned attempt = 1;; ++attempt) {
    try {
      return render();
    } catch (const std::exception& error) {
      if (attempt >= attempts || !is_lost_connection(error.what())) throw;
      spdlog::info("a pooled PostGIS connection was closed by the server; rendering again on another one");
    }
  }
}

tile_service::outcome_ptr tile_service::render_raster(render_context& context, const tile_request& request) const {
  auto outcome = std::make_shared<render_outcome>();
  const tileset_settings& tileset = settings_.tilesets.at(request.tileset);
  const metatile meta = metatile_of(request.tile, tileset.metatile);
  try {
    const raster_options options{request.format, request.scale, tileset.buffer};
    const std::uint64_t version = data_version(request.tileset);
    auto encoded_tiles =
        with_reconnection([&] { return render_raster_metatile(context.map(request.tileset), meta, options); });
    for (auto& encoded : encoded_tiles) {
      outcome->tiles.emplace_back(encoded.tile, make_cached_tile(std::move(encoded.bytes), version));
    }
  } catch (const std::exception& error) {
    outcome->error = without_passwords(error.what());
    outcome->unavailable = settings_.postgis.configured && !postgis_reachable();
    if (!outcome->unavailable) {
      spdlog::error("render failed: tileset {} metatile {}/{}/{} size {}: {}", request.tileset, meta.z, meta.x,
                    meta.y, meta.size, outcome->error);
    }
  }
  return outcome;
}

tile_service::outcome_ptr tile_service::render_vector(render_context& context, const tile_request& request) const {
  auto outcome = std::make_shared<render_outcome>();
  const tileset_settings& tileset = settings_.tilesets.at(request.tileset);
  try {
    const std::string pbf = with_reconnection(
        [&] { return render_vector_tile(context.map(request.tileset), request.tile, tileset.vector); });
    // Stored compressed: most clients accept gzip, and the rest get it inflated.
    std::string body = pbf.empty() ? std::string{} : gzip_compress(pbf);
    outcome->tiles.emplace_back(request.tile, make_cached_tile(std::move(body), data_version(request.tileset)));
  } catch (const std::exception& error) {
    outcome->error = without_passwords(error.what());
    outcome->unavailable = settings_.postgis.configured && !postgis_reachable();
    if (!outcome->unavailable) {
      spdlog::error("vector tile failed: tileset {} tile {}/{}/{}: {}", request.tileset, request.tile.z,
                    request.tile.x, request.tile.y, outcome->error);
    }
  }
  return outcome;
}

void tile_service::store(const tile_request& request, const render_outcome& outcome) {
  std::vector<std::pair<tile_key, cached_tile>> entries;
  entries.reserve(outcome.tiles.size());
  for (const auto& [tile, bytes] : outcome.tiles) {
    entries.emplace_back(tile_key{request.tileset, request.format, request.scale, tile}, *bytes);
  }
  const bool stored = store_.put_batch(entries);
  if (!stored) ++metrics_.cache_write_failures;
  cache_writable_ = stored;
}

}  // namespace tuilerie
