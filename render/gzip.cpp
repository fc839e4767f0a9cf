// gzip compression and decompression with zlib's deflate and inflate streams.
#include "render/gzip.hpp"

#include <zlib.h>

#include <array>
#include <climits>
#include <string>

namespace tuilerie {

namespace {

// 15 is zlib's largest window. Adding 16 selects gzip framing instead of the zlib wrapper in
// deflateInit2 and inflateInit2 (zlib.h).
constexpr int gzip_window_bits = 15 + 16;

// zlib's default memory level, which deflateInit uses.
constexpr int default_memory_level = 8;

// Output chunk for inflate: large enough for most tiles in a few calls.
constexpr std::size_t inflate_chunk_size = 64 * 1024;

std::string zlib_reason(const z_stream& stream, int code) {
  return stream.msg != nullptr ? stream.msg : zError(code);
}

Bytef* input_bytes(std::string_view data) {
  // zlib's API predates const; it only reads next_in.
  return reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
}

void check_input_size(std::string_view data, const char* operation) {
  if (data.size() > UINT_MAX) {
    throw gzip_error(std::string(operation) + ": input of " + std::to_string(data.size()) +
                     " bytes exceeds zlib's 4 GiB limit per call");
  }
}

// Ends a deflate or inflate stream when it goes out of scope.
template <int (*end)(z_streamp)>
class stream_guard {
 public:
  explicit stream_guard(z_stream& stream) : stream_(stream) {}
  ~stream_guard() { end(&stream_); }
  stream_guard(const stream_guard&) = delete;
  stream_guard& operator=(const stream_guard&) = delete;

 private:
  z_stream& stream_;
};

}  // namespace

std::string gzip_compress(std::string_view data) {
  check_input_size(data, "gzip compression");
  z_stream stream{};
  const int init = deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, gzip_window_bits,
                                default_memory_level, Z_DEFAULT_STRATEGY);
  if (init != Z_OK) throw gzip_error("gzip compression: deflateInit2 failed: " + zlib_reason(stream, init));
  const stream_guard<deflateEnd> guard(stream);

  // zlib.h documents deflateBound as large enough, gzip header and trailer included, for a single
  // deflate call with Z_FINISH. A call that still stops short throws below.
  std::string compressed(deflateBound(&stream, static_cast<uLong>(data.size())), '\0');
  stream.next_in = input_bytes(data);
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef*>(compressed.data());
  stream.avail_out = static_cast<uInt>(compressed.size());
  const int result = deflate(&stream, Z_FINISH);
  if (result != Z_STREAM_END)
    throw gzip_error("gzip compression: deflate failed: " + zlib_reason(stream, result));
  compressed.resize(stream.total_out);
  return compressed;
}

std::string gzip_decompress(std::string_view compressed, std::size_t max_size) {
  check_input_size(compressed, "gzip decompression");
  z_stream stream{};
  const int init = inflateInit2(&stream, gzip_window_bits);
  if (init != Z_OK) throw gzip_error("gzip decompression: inflateInit2 failed: " + zlib_reason(stream, init));
  const stream_guard<inflateEnd> guard(stream);

  stream.next_in = input_bytes(compressed);
  stream.avail_in = static_cast<uInt>(compressed.size());
  std::string inflated;
  std::array<char, inflate_chunk_size> chunk;
  int result = Z_OK;
  while (result != Z_STREAM_END) {
    stream.next_out = reinterpret_cast<Bytef*>(chunk.data());
    stream.avail_out = static_cast<uInt>(chunk.size());
    result = inflate(&stream, Z_NO_FLUSH);
    if (result == Z_BUF_ERROR) {
      // With a fresh output chunk, no progress means the input ended inside the member.
      throw gzip_error("gzip decompression: input truncated after " + std::to_string(compressed.size()) +
                       " bytes");
    }
    if (result != Z_OK && result != Z_STREAM_END) {
      throw gzip_error("gzip decompression: inflate failed: " + zlib_reason(stream, result));
    }
    const std::size_t produced = chunk.size() - stream.avail_out;
    if (inflated.size() + produced > max_size) {
      throw gzip_error("gzip decompression: output exceeds the limit of " + std::to_string(max_size) +
                       " bytes");
    }
    inflated.append(chunk.data(), produced);
  }
  if (stream.avail_in != 0) {
    throw gzip_error("gzip decompression: " + std::to_string(stream.avail_in) +
                     " unexpected bytes after the gzip member");
  }
  return inflated;
}

}  // namespace tuilerie
