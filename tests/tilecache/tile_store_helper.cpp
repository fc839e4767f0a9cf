// A second process for the multi-process tile store test: stores or checks generated tiles.
//
//   tile_store_helper PATH put   TILESET FIRST_X COUNT BODY_BYTES
//   tile_store_helper PATH check TILESET FIRST_X COUNT BODY_BYTES
//
// Tiles are z14, x from FIRST_X, y 5700, version 1, bodies from make_body.
// The map starts at 256 KiB and may grow to 64 MiB. Exit status: 0 on
// success, 1 when a tile to check is absent, 2 when its body differs, 3 when
// a batch could not be stored, 4 for bad arguments or a cache error.
#include "tilecache/tile_store.hpp"

#include "tests/tilecache/cache_test_support.hpp"

#include <cstdlib>
#include <iostream>
#include <string>

namespace {

using tuilerie::tile_key;

tile_key key_at(const std::string& tileset, std::uint32_t x) {
  return tile_key{tileset, tuilerie::tile_format::png, 1, {14, x, 5700}};
}

int put_tiles(tuilerie::tile_store& store, const std::string& tileset, std::uint32_t first_x, std::uint32_t count,
              std::size_t body_bytes) {
  for (std::uint32_t x = first_x; x < first_x + count; ++x) {
    tuilerie::cached_tile tile;
    tile.body = tuilerie::testing::make_body(key_at(tileset, x).tile, 1, body_bytes);
    tile.data_version = 1;
    if (!store.put_batch({{key_at(tileset, x), tile}})) {
      std::cerr << "tile_store_helper: could not store x=" << x << "\n";
      return 3;
    }
  }
  return 0;
}

int check_tiles(tuilerie::tile_store& store, const std::string& tileset, std::uint32_t first_x,
                std::uint32_t count, std::size_t body_bytes) {
  for (std::uint32_t x = first_x; x < first_x + count; ++x) {
    const auto tile = store.get(key_at(tileset, x));
    if (!tile) {
      std::cerr << "tile_store_helper: tile x=" << x << " is absent\n";
      return 1;
    }
    if (tile->body != tuilerie::testing::make_body(key_at(tileset, x).tile, 1, body_bytes)) {
      std::cerr << "tile_store_helper: tile x=" << x << " has a different body\n";
      return 2;
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 7) {
    std::cerr << "usage: tile_store_helper PATH put|check TILESET FIRST_X COUNT BODY_BYTES\n";
    return 4;
  }
  try {
    const std::string mode = argv[2];
    const std::string tileset = argv[3];
    const auto first_x = static_cast<std::uint32_t>(std::stoul(argv[4]));
    const auto count = static_cast<std::uint32_t>(std::stoul(argv[5]));
    const auto body_bytes = static_cast<std::size_t>(std::stoul(argv[6]));

    tuilerie::tile_store store(tuilerie::tile_store_options{argv[1], 256 * 1024, 64 << 20});
    if (mode == "put") return put_tiles(store, tileset, first_x, count, body_bytes);
    if (mode == "check") return check_tiles(store, tileset, first_x, count, body_bytes);
    std::cerr << "tile_store_helper: unknown mode '" << mode << "'; expected put or check\n";
  } catch (const std::exception& error) {
    std::cerr << "tile_store_helper: " << error.what() << "\n";
  }
  return 4;
}
