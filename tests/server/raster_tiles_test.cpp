// Raster tiles from a real server: pixels, sizes, caching, seams, and GDAL as
// a client.
#include "images.hpp"
#include "server_process.hpp"
#include "shared_server.hpp"

#include "render/mapnik_setup.hpp"
#include "render/tile_grid.hpp"

#include <gtest/gtest.h>
#include <mapnik/agg_renderer.hpp>
#include <mapnik/image.hpp>
#include <mapnik/map.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace tuilerie::testing {
namespace {

const std::filesystem::path source_dir = TUILERIE_SOURCE_DIR;
const std::filesystem::path test_config = source_dir / "config" / "test.yaml";

std::string tile_target(const std::string& tileset, const tile_id& tile, const std::string& suffix = ".png") {
  return "/tiles/" + tileset + "/" + std::to_string(tile.z) + "/" + std::to_string(tile.x) + "/" +
         std::to_string(tile.y) + suffix;
}

// Pixel (column, row) inside a tile where the lon/lat point falls.
std::pair<int, int> pixel_of(const tile_id& tile, double lon, double lat, int side) {
  double x = 0;
  double y = 0;
  lonlat_to_mercator(lon, lat, x, y);
  const bbox bounds = mercator_bounds(tile);
  return {static_cast<int>((x - bounds.minx) / bounds.width() * side),
          static_cast<int>((bounds.maxy - y) / bounds.height() * side)};
}

tile_id tile_containing(double lon, double lat, int z) {
  const tile_range range = tiles_covering({lon, lat, lon, lat}, z);
  return {z, range.min_x, range.min_y};
}

class RasterTiles : public shared_server_test {
 protected:

