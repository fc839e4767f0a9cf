// The files a Mapnik style reads, so that a change to any of them is seen.
#pragma once

#include <filesystem>
#include <vector>

namespace mapnik {
class Map;
}

namespace tuilerie {

// Every local file the map's layers read, as absolute paths: the datasource's
// `file` parameter and, for Shapefiles, the .shp, .shx, .dbf, .prj and .cpg
// beside it. Database layers contribute nothing.
std::vector<std::filesystem::path> style_data_files(const mapnik::Map& map);

// Drops Mapnik's process-wide cache of memory-mapped files, which would
// otherwise keep serving a Shapefile's old contents after it is replaced.
void forget_mapped_files();

}  // namespace tuilerie
