// WMTS 1.0.0 capabilities, KVP checks and exception reports.
#include "server/features/wmts.hpp"

#include "render/tile_format.hpp"
#include "render/tile_grid.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>

namespace tuilerie {

namespace http = boost::beast::http;

namespace {

// Size of a pixel in the scale denominators of OGC standards: 0.28 mm.
constexpr double standard_pixel_size_m = 0.00028;

constexpr std::string_view mercator_crs_urn = "urn:ogc:def:crs:EPSG::3857";

std::string xml_escape(std::string_view text) {
  std::string escaped;
  escaped.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&':
        escaped += "&amp;";
        break;
      case '<':
        escaped += "&lt;";
        break;
      case '>':
        escaped += "&gt;";
        break;
      case '"':
        escaped += "&quot;";
        break;
      case '\'':
        escaped += "&apos;";
        break;
      default:
        escaped += c;
    }
  }
  return escaped;
}

std::string_view media_type_of(tile_format format) {
  return format == tile_format::webp ? "image/webp" : "image/png";
}

bool serves_raster(const tileset_settings& tileset) {
  return tileset.serves(tile_format::png) || tileset.serves(tile_format::webp);
}

int highest_raster_zoom(const config& settings) {
  int zoom = 0;
  for (const auto& [name, tileset] : settings.tilesets) {
    if (serves_raster(tileset)) zoom = std::max(zoom, tileset.maxzoom);
  }
  return zoom;
}

std::string operation(std::string_view name, const std::string& kvp_url, const std::string& rest_url) {
  constexpr std::string_view get =
      R"(<ows:Get xlink:href="{}"><ows:Constraint name="GetEncoding"><ows:AllowedValues>)"
      R"(<ows:Value>{}</ows:Value></ows:AllowedValues></ows:Constraint></ows:Get>)";
  return fmt::format(R"(<ows:Operation name="{}"><ows:DCP><ows:HTTP>)", name) +
         fmt::format(fmt::runtime(get), xml_escape(kvp_url), "KVP") +
         fmt::format(fmt::runtime(get), xml_escape(rest_url), "RESTful") +
         "</ows:HTTP></ows:DCP></ows:Operation>";
}

std::string tile_matrix_limits(const tileset_settings& tileset) {
  std::string limits = "<TileMatrixSetLimits>";
  for (int z = tileset.minzoom; z <= tileset.maxzoom; ++z) {
    const tile_range range = tiles_covering(tileset.bounds, z);
    limits += fmt::format(
        "<TileMatrixLimits><TileMatrix>{}</TileMatrix><MinTileRow>{}</MinTileRow><MaxTileRow>{}</MaxTileRow>"
        "<MinTileCol>{}</MinTileCol><MaxTileCol>{}</MaxTileCol></TileMatrixLimits>",
        z, range.min_y, range.max_y, range.min_x, range.max_x);
  }
  return limits + "</TileMatrixSetLimits>";
}

std::string layer(const tileset_settings& tileset, const std::string& base_url) {
  std::string xml = "<Layer><ows:Title>" + xml_escape(tileset.title) + "</ows:Title>";
  if (!tileset.description.empty())
    xml += "<ows:Abstract>" + xml_escape(tileset.description) + "</ows:Abstract>";
  xml += fmt::format(
      "<ows:WGS84BoundingBox><ows:LowerCorner>{} {}</ows:LowerCorner><ows:UpperCorner>{} {}</ows:UpperCorner>"
      "</ows:WGS84BoundingBox>",
      tileset.bounds.minx, tileset.bounds.miny, tileset.bounds.maxx, tileset.bounds.maxy);
  xml += "<ows:Identifier>" + xml_escape(tileset.name) + "</ows:Identifier>";
  xml += R"(<Style isDefault="true"><ows:Identifier>default</ows:Identifier></Style>)";
  for (const auto format : tileset.formats) {
    if (is_raster(format)) xml += fmt::format("<Format>{}</Format>", media_type_of(format));
  }
  xml += fmt::format("<TileMatrixSetLink><TileMatrixSet>{}</TileMatrixSet>{}</TileMatrixSetLink>",
                     wmts_tile_matrix_set, tile_matrix_limits(tileset));
  for (const auto format : tileset.formats) {
    if (!is_raster(format)) continue;
    const std::string url_template = base_url + "/tiles/" + tileset.name +
                                     "/{TileMatrix}/{TileCol}/{TileRow}." + std::string(extension_of(format));
    xml += fmt::format(R"(<ResourceURL format="{}" resourceType="tile" template="{}"/>)",
                       media_type_of(format), xml_escape(url_template));
  }
  return xml + "</Layer>";
}