  static rgba_image fetch_image(const std::string& target) {
    const auto reply = server->get(target);
    EXPECT_EQ(reply.status, 200u) << target;
    return decode_image(reply.body);
  }

};

// A point 414 m inside a "fort" (high) flood hazard zone of the Bourg-d'Oisans
// PPRN (data/flood/pprn-38DDT20200002-bourg-d-oisans, zone 98), found with
// ogr2ogr's PointOnSurface and reprojected to EPSG:4326 with gdaltransform.
constexpr double flood_lon = 6.057624;
constexpr double flood_lat = 45.025220;

TEST_F(RasterTiles, FloodZoneIsPaintedAndEmptyAreaIsTransparent) {
  const tile_id tile = tile_containing(flood_lon, flood_lat, 14);
  const rgba_image image = fetch_image(tile_target("flood", tile));
  ASSERT_EQ(image.width, 256);
  const auto [column, row] = pixel_of(tile, flood_lon, flood_lat, 256);
  const std::uint8_t* inside = image.at(column, row);
  EXPECT_GT(inside[3], 100) << "hazard zone not painted at pixel " << column << "," << row;
  // The PPRI convention paints high hazard in dark blue: blue dominates red.
  EXPECT_GT(inside[2], inside[0]);

  const rgba_image atlantic = fetch_image(tile_target("flood", {10, 483, 368}));
  for (int y = 0; y < atlantic.height; y += 16) {
    for (int x = 0; x < atlantic.width; x += 16) ASSERT_EQ(atlantic.at(x, y)[3], 0) << x << "," << y;
  }
}

TEST_F(RasterTiles, RetinaTilesAre512EvenWhenEmpty) {
  for (const char* suffix : {"@2x.png", "@2x.webp"}) {
    EXPECT_EQ(fetch_image(tile_target("flood", {10, 483, 368}, suffix)).width, 512) << suffix;
    EXPECT_EQ(fetch_image(tile_target("communes", {10, 518, 352}, suffix)).width, 512) << suffix;
  }
  for (const char* suffix : {".png", ".webp"}) {
    EXPECT_EQ(fetch_image(tile_target("flood", {10, 483, 368}, suffix)).width, 256) << suffix;
  }
  const auto webp = server->get(tile_target("communes", {10, 518, 352}, ".webp"));
  EXPECT_EQ(webp.header("content-type"), "image/webp");
  EXPECT_EQ(webp.body.substr(8, 4), "WEBP");
}

TEST_F(RasterTiles, RetinaIsRenderedNotUpscaled) {
  // An upscaled tile has every pixel doubled; a real @2x render draws
  // edges one pixel wide, so some 2x2 blocks are not uniform.
  const tile_id orleans = tile_containing(1.909, 47.902, 12);
  const rgba_image image = fetch_image(tile_target("communes", orleans, "@2x.png"));
  int mixed_blocks = 0;
  for (int y = 0; y < image.height; y += 2) {
    for (int x = 0; x < image.width; x += 2) {
      if (std::memcmp(image.at(x, y), image.at(x + 1, y), 4) != 0 ||
          std::memcmp(image.at(x, y), image.at(x, y + 1), 4) != 0) {
        ++mixed_blocks;
      }
    }
  }
  EXPECT_GT(mixed_blocks, 100);
}

TEST_F(RasterTiles, SecondRequestIsServedFromCache) {
  const tile_id tile{11, 1035, 709};
  const double hits_before = metric_value(server->get("/metrics").body, "tuilerie_cache_hits_total");
  const auto first = server->get(tile_target("communes", tile));
  const auto second = server->get(tile_target("communes", tile));
  const double hits_after = metric_value(server->get("/metrics").body, "tuilerie_cache_hits_total");
  ASSERT_EQ(first.status, 200u);
  EXPECT_EQ(first.body, second.body);
  EXPECT_EQ(first.header("etag"), second.header("etag"));
  EXPECT_GE(hits_after - hits_before, 1);
  // The neighbour in the same metatile was stored by the same render.
  const auto neighbour = server->get(tile_target("communes", {11, 1034, 708}));
  EXPECT_EQ(neighbour.status, 200u);
  EXPECT_GE(metric_value(server->get("/metrics").body, "tuilerie_cache_hits_total") - hits_after, 1);
}

// Renders a block of tiles as one image with Mapnik in this process, the
// reference for the seam test.
rgba_image render_reference(const std::filesystem::path& style, const bbox& mercator, int side) {
  setup_mapnik(default_font_directories());
  auto map = load_style(style);
  map->resize(side, side);
  map->set_buffer_size(128);
  map->zoom_to_box({mercator.minx, mercator.miny, mercator.maxx, mercator.maxy});
  mapnik::image_rgba8 image(side, side);
  mapnik::agg_renderer<mapnik::image_rgba8> renderer(*map, image);
  renderer.apply();
  rgba_image result;
  result.width = side;
  result.height = side;
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(image.data());
  result.pixels.assign(bytes, bytes + image.size());
  return result;
}

TEST_F(RasterTiles, FourTilesAroundMetatileCornerHaveNoSeam) {
  // Column 2072 and row 1424 are multiples of 8, so these four z12 tiles east
  // of Orléans come from four different metatiles, with commune outlines and
  // labels crossing the shared edges.
  const std::vector<tile_id> tiles{{12, 2071, 1423}, {12, 2072, 1423}, {12, 2071, 1424}, {12, 2072, 1424}};
  std::vector<rgba_image> images;
  for (const auto& tile : tiles) images.push_back(fetch_image(tile_target("communes", tile)));
  const rgba_image stitched = stitch(images, 2);

  const bbox top_left = mercator_bounds(tiles[0]);
  const bbox bottom_right = mercator_bounds(tiles[3]);
  const rgba_image reference = render_reference(source_dir / "styles" / "communes.xml",
                                                {top_left.minx, bottom_right.miny, bottom_right.maxx, top_left.maxy},
                                                512);
  // Palette quantisation moves colours by a few levels; labels and lines
  // must be where the single render puts them.
  const double share = differing_pixel_share(stitched, reference, 24);
  if (share >= 0.0005) {
    save_png(stitched, "seam-stitched.png");
    save_png(reference, "seam-reference.png");
  }
  // One missing or cut label ("Traînou" sits on column 2072's west edge)
  // is about 500 pixels, 0.2 % of the image.
  EXPECT_LT(share, 0.0005) << "see seam-stitched.png and seam-reference.png in the test directory";
}

TEST_F(RasterTiles, GdalReadsServerAsTmsSource) {
  const tile_id tile{12, 2069, 1424};
  const bbox bounds = mercator_bounds(tile);
  const auto directory = std::filesystem::temp_directory_path() / ("tuilerie-gdal-" + std::to_string(getpid()));
  std::filesystem::create_directories(directory);
  const auto description = directory / "tuilerie.xml";
  std::ofstream(description) << "<GDAL_WMS><Service name=\"TMS\"><ServerUrl>http://127.0.0.1:" << server->port()
                             << "/tiles/communes/${z}/${x}/${y}.png</ServerUrl></Service>"
                             << "<DataWindow><UpperLeftX>-20037508.342789244</UpperLeftX>"
                             << "<UpperLeftY>20037508.342789244</UpperLeftY>"
                             << "<LowerRightX>20037508.342789244</LowerRightX>"
                             << "<LowerRightY>-20037508.342789244</LowerRightY>"
                             << "<TileLevel>18</TileLevel><TileCountX>1</TileCountX><TileCountY>1</TileCountY>"
                             << "<YOrigin>top</YOrigin></DataWindow><Projection>EPSG:3857</Projection>"
                             << "<BlockSizeX>256</BlockSizeX><BlockSizeY>256</BlockSizeY><BandsCount>4</BandsCount>"
                             << "<ZeroBlockHttpCodes>204,404</ZeroBlockHttpCodes></GDAL_WMS>";
  const auto output = directory / "tile.tif";
  const std::string command = "gdal_translate -q -r nearest -outsize 256 256 -projwin " +
                              std::to_string(bounds.minx) + " " + std::to_string(bounds.maxy) + " " +
                              std::to_string(bounds.maxx) + " " + std::to_string(bounds.miny) + " --config GDAL_HTTP_TIMEOUT 60 " +
                              description.string() + " " + output.string();
  ASSERT_EQ(std::system(command.c_str()), 0) << command;

  std::ifstream in(output, std::ios::binary);
  const std::string tiff((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const rgba_image from_gdal = decode_image(tiff);
  const rgba_image from_server = fetch_image(tile_target("communes", tile));
  EXPECT_LT(differing_pixel_share(from_gdal, from_server, 0), 0.001);
  std::filesystem::remove_all(directory);
}

}  // namespace
}  // namespace tuilerie::testing
