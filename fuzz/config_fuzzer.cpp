// Fuzz target for parse_config: the input is the YAML text of a configuration file.
#include "server/config.hpp"

#include <cxxabi.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <memory>
#include <string>
#include <typeinfo>

namespace {

// A file name in the source tree's config/ folder, so that the relative style and source paths of the
// shipped configurations, used as seeds, resolve to files that exist. The file itself is never read.
const std::filesystem::path config_file = std::filesystem::path(TUILERIE_SOURCE_DIR) / "config" / "fuzz.yaml";

[[noreturn]] void fail(const std::string& yaml, const std::string& broken_invariant) {
  std::fprintf(stderr, "config_fuzzer: %s\n--- input ---\n", broken_invariant.c_str());
  std::fwrite(yaml.data(), 1, yaml.size(), stderr);
  std::fprintf(stderr, "\n-------------\n");
  std::abort();
}

// The readable name of an exception's type, such as YAML::TypedBadConversion<std::string>.
std::string type_name(const std::exception& error) {
  const char* mangled = typeid(error).name();
  int status = 0;
  const std::unique_ptr<char, void (*)(void*)> demangled(abi::__cxa_demangle(mangled, nullptr, nullptr, &status),
                                                          std::free);
  return status == 0 && demangled ? demangled.get() : mangled;
}

// Checks what parse_config promises for a configuration it accepts.
void check_accepted(const std::string& yaml, const tuilerie::config& loaded) {
  if (loaded.tilesets.empty()) fail(yaml, "accepted a configuration without tilesets");
  for (const auto& [name, tileset] : loaded.tilesets) {
    if (!tuilerie::is_valid_tileset_name(name)) fail(yaml, "accepted an invalid tileset name");
    if (tileset.minzoom < 0 || tileset.minzoom > tileset.maxzoom || tileset.maxzoom > tuilerie::max_zoom) {
      fail(yaml, "accepted a tileset with zooms out of order or out of range");
    }
    if (tileset.formats.empty()) fail(yaml, "accepted a tileset without formats");
    if (tileset.metatile == 0 || (tileset.metatile & (tileset.metatile - 1)) != 0) {
      fail(yaml, "accepted a metatile size that is not a power of two");
    }
    if (tileset.vector.extent == 0 || tileset.vector.buffer > tileset.vector.extent) {
      fail(yaml, "accepted a vector extent of 0 or a buffer larger than the extent");
    }
    const tuilerie::bbox& bounds = tileset.bounds;
    if (!(bounds.minx < bounds.maxx && bounds.miny < bounds.maxy)) fail(yaml, "accepted empty or inverted bounds");
  }
  if (loaded.ogc.default_limit < 1 || loaded.ogc.default_limit > loaded.ogc.max_limit) {
    fail(yaml, "accepted ogc.default_limit outside [1, ogc.max_limit]");
  }
  if (!tuilerie::is_valid_ogc_base_path(loaded.ogc.base_path)) fail(yaml, "accepted an invalid ogc.base_path");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string yaml(reinterpret_cast<const char*>(data), size);
  try {
    check_accepted(yaml, tuilerie::parse_config(yaml, config_file));
  } catch (const tuilerie::config_error& error) {
    const std::string message = error.what();
    // Every message starts with the file name, so that an operator knows which file to fix.
    if (!message.starts_with(config_file.string())) fail(yaml, "config_error without the file name: " + message);
  } catch (const std::exception& error) {
    // parse_config promises config_error only; any other type escaping is a bug in the loader.
    fail(yaml, "parse_config threw " + type_name(error) + " instead of config_error: " + error.what());
  }
  return 0;
}