std::string tile_matrix_set(int highest_zoom) {
  const std::string corner = fmt::format("{} {}", -mercator_half_extent, mercator_half_extent);
  std::string xml = fmt::format(
      "<TileMatrixSet><ows:Identifier>{}</ows:Identifier><ows:BoundingBox crs=\"{}\"><ows:LowerCorner>{} {}"
      "</ows:LowerCorner><ows:UpperCorner>{} {}</ows:UpperCorner></ows:BoundingBox>"
      "<ows:SupportedCRS>{}</ows:SupportedCRS>"
      "<WellKnownScaleSet>urn:ogc:def:wkss:OGC:1.0:GoogleMapsCompatible</WellKnownScaleSet>",
      wmts_tile_matrix_set, mercator_crs_urn, -mercator_half_extent, -mercator_half_extent,
      mercator_half_extent, mercator_half_extent, mercator_crs_urn);
  for (int z = 0; z <= highest_zoom; ++z) {
    const double pixel_size_m = 2 * mercator_half_extent / 256 / tiles_per_side(z);
    xml += fmt::format(
        "<TileMatrix><ows:Identifier>{}</ows:Identifier><ScaleDenominator>{}</ScaleDenominator>"
        "<TopLeftCorner>{}</TopLeftCorner><TileWidth>256</TileWidth><TileHeight>256</TileHeight>"
        "<MatrixWidth>{}</MatrixWidth><MatrixHeight>{}</MatrixHeight></TileMatrix>",
        z, pixel_size_m / standard_pixel_size_m, corner, tiles_per_side(z), tiles_per_side(z));
  }
  return xml + "</TileMatrixSet>";
}

ows_exception missing(std::string_view name) {
  return {"MissingParameterValue", std::string(name), fmt::format("{} is missing", name),
          http::status::bad_request};
}

