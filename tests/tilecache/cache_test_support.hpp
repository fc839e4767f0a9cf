// Temporary directories, generated tile bodies and raw LMDB access for the cache tests.
#pragma once

#include "render/tile_grid.hpp"

#include <lmdb.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>

namespace tuilerie::testing {

// A fresh directory under the system's temporary directory, removed with its
// contents when the object goes out of scope.
class temporary_directory {
 public:
  temporary_directory() {
    std::string pattern = (std::filesystem::temp_directory_path() / "tuilerie-cache-test-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) {
      throw std::system_error(errno, std::generic_category(), "mkdtemp " + pattern);
    }
    path_ = pattern;
  }
  ~temporary_directory() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  temporary_directory(const temporary_directory&) = delete;
  temporary_directory& operator=(const temporary_directory&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Pseudo-random binary bytes, NULs included, that differ for every tile and
// version, so a test can recompute the body it expects from the key alone.
inline std::string make_body(const tile_id& tile, std::uint64_t version, std::size_t size) {
  std::string body(size, '\0');
  std::uint64_t state = (std::uint64_t(tile.z) << 58) ^ (std::uint64_t(tile.x) << 29) ^ tile.y ^
                        (version * 0x9e3779b97f4a7c15ull);
  for (std::size_t i = 0; i < size; ++i) {
    // Knuth's MMIX linear congruential generator; every seventh byte is NUL.
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    body[i] = i % 7 == 0 ? '\0' : static_cast<char>(state >> 56);
  }
  return body;
}

// Opens the environment directly through LMDB's C API, bypassing the tile
// store's checks. LMDB forbids opening one environment twice in a process, so
// the test closes its tile_store first.
class raw_lmdb {
 public:
  explicit raw_lmdb(const std::filesystem::path& directory) {
    check(mdb_env_create(&env_), "mdb_env_create");
    check(mdb_env_set_mapsize(env_, std::size_t{64} << 20), "mdb_env_set_mapsize");
    check(mdb_env_open(env_, directory.c_str(), 0, 0664), "mdb_env_open " + directory.string());
  }
  ~raw_lmdb() { mdb_env_close(env_); }
  raw_lmdb(const raw_lmdb&) = delete;
  raw_lmdb& operator=(const raw_lmdb&) = delete;

  std::optional<std::string> get(const std::string& key) {
    MDB_txn* txn = nullptr;
    check(mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn), "mdb_txn_begin");
    MDB_dbi dbi = 0;
    check(mdb_dbi_open(txn, nullptr, 0, &dbi), "mdb_dbi_open");
    MDB_val lmdb_key{key.size(), const_cast<char*>(key.data())};
    MDB_val value;
    const int code = mdb_get(txn, dbi, &lmdb_key, &value);
    std::optional<std::string> result;
    if (code == 0) result = std::string(static_cast<const char*>(value.mv_data), value.mv_size);
    mdb_txn_abort(txn);
    if (code != 0 && code != MDB_NOTFOUND) check(code, "mdb_get");
    return result;
  }

  void put(const std::string& key, const std::string& value) {
    MDB_txn* txn = nullptr;
    check(mdb_txn_begin(env_, nullptr, 0, &txn), "mdb_txn_begin");
    MDB_dbi dbi = 0;
    check(mdb_dbi_open(txn, nullptr, 0, &dbi), "mdb_dbi_open");
    MDB_val lmdb_key{key.size(), const_cast<char*>(key.data())};
    MDB_val lmdb_value{value.size(), const_cast<char*>(value.data())};
    check(mdb_put(txn, dbi, &lmdb_key, &lmdb_value, 0), "mdb_put");
    check(mdb_txn_commit(txn), "mdb_txn_commit");
  }

 private:
  static void check(int code, const std::string& action) {
    if (code != 0) throw std::runtime_error(action + " failed: " + mdb_strerror(code));
  }

  MDB_env* env_ = nullptr;
};

}  // namespace tuilerie::testing
