// Encodes rendered RGBA tiles as PNG or WebP.
#pragma once

#include "render/tile_format.hpp"

#include <mapnik/image_view.hpp>
#include <mapnik/image_view_any.hpp>

#include <string>

namespace tuilerie {

// Encodes a tile view of a rendered (non-premultiplied) RGBA image. PNG goes
// through Mapnik's palette encoder ("png8", hextree quantisation), WebP
// through libvips.
// NOTE: this split follows the expectation that libvips is the faster WebP
// encoder and Mapnik's png8 the faster palette PNG; it is not yet measured
// here against the other library's encoder for each format.
std::string encode_tile_image(const mapnik::image_view_rgba8& view, tile_format format);

// Whether every pixel of the view is fully transparent.
bool is_fully_transparent(const mapnik::image_view_rgba8& view);

}  // namespace tuilerie
