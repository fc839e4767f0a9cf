// Finds Shapefile encodings (.cpg file, DBF language driver) and reopens shape datasources with them.
#include "render/shapefile_encoding.hpp"

#include "render/mapnik_setup.hpp"

#include <mapnik/datasource.hpp>
#include <mapnik/datasource_cache.hpp>
#include <mapnik/layer.hpp>
#include <mapnik/map.hpp>
#include <mapnik/params.hpp>
#include <spdlog/spdlog.h>
#include <unicode/ucnv.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <utility>

namespace tuilerie {

namespace {

// The dBase default when neither a .cpg nor the language driver names an encoding.
constexpr const char* default_dbf_encoding = "ISO-8859-1";

// Offset of the language driver id in a DBF header (dBase IV and later, also written by ArcGIS).
constexpr std::streamoff language_driver_offset = 29;

// Language driver ids (DBF header byte 29) that name a fixed code page. 0x57 ("ANSI") means the
// code page of the computer that wrote the file, so it names none and is not listed.
constexpr std::array<std::pair<unsigned char, const char*>, 14> language_drivers{{
    {0x01, "cp437"},
    {0x02, "cp850"},
    {0x03, "windows-1252"},
    {0x58, "windows-1252"},
    {0x59, "windows-1252"},
    {0x64, "cp852"},
    {0x65, "cp866"},
    {0x66, "cp865"},
    {0x67, "cp861"},
    {0xC8, "windows-1250"},
    {0xC9, "windows-1251"},
    {0xCA, "windows-1254"},
    {0xCB, "windows-1253"},
    {0xCC, "windows-1257"},
}};

std::string lowercase(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

std::string uppercase(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::toupper(c); });
  return text;
}

// The Shapefile's path without ".shp", as Mapnik's shape datasource also strips it.
std::filesystem::path shapefile_base(const std::filesystem::path& shapefile) {
  std::filesystem::path base = shapefile;
  if (lowercase(base.extension().string()) == ".shp") base.replace_extension();
  return base;
}

// The sibling file with the extension in lower or upper case, if either exists.
std::optional<std::filesystem::path> sibling(const std::filesystem::path& base,
                                             const std::string& extension) {
  for (const std::string& candidate_extension : {extension, uppercase(extension)}) {
    std::filesystem::path candidate = base;
    candidate += candidate_extension;
    std::error_code error;
    if (std::filesystem::is_regular_file(candidate, error)) return candidate;
  }
  return std::nullopt;
}

std::string read_code_page(const std::filesystem::path& cpg) {
  std::ifstream file(cpg);
  std::string text;
  std::getline(file, text);
  const auto is_space = [](unsigned char c) { return std::isspace(c) != 0; };
  text.erase(text.begin(), std::find_if_not(text.begin(), text.end(), is_space));
  text.erase(std::find_if_not(text.rbegin(), text.rend(), is_space).base(), text.end());
  return text;
}

bool is_number(const std::string& text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); });
}

// ICU's name for a .cpg code page. ArcGIS writes bare numbers: Windows code pages ("1252"),
// ISO 8859 parts ("88591", "885915"), UTF-8 as "65001", and DOS code pages ("437", "850").
std::string icu_encoding_name(const std::string& code_page) {
  if (!is_number(code_page)) return code_page;
  if (code_page == "65001") return "UTF-8";
  if (code_page.starts_with("8859") && code_page.size() > 4) return "ISO-8859-" + code_page.substr(4);
  if (code_page.size() == 4 && code_page.starts_with("125")) return "windows-" + code_page;
  return "cp" + code_page;
}

bool icu_knows(const std::string& encoding) {
  UErrorCode status = U_ZERO_ERROR;
  UConverter* converter = ucnv_open(encoding.c_str(), &status);
  if (converter != nullptr) ucnv_close(converter);
  return U_SUCCESS(status);
}

std::optional<std::string> language_driver_encoding(const std::filesystem::path& dbf) {
  std::ifstream file(dbf, std::ios::binary);
  file.seekg(language_driver_offset);
  char id = 0;
  if (!file.get(id)) return std::nullopt;
  const auto found = std::find_if(language_drivers.begin(), language_drivers.end(), [id](const auto& entry) {
    return entry.first == static_cast<unsigned char>(id);
  });
  if (found == language_drivers.end()) return std::nullopt;
  return found->second;
}

std::filesystem::path shapefile_of(const mapnik::parameters& params) {
  const std::filesystem::path file = params.get<std::string>("file").value_or("");
  const boost::optional<std::string> base = params.get<std::string>("base");
  return base ? std::filesystem::path(*base) / file : file;
}

}  // namespace

std::string shapefile_encoding(const std::filesystem::path& shapefile) {
  const std::filesystem::path base = shapefile_base(shapefile);
  if (const std::optional<std::filesystem::path> cpg = sibling(base, ".cpg")) {
    const std::string code_page = read_code_page(*cpg);
    const std::string encoding = icu_encoding_name(code_page);
    if (!icu_knows(encoding)) {
      throw std::runtime_error(
          cpg->string() + ": unknown code page '" + code_page +
          "'; write an encoding that ICU knows (such as UTF-8 or ISO-8859-1) in the file, "
          "or set the datasource's encoding parameter");
    }
    return encoding;
  }
  if (const std::optional<std::filesystem::path> dbf = sibling(base, ".dbf")) {
    if (std::optional<std::string> encoding = language_driver_encoding(*dbf)) return *encoding;
  }
  return default_dbf_encoding;
}

void apply_shapefile_encodings(mapnik::Map& map) {
  for (mapnik::layer& layer : map.layers()) {
    const mapnik::datasource_ptr datasource = layer.datasource();
    if (!datasource) continue;
    mapnik::parameters params = datasource->params();
    if (params.get<std::string>("type").value_or("") != "shape" || params.get<std::string>("encoding"))
      continue;

    const std::filesystem::path shapefile = shapefile_of(params);
    try {
      params["encoding"] = shapefile_encoding(shapefile);
      layer.set_datasource(mapnik::datasource_cache::instance().create(params));
    } catch (const std::exception& error) {
      throw style_error("layer '" + layer.name() + "': cannot set the encoding of Shapefile " +
                        shapefile.string() + ": " + error.what());
    }
    spdlog::info("layer '{}': reading Shapefile {} as {}", layer.name(), shapefile.string(),
                 *params.get<std::string>("encoding"));
  }
}

}  // namespace tuilerie
