// Deleting selected entries of a key range in write transactions of bounded size.
#pragma once

#include "tilecache/lmdb_env.hpp"

#include <cstdint>
#include <functional>
#include <string_view>

namespace tuilerie {

enum class sweep_decision { keep, remove };

// Selects entries to delete from their key and stored value. It must not
// depend on how many entries it selected before, because a transaction that
// fails with MDB_MAP_FULL runs again after the map grows.
using sweep_filter = std::function<sweep_decision(std::string_view key, std::string_view value)>;

struct sweep_request {
  std::string_view prefix;  // visit the keys that start with it; empty for all
  sweep_filter filter;
  std::uint64_t max_deletes = UINT64_MAX;
  std::uint64_t max_map_size = 0;  // the map may grow to this size when a transaction runs out of room
};

// Visits the keys of the request's prefix in order and deletes those the
// filter selects, committing every few hundred deletes or few thousand visits
// so that LMDB's single writer lock is never held for long. Sets `deleted` to
// the deletes committed. Returns 0 or the LMDB error code that stopped it.
int sweep(lmdb_env& env, const sweep_request& request, std::uint64_t& deleted);

}  // namespace tuilerie
