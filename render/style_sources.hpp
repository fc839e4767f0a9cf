// The files a Mapnik style reads, so that a change to any of them is seen, and their Web Mercator copies.
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

class mercator_copies;

// Points each ogr layer that reads a file in an SRS other than the map's at a
// Web Mercator copy of its features, so that renders skip reprojecting every
// vertex. Applies only to maps in EPSG:3857. Layers in EPSG:4326 keep their
// source (Mapnik converts those with its own formulas, not through PROJ), and
// so do layers with parameters a copy cannot keep. A layer whose copy fails
// keeps its source, with a warning.
void use_mercator_copies(mapnik::Map& map, mercator_copies& copies);

// Drops Mapnik's process-wide cache of memory-mapped files, which would
// otherwise keep serving a Shapefile's old contents after it is replaced.
void forget_mapped_files();

}  // namespace tuilerie
