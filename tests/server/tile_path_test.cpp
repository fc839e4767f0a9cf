// Tile URL parsing: the accepted grammar and every way to get it wrong.
#include "server/tile_path.hpp"

#include <gtest/gtest.h>

namespace tuilerie {
namespace {

tile_request parse_valid(std::string_view path) {
  auto parsed = parse_tile_path(path);
  if (auto* error = std::get_if<tile_path_error>(&parsed)) {
    ADD_FAILURE() << path << ": " << error->message;
    return {};
  }
  return std::get<tile_request>(parsed);
}

tile_path_error::kind rejection_of(std::string_view path) {
  auto parsed = parse_tile_path(path);
  if (auto* error = std::get_if<tile_path_error>(&parsed)) return error->reason;
  ADD_FAILURE() << path << " was accepted";
  return tile_path_error::kind::malformed;
}

TEST(TilePath, ParsesPng) {
  const tile_request request = parse_valid("flood/14/8299/5636.png");
  EXPECT_EQ(request.tileset, "flood");
  EXPECT_EQ(request.tile, (tile_id{14, 8299, 5636}));
  EXPECT_EQ(request.format, tile_format::png);
  EXPECT_EQ(request.scale, 1);
}

TEST(TilePath, ParsesRetinaWebp) {
  const tile_request request = parse_valid("noise/10/518/352@2x.webp");
  EXPECT_EQ(request.format, tile_format::webp);
  EXPECT_EQ(request.scale, 2);
  EXPECT_EQ(request.tile.y, 352u);
}

TEST(TilePath, PbfIsMvtAlias) {
  EXPECT_EQ(parse_valid("flood/0/0/0.pbf").format, tile_format::mvt);
  EXPECT_EQ(parse_valid("flood/0/0/0.mvt").format, tile_format::mvt);
}

TEST(TilePath, LastTileOfHighestZoomIsValid) {
  const tile_request request = parse_valid("flood/24/16777215/16777215.png");
  EXPECT_EQ(request.tile.z, 24);
  EXPECT_EQ(request.tile.x, 16777215u);
}

TEST(TilePath, MalformedNumbersAreRejected) {
  for (const char* path : {"zones/-1/0/0.mvt", "zones/0/-1/0.mvt", "zones/0/0/-1.mvt", "zones/1.5/0/0.mvt",
                           "zones/+1/0/0.mvt", "zones/%31/0/0.mvt", "zones/abc/0/0.png", "zones/01/0/0.png",
                           "zones/ 1/0/0.png", "zones/1/0x1/0.png", "zones/25/0/0.png",
                           "zones/99999999999/0/0.png", "zones/1/0/0@3x.png", "zones/1/0/0@2x.mvt",
                           "zones/1/0/0.gif", "zones/1/0/0", "zones/1/0/.png", "zones//1/0/0.png",
                           "zones/1/0/0/0.png", "zones/1/0.png", "", "../../etc/passwd/0/0/0.png",
                           "..%2f..%2fetc/0/0/0.png", "zones%00.xml/0/0/0.png", "%3Csvg%3E/0/0/0.png"}) {
    EXPECT_EQ(rejection_of(path), tile_path_error::kind::malformed) << path;
  }
}

TEST(TilePath, OutsideGridIsItsOwnKind) {
  for (const char* path : {"zones/4/16/16.mvt", "zones/4/15/16.png", "zones/0/0/1.png", "zones/0/1/0.webp",
                           "zones/3/8/0.mvt"}) {
    EXPECT_EQ(rejection_of(path), tile_path_error::kind::outside_grid) << path;
  }
}

}  // namespace
}  // namespace tuilerie
