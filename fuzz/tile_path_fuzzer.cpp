// Fuzz target for parse_tile_path: the input is the part of a URL after "/tiles/".
#include "render/tile_format.hpp"
#include "render/tile_grid.hpp"
#include "server/tile_path.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>

namespace {

using tuilerie::tile_path_error;
using tuilerie::tile_request;

// Prints what broke and aborts, so that libFuzzer saves the input as a crash.
[[noreturn]] void fail(std::string_view path, const char* broken_invariant) {
  std::fprintf(stderr, "tile_path_fuzzer: %s, path '", broken_invariant);
  std::fwrite(path.data(), 1, path.size(), stderr);
  std::fprintf(stderr, "'\n");
  std::abort();
}

// The canonical path of a request, as the viewer and TileJSON write it.
std::string path_of(const tile_request& request) {
  std::string path = request.tileset + "/" + std::to_string(request.tile.z) + "/" + std::to_string(request.tile.x) +
                     "/" + std::to_string(request.tile.y);
  if (request.scale == 2) path += "@2x";
  return path + "." + std::string(tuilerie::extension_of(request.format));
}

bool is_known_format(tuilerie::tile_format format) {
  return format == tuilerie::tile_format::png || format == tuilerie::tile_format::webp ||
         format == tuilerie::tile_format::mvt;
}

void check_accepted(std::string_view path, const tile_request& request) {
  if (!tuilerie::is_in_grid(request.tile)) fail(path, "accepted a tile outside the grid");
  if (!is_known_format(request.format)) fail(path, "accepted an unknown format");
  if (request.scale != 1 && request.scale != 2) fail(path, "accepted a scale other than 1 or 2");
  if (request.scale == 2 && !tuilerie::is_raster(request.format)) fail(path, "accepted @2x on a vector tile");

  // The grammar has one spelling per request, except for ".pbf", an alias of ".mvt".
  const std::string canonical = path_of(request);
  std::string spelled(path);
  if (spelled.ends_with(".pbf")) spelled.replace(spelled.size() - 3, 3, "mvt");
  if (spelled != canonical) fail(path, "accepted a path that is not the canonical spelling of its request");

  const auto reparsed = tuilerie::parse_tile_path(canonical);
  const auto* again = std::get_if<tile_request>(&reparsed);
  if (!again) fail(canonical, "rejected the canonical path of an accepted request");
  if (again->tileset != request.tileset || again->tile != request.tile || again->format != request.format ||
      again->scale != request.scale) {
    fail(path, "parsing the canonical path gave another request");
  }
}

void check_rejected(std::string_view path, const tile_path_error& error) {
  if (error.message.empty()) fail(path, "rejected with an empty message");
  if (error.reason != tile_path_error::kind::malformed && error.reason != tile_path_error::kind::outside_grid) {
    fail(path, "rejected with an unknown reason");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view path(reinterpret_cast<const char*>(data), size);
  const auto parsed = tuilerie::parse_tile_path(path);
  if (const auto* request = std::get_if<tile_request>(&parsed)) {
    check_accepted(path, *request);
  } else {
    check_rejected(path, std::get<tile_path_error>(parsed));
  }
  return 0;
}