ows_exception invalid(std::string_view name, const std::string& text) {
  return {"InvalidParameterValue", std::string(name), text, http::status::bad_request};
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// The KVP parameters that GetTile reads. A repeated one is rejected; other
// unknown parameters are ignored, as WMTS 1.0.0 requires.
constexpr std::string_view get_tile_names[] = {"SERVICE", "REQUEST", "VERSION",       "LAYER",
                                               "STYLE",   "FORMAT",  "TILEMATRIXSET", "TILEMATRIX",
                                               "TILEROW", "TILECOL"};

std::optional<ows_exception> check_repeated(const query_parameters& parameters) {
  const auto& items = parameters.items();
  for (const auto name : get_tile_names) {
    const auto count = std::count_if(
        items.begin(), items.end(), [&](const auto& item) { return equals_ignoring_case(item.first, name); });
    if (count > 1) return invalid(name, fmt::format("{} is given more than once; give it once", name));
  }
  return std::nullopt;
}

// The service and request values are compared ignoring case: OWS makes
// values case-sensitive, but no client means anything else by "wmts".
std::optional<ows_exception> check_service(const query_parameters& parameters) {
  const auto service = parameters.get_ignoring_case("SERVICE");
  if (!service) return missing("SERVICE");
  if (!equals_ignoring_case(*service, "WMTS")) return invalid("SERVICE", "SERVICE must be WMTS");
  return std::nullopt;
}

std::optional<std::int64_t> parse_integer(std::string_view text) {
  std::int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

struct get_tile_values {
  std::string layer;
  tile_format format = tile_format::png;
  int zoom = 0;
  std::int64_t row = 0;
  std::int64_t column = 0;
};

std::optional<ows_exception> read_layer_style_format(const query_parameters& parameters,
                                                     get_tile_values& values) {
  const auto layer = parameters.get_ignoring_case("LAYER");
  if (!layer || layer->empty()) return missing("LAYER");
  if (!is_valid_tileset_name(*layer)) return invalid("LAYER", "LAYER names no layer; see the capabilities");
  values.layer = *layer;
  const auto style = parameters.get_ignoring_case("STYLE");
  if (!style) return missing("STYLE");
  if (!style->empty() && *style != "default")
    return invalid("STYLE", "STYLE must be default, the only style");
  const auto format = parameters.get_ignoring_case("FORMAT");
  if (!format) return missing("FORMAT");
  if (*format == "image/png") {
    values.format = tile_format::png;
  } else if (*format == "image/webp") {
    values.format = tile_format::webp;
  } else {
    return invalid("FORMAT", "FORMAT must be image/png or image/webp");
  }
  return std::nullopt;
}

std::optional<ows_exception> read_tile_address(const query_parameters& parameters, get_tile_values& values) {
  const auto matrix_set = parameters.get_ignoring_case("TILEMATRIXSET");
  if (!matrix_set) return missing("TILEMATRIXSET");
  if (*matrix_set != wmts_tile_matrix_set) {
    return invalid("TILEMATRIXSET", fmt::format("TILEMATRIXSET must be {}", wmts_tile_matrix_set));
  }
  const auto matrix = parameters.get_ignoring_case("TILEMATRIX");
  if (!matrix) return missing("TILEMATRIX");
  const auto zoom = parse_integer(*matrix);
  // Identifiers are the canonical decimals "0" to "24": "07" names no matrix.
  if (!zoom || *zoom < 0 || *zoom > max_zoom || std::to_string(*zoom) != *matrix) {
    return invalid("TILEMATRIX", fmt::format("TILEMATRIX must be a tile matrix of {}: 0 to {}",
                                             wmts_tile_matrix_set, max_zoom));
  }
  values.zoom = static_cast<int>(*zoom);
  for (const auto name : {std::string_view("TILEROW"), std::string_view("TILECOL")}) {
    const auto text = parameters.get_ignoring_case(name);
    if (!text) return missing(name);
    const auto value = parse_integer(*text);
    if (!value) return invalid(name, fmt::format("{} must be an integer", name));
    if (*value < 0 || *value >= static_cast<std::int64_t>(tiles_per_side(values.zoom))) {
      return ows_exception{"TileOutOfRange", std::string(name),
                           fmt::format("{} must be from 0 to {} at tile matrix {}", name,
                                       tiles_per_side(values.zoom) - 1, values.zoom),
                           http::status::bad_request};
    }
    (name == "TILEROW" ? values.row : values.column) = *value;
  }
  return std::nullopt;
}

std::optional<ows_exception> check_against_tileset(const std::map<std::string, tileset_settings>& tilesets,
                                                   const get_tile_values& values) {
  const auto found = tilesets.find(values.layer);
  if (found == tilesets.end() || !serves_raster(found->second)) {
    return invalid("LAYER", "LAYER names no layer; see the capabilities");
  }
  const tileset_settings& tileset = found->second;
  if (!tileset.serves(values.format)) return invalid("FORMAT", "this layer is not served in that FORMAT");
  if (!tileset.serves_zoom(values.zoom)) {
    return ows_exception{
        "TileOutOfRange", "TILEMATRIX",
        fmt::format("this layer has tile matrices {} to {}", tileset.minzoom, tileset.maxzoom),
        http::status::bad_request};
  }
  return std::nullopt;
}

}  // namespace

http_response ows_exception_response(const ows_exception& exception) {
  http_response response{exception.status, 11};
  response.set(http::field::content_type, "application/xml; charset=utf-8");
  response.body() = fmt::format(
      R"(<?xml version="1.0" encoding="UTF-8"?>)"
      "\n"
      R"(<ExceptionReport xmlns="http://www.opengis.net/ows/1.1" )"
      R"(xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" )"
      R"(xsi:schemaLocation="http://www.opengis.net/ows/1.1 http://schemas.opengis.net/ows/1.1.0/owsExceptionReport.xsd" )"
      R"(version="1.0.0" xml:lang="en"><Exception exceptionCode="{}" locator="{}"><ExceptionText>{}</ExceptionText>)"
      "</Exception></ExceptionReport>\n",
      xml_escape(exception.code), xml_escape(exception.locator), xml_escape(exception.text));
  return response;
}

