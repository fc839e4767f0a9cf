// A tileset's data version: changes whenever its style or a data file does.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

namespace tuilerie {

// Hashes the style file's bytes and, for each data file, its path, size and
// modification time, plus its contents when smaller than
// content_hash_limit_bytes (cheap there, and it catches a copy that keeps the
// old time). A missing file hashes as missing, so its return changes the
// version again.
std::uint64_t compute_data_version(const std::filesystem::path& style,
                                   const std::vector<std::filesystem::path>& data_files);

// Hashes one data file the way compute_data_version does: its path, size and
// modification time, and its contents when smaller than
// content_hash_limit_bytes.
std::uint64_t compute_file_version(const std::filesystem::path& file);

inline constexpr std::uintmax_t content_hash_limit_bytes = 8u << 20;

}  // namespace tuilerie
