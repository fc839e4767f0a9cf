// The transparency check that lets empty tiles skip encoding: one visible pixel anywhere in the view,
// and only in the view, makes it non-transparent.
#include "render/image_encoder.hpp"

#include <gtest/gtest.h>
#include <mapnik/image.hpp>
#include <mapnik/image_view.hpp>

#include <cstdint>

namespace tuilerie {
namespace {

// A 64 x 64 image: colour without alpha everywhere. A premultiplied image never has such pixels, but a
// check that read the colour bytes would call them visible.
mapnik::image_rgba8 coloured_but_transparent() {
  mapnik::image_rgba8 image(64, 64);
  for (std::size_t y = 0; y < 64; ++y) {
    for (std::size_t x = 0; x < 64; ++x) image(x, y) = 0x00ffffffu;  // alpha is the top byte
  }
  return image;
}

TEST(IsFullyTransparent, ColourWithoutAlphaIsTransparent) {
  const auto image = coloured_but_transparent();
  EXPECT_TRUE(is_fully_transparent(mapnik::image_view_rgba8(0, 0, 64, 64, image)));
}

TEST(IsFullyTransparent, OneFaintPixelAnywhereIsSeen) {
  for (const auto& [x, y] : {std::pair{0u, 0u}, std::pair{63u, 63u}, std::pair{17u, 40u}}) {
    auto image = coloured_but_transparent();
    image(x, y) = 0x01000000u;  // alpha 1 of 255
    EXPECT_FALSE(is_fully_transparent(mapnik::image_view_rgba8(0, 0, 64, 64, image))) << x << "," << y;
  }
}

TEST(IsFullyTransparent, OnlyTheViewCounts) {
  auto image = coloured_but_transparent();
  image(40, 40) = 0xff0000ffu;
  EXPECT_TRUE(is_fully_transparent(mapnik::image_view_rgba8(0, 0, 32, 32, image)));
  EXPECT_FALSE(is_fully_transparent(mapnik::image_view_rgba8(32, 32, 32, 32, image)));
  EXPECT_TRUE(is_fully_transparent(mapnik::image_view_rgba8(41, 32, 16, 32, image))) << "column 41 onwards";
}

}  // namespace
}  // namespace tuilerie
