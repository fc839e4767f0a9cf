# Locate Tuilerie's dependencies, all from Debian 12 packages.

find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(Boost 1.74 EXACT REQUIRED COMPONENTS system)
find_package(yaml-cpp REQUIRED)
find_package(spdlog REQUIRED)
find_package(fmt REQUIRED)
find_package(CLI11 REQUIRED)
find_package(nlohmann_json REQUIRED)
find_package(GDAL REQUIRED)
find_package(ZLIB REQUIRED)
# SQLite writes MBTiles exports; CMake's own FindSQLite3 module finds libsqlite3-dev.
find_package(SQLite3 REQUIRED)
# GEOS repairs polygons that snapping to the vector tile grid made invalid.
find_package(GEOS 3.10 CONFIG REQUIRED)
pkg_check_modules(LMDB REQUIRED IMPORTED_TARGET lmdb)
pkg_check_modules(VIPS REQUIRED IMPORTED_TARGET vips-cpp)
pkg_check_modules(PROJ REQUIRED IMPORTED_TARGET proj)
# libpq: LISTEN/NOTIFY for PostGIS edits (server/postgis.cpp).
pkg_check_modules(LIBPQ REQUIRED IMPORTED_TARGET libpq)
find_path(XXHASH_INCLUDE_DIR xxhash.h REQUIRED)
find_library(XXHASH_LIBRARY xxhash REQUIRED)
find_path(PROTOZERO_INCLUDE_DIR protozero/pbf_writer.hpp REQUIRED)

add_library(tuilerie_xxhash INTERFACE)
target_include_directories(tuilerie_xxhash SYSTEM INTERFACE ${XXHASH_INCLUDE_DIR})
target_link_libraries(tuilerie_xxhash INTERFACE ${XXHASH_LIBRARY})

add_library(tuilerie_protozero INTERFACE)
target_include_directories(tuilerie_protozero SYSTEM INTERFACE ${PROTOZERO_INCLUDE_DIR})

# Mapnik 3.1 ships neither a pkg-config file nor a CMake package, only
# mapnik-config. Its --cflags forces -std=c++14, so ask for the include paths
# and defines separately and keep them on one interface target, linked only by
# the libraries whose sources include Mapnik headers (they compile slowly).
find_program(MAPNIK_CONFIG mapnik-config REQUIRED)
function(tuilerie_mapnik_config output)
  execute_process(COMMAND ${MAPNIK_CONFIG} ${ARGN}
    OUTPUT_VARIABLE value OUTPUT_STRIP_TRAILING_WHITESPACE COMMAND_ERROR_IS_FATAL ANY)
  separate_arguments(value UNIX_COMMAND "${value}")
  set(${output} ${value} PARENT_SCOPE)
endfunction()

tuilerie_mapnik_config(mapnik_include_flags --includes --dep-includes)
tuilerie_mapnik_config(mapnik_define_flags --defines)
tuilerie_mapnik_config(mapnik_link_flags --libs --dep-libs)
tuilerie_mapnik_config(MAPNIK_INPUT_PLUGINS --input-plugins)
list(TRANSFORM mapnik_include_flags REPLACE "^-I" "")
# -DNDEBUG comes from Mapnik's own build; a Debug build of Tuilerie keeps its asserts.
list(FILTER mapnik_define_flags EXCLUDE REGEX "^-DNDEBUG$")
list(TRANSFORM mapnik_define_flags REPLACE "^-D" "")

add_library(tuilerie_mapnik INTERFACE)
target_include_directories(tuilerie_mapnik SYSTEM INTERFACE ${mapnik_include_flags})
target_compile_definitions(tuilerie_mapnik INTERFACE ${mapnik_define_flags})
target_link_libraries(tuilerie_mapnik INTERFACE ${mapnik_link_flags})
target_compile_definitions(tuilerie_mapnik INTERFACE
  TUILERIE_MAPNIK_INPUT_PLUGINS="${MAPNIK_INPUT_PLUGINS}")
