// Data versions from file metadata and contents.
#include "tilecache/data_version.hpp"

#include <xxhash.h>

#include <fstream>
#include <sstream>
#include <string>
#include <sys/stat.h>

namespace tuilerie {

namespace {

class version_hasher {
 public:
  version_hasher() : state_(XXH3_createState()) { XXH3_64bits_reset(state_); }
  ~version_hasher() { XXH3_freeState(state_); }
  version_hasher(const version_hasher&) = delete;
  version_hasher& operator=(const version_hasher&) = delete;

  void add(const void* data, std::size_t size) { XXH3_64bits_update(state_, data, size); }
  void add(const std::string& text) { add(text.data(), text.size() + 1); }
  template <class T>
  void add_value(const T& value) {
    add(&value, sizeof value);
  }
  std::uint64_t digest() const { return XXH3_64bits_digest(state_); }

 private:
  XXH3_state_t* state_;
};

void add_contents(version_hasher& hasher, const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  char buffer[64 * 1024];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) hasher.add(buffer, static_cast<std::size_t>(in.gcount()));
}

void add_file(version_hasher& hasher, const std::filesystem::path& file, bool always_hash_contents) {
  hasher.add(file.string());
  struct stat status {};
  if (stat(file.c_str(), &status) != 0) {
    hasher.add(std::string("missing"));
    return;
  }
  hasher.add_value(static_cast<std::int64_t>(status.st_size));
  hasher.add_value(static_cast<std::int64_t>(status.st_mtim.tv_sec));
  hasher.add_value(static_cast<std::int64_t>(status.st_mtim.tv_nsec));
  if (always_hash_contents || static_cast<std::uintmax_t>(status.st_size) < content_hash_limit_bytes) {
    add_contents(hasher, file);
  }
}

}  // namespace

std::uint64_t compute_data_version(const std::filesystem::path& style,
                                   const std::vector<std::filesystem::path>& data_files) {
  version_hasher hasher;
  add_file(hasher, style, true);
  for (const auto& file : data_files) add_file(hasher, file, false);
  return hasher.digest();
}

std::uint64_t compute_file_version(const std::filesystem::path& file) {
  version_hasher hasher;
  add_file(hasher, file, false);
  return hasher.digest();
}

}  // namespace tuilerie
