// gzip compression: round trips, interoperability with the gzip tool, and rejected inputs.
#include "render/gzip.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

namespace tuilerie {
namespace {

// Bytes that compress poorly and cover every byte value, from a fixed linear congruential sequence.
std::string mixed_bytes(std::size_t size) {
  std::string bytes(size, '\0');
  std::uint32_t state = 12345;
  for (char& byte : bytes) {
    state = state * 1103515245u + 12345u;
    byte = static_cast<char>(state >> 24);
  }
  return bytes;
}

class gzip_tool_files {
 public:
  gzip_tool_files() {
    std::string pattern = (std::filesystem::temp_directory_path() / "tuilerie-gzip-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed for " + pattern);
    directory_ = pattern;
  }
  ~gzip_tool_files() {
    std::error_code error;
    std::filesystem::remove_all(directory_, error);
  }
  gzip_tool_files(const gzip_tool_files&) = delete;
  gzip_tool_files& operator=(const gzip_tool_files&) = delete;

  std::filesystem::path file(const std::string& name) const { return directory_ / name; }

 private:
  std::filesystem::path directory_;
};

void write_bytes(const std::filesystem::path& file, const std::string& bytes) {
  std::ofstream(file, std::ios::binary) << bytes;
}

std::string command_output(const std::string& command) {
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  std::string output;
  std::array<char, 65536> buffer;
  while (const std::size_t read = std::fread(buffer.data(), 1, buffer.size(), pipe.get())) {
    output.append(buffer.data(), read);
  }
  EXPECT_EQ(pclose(pipe.release()), 0) << command;
  return output;
}

TEST(Gzip, RoundTripKeepsBytes) {
  for (const std::string& data :
       {std::string(), std::string("a"), std::string(100000, 'x'), mixed_bytes(300000)}) {
    EXPECT_EQ(gzip_decompress(gzip_compress(data)), data) << "size " << data.size();
  }
}

TEST(Gzip, OutputHasGzipMagic) {
  const std::string compressed = gzip_compress("tile");
  ASSERT_GE(compressed.size(), 2u);
  EXPECT_EQ(static_cast<unsigned char>(compressed[0]), 0x1f);
  EXPECT_EQ(static_cast<unsigned char>(compressed[1]), 0x8b);
}

TEST(Gzip, GzipToolReadsOutput) {
  if (std::system("gzip --version > /dev/null 2>&1") != 0) GTEST_FAIL() << "the gzip tool is not installed";
  const gzip_tool_files files;
  const std::string data = mixed_bytes(200000) + std::string(50000, 'z');
  write_bytes(files.file("tile.gz"), gzip_compress(data));
  EXPECT_EQ(command_output("timeout 60 gzip -dc '" + files.file("tile.gz").string() + "'"), data);
}

TEST(Gzip, ReadsGzipToolOutput) {
  if (std::system("gzip --version > /dev/null 2>&1") != 0) GTEST_FAIL() << "the gzip tool is not installed";
  const gzip_tool_files files;
  const std::string data = mixed_bytes(200000) + std::string(50000, 'z');
  write_bytes(files.file("tile"), data);
  EXPECT_EQ(gzip_decompress(command_output("timeout 60 gzip -9 -c '" + files.file("tile").string() + "'")),
            data);
}

TEST(Gzip, TruncatedInputIsRejected) {
  const std::string compressed = gzip_compress(mixed_bytes(10000));
  EXPECT_THROW(gzip_decompress(compressed.substr(0, compressed.size() - 5)), gzip_error);
  EXPECT_THROW(gzip_decompress(compressed.substr(0, 10)), gzip_error);
  EXPECT_THROW(gzip_decompress(""), gzip_error);
}

TEST(Gzip, TrailingBytesAreRejected) {
  EXPECT_THROW(gzip_decompress(gzip_compress("tile") + "garbage"), gzip_error);
}

TEST(Gzip, NonGzipInputIsRejected) {
  EXPECT_THROW(gzip_decompress("\x1a\x05zones plain protobuf"), gzip_error);
}

TEST(Gzip, OutputLimitIsEnforced) {
  const std::string compressed = gzip_compress(std::string(1 << 20, '\0'));
  EXPECT_THROW(gzip_decompress(compressed, 1000), gzip_error);
  EXPECT_EQ(gzip_decompress(compressed, 1 << 20).size(), std::size_t{1} << 20);
}

}  // namespace
}  // namespace tuilerie
