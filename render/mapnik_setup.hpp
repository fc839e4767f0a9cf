// One-time Mapnik set-up (input plugins, fonts) and style loading.
#pragma once

#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace mapnik {
class Map;
}

namespace tuilerie {

// A style that cannot be used: a parse error, a missing plugin, data file or
// font. The message names the style file and what to fix.
class style_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The text with the value of every password=... in it hidden. Mapnik's
// postgis input and GDAL put connection strings into their messages, and a
// password must never reach a log or a client.
std::string without_passwords(const std::string& text);

// Registers Mapnik's input plugins from the directory mapnik-config reported
// at build time and the fonts of the given directories (searched
// recursively). Safe to call more than once; throws style_error when the
// plugin directory contains no plugin.
void setup_mapnik(const std::vector<std::filesystem::path>& font_directories);

// The font directories of the Debian font packages that install-deps.sh installs.
std::vector<std::filesystem::path> default_font_directories();

// Sets the connection pool size given to every postgis layer that sets no
// max_size of its own. Mapnik's pool is shared by all layers with the same
// connection settings; call before loading styles.
void set_postgis_pool_size(unsigned connections);

// The maximum number of connections of one Mapnik PostGIS pool, over the styles
// loaded so far; 0 when none reads PostGIS.
unsigned largest_postgis_pool_size();

// Loads a Mapnik XML style in strict mode into a new map whose size is one
// tile of 256 px. Throws style_error naming the file.
std::unique_ptr<mapnik::Map> load_style(const std::filesystem::path& style_file);

// Checks what Mapnik's loader leaves to render time: every layer names an
// existing style, every text symbolizer's fonts are registered. Throws
// style_error naming the file, the layer or style, and the fix.
void validate_style(const mapnik::Map& map, const std::filesystem::path& style_file);

}  // namespace tuilerie
