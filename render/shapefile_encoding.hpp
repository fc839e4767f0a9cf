// The character encoding of Shapefile attributes, from the .cpg file or the DBF header.
#pragma once

#include <filesystem>
#include <string>

namespace mapnik {
class Map;
}

namespace tuilerie {

// The ICU converter name for the attributes of a Shapefile (the path of its .shp, or the path without
// extension, as Mapnik's shape datasource takes it), in this order:
//   1. the .cpg file next to it: "UTF-8", "ISO-8859-1", "LATIN1", "1252", "CP1252", "88591", "65001"...;
//   2. else the DBF header's language driver id (byte 29), when it names a code page: 0x01 CP437,
//      0x02 CP850, 0x03 and 0x58 windows-1252, 0x64 CP852, 0xC8 windows-1250...;
//   3. else ISO-8859-1, the usual default for DBF files. That includes language driver 0x57, which
//      means "the writer's ANSI code page" and so names none.
// Throws std::runtime_error naming the file when the .cpg names an encoding that ICU does not know.
std::string shapefile_encoding(const std::filesystem::path& shapefile);

// Recreates the datasource of every layer whose datasource type is "shape" and has no explicit
// "encoding" parameter, with the encoding that shapefile_encoding() finds. Mapnik's shape datasource
// would otherwise read every DBF as UTF-8, turning accented Latin-1 names into U+FFFD. Throws
// style_error naming the layer when the encoding is unknown or the datasource cannot be created.
void apply_shapefile_encodings(mapnik::Map& map);

}  // namespace tuilerie