std::string wmts_capabilities(const config& settings, const std::string& base_url) {
  std::string xml =
      R"(<?xml version="1.0" encoding="UTF-8"?>)"
      "\n"
      R"(<Capabilities xmlns="http://www.opengis.net/wmts/1.0" xmlns:ows="http://www.opengis.net/ows/1.1" )"
      R"(xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" )"
      R"(xsi:schemaLocation="http://www.opengis.net/wmts/1.0 http://schemas.opengis.net/wmts/1.0/wmtsGetCapabilities_response.xsd" )"
      R"(version="1.0.0">)";
  xml += "<ows:ServiceIdentification><ows:Title>" + xml_escape(settings.ogc.title) + "</ows:Title>";
  if (!settings.ogc.description.empty())
    xml += "<ows:Abstract>" + xml_escape(settings.ogc.description) + "</ows:Abstract>";
  xml +=
      "<ows:ServiceType>OGC WMTS</ows:ServiceType><ows:ServiceTypeVersion>1.0.0</ows:ServiceTypeVersion>"
      "</ows:ServiceIdentification>";
  const std::string capabilities_url = base_url + "/wmts/1.0.0/WMTSCapabilities.xml";
  xml += "<ows:OperationsMetadata>" + operation("GetCapabilities", base_url + "/wmts?", capabilities_url) +
         operation("GetTile", base_url + "/wmts?", base_url + "/tiles/") + "</ows:OperationsMetadata>";
  xml += "<Contents>";
  for (const auto& [name, tileset] : settings.tilesets) {
    if (serves_raster(tileset)) xml += layer(tileset, base_url);
  }
  xml += tile_matrix_set(highest_raster_zoom(settings)) + "</Contents>";
  xml += R"(<ServiceMetadataURL xlink:href=")" + xml_escape(capabilities_url) + R"("/>)";
  return xml + "</Capabilities>\n";
}

std::variant<std::string, ows_exception> parse_get_tile(
    const query_parameters& parameters, const std::map<std::string, tileset_settings>* tilesets) {
  if (auto error = check_repeated(parameters)) return *error;
  if (auto error = check_service(parameters)) return *error;
  const auto request = parameters.get_ignoring_case("REQUEST");
  if (!request) return missing("REQUEST");
  if (!equals_ignoring_case(*request, "GetTile")) return invalid("REQUEST", "REQUEST must be GetTile here");
  const auto version = parameters.get_ignoring_case("VERSION");
  if (!version) return missing("VERSION");
  if (*version != "1.0.0") return invalid("VERSION", "VERSION must be 1.0.0");

  get_tile_values values;
  if (auto error = read_layer_style_format(parameters, values)) return *error;
  if (auto error = read_tile_address(parameters, values)) return *error;
  if (tilesets) {
    if (auto error = check_against_tileset(*tilesets, values)) return *error;
  }
  return fmt::format("{}/{}/{}/{}.{}", values.layer, values.zoom, values.column, values.row,
                     extension_of(values.format));
}

std::optional<ows_exception> check_get_capabilities(const query_parameters& parameters) {
  if (auto error = check_service(parameters)) return error;
  const auto accept_versions = parameters.get_ignoring_case("ACCEPTVERSIONS");
  if (accept_versions && accept_versions->find("1.0.0") == std::string::npos) {
    return ows_exception{"VersionNegotiationFailed", "ACCEPTVERSIONS", "this server speaks WMTS 1.0.0 only",
                         http::status::bad_request};
  }
  return std::nullopt;
}

}  // namespace tuilerie
