// WMTS 1.0.0: KVP GetTile checks with their OWS exception codes, and the capabilities document.
#include "server/features/wmts.hpp"

#include "server/feature_api.hpp"

#include <cpl_conv.h>
#include <cpl_minixml.h>
#include <gtest/gtest.h>

#include <memory>

namespace tuilerie {
namespace {

namespace http = boost::beast::http;

const std::string valid_get_tile =
    "SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=communes&STYLE=default&TILEMATRIXSET="
    "GoogleMapsCompatible"
    "&TILEMATRIX=10&TILEROW=360&TILECOL=517&FORMAT=image/png";

std::map<std::string, tileset_settings> test_tilesets() {
  tileset_settings communes;
  communes.name = "communes";
  communes.title = "Communes <du> Loiret & co";
  communes.formats = {tile_format::png, tile_format::webp, tile_format::mvt};
  communes.minzoom = 0;
  communes.maxzoom = 14;
  communes.bounds = {1.45, 47.45, 3.20, 48.40};
  tileset_settings vector_only;
  vector_only.name = "vectors";
  vector_only.formats = {tile_format::mvt};
  return {{"communes", communes}, {"vectors", vector_only}};
}

// Replaces the value of one parameter in the valid request, or drops it when value is nullopt.
std::string with(const std::string& name, const std::optional<std::string>& value) {
  std::string query;
  std::string_view rest = valid_get_tile;
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    const std::string item(rest.substr(0, amp));
    const std::string key = item.substr(0, item.find('='));
    if (key != name) {
      query += (query.empty() ? "" : "&") + item;
    } else if (value) {
      query += (query.empty() ? "" : "&") + key + "=" + *value;
    }
    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
  return query;
}

ows_exception exception_of(const std::string& query) {
  const auto tilesets = test_tilesets();
  const auto result = parse_get_tile(query_parameters::parse(query), &tilesets);
  if (const auto* path = std::get_if<std::string>(&result)) {
    ADD_FAILURE() << query << " was accepted as " << *path;
    return {};
  }
  return std::get<ows_exception>(result);
}

TEST(WmtsGetTile, ValidRequestGivesTilePath) {
  const auto tilesets = test_tilesets();
  const auto result = parse_get_tile(query_parameters::parse(valid_get_tile), &tilesets);
  ASSERT_TRUE(std::holds_alternative<std::string>(result));
  // TILECOL is x and TILEROW is y of the XYZ tile path.
  EXPECT_EQ(std::get<std::string>(result), "communes/10/517/360.png");
}

TEST(WmtsGetTile, NamesIgnoreCase) {
  const auto tilesets = test_tilesets();
  const auto result = parse_get_tile(
      query_parameters::parse(
          "service=WMTS&Request=GetTile&version=1.0.0&layer=communes&style=default"
          "&tileMatrixSet=GoogleMapsCompatible&tileMatrix=3&tileRow=2&tileCol=4&format=image/webp"),
      &tilesets);
  ASSERT_TRUE(std::holds_alternative<std::string>(result));
  EXPECT_EQ(std::get<std::string>(result), "communes/3/4/2.webp");
}

TEST(WmtsGetTile, MissingParameters) {
  for (const char* name : {"SERVICE", "REQUEST", "VERSION", "LAYER", "STYLE", "FORMAT", "TILEMATRIXSET",
                           "TILEMATRIX", "TILEROW", "TILECOL"}) {
    const auto exception = exception_of(with(name, std::nullopt));
    EXPECT_EQ(exception.code, "MissingParameterValue") << name;
    EXPECT_EQ(exception.locator, name);
    EXPECT_EQ(exception.status, http::status::bad_request);
  }
}

TEST(WmtsGetTile, InvalidValues) {
  const std::tuple<const char*, const char*, const char*> cases[] = {
      {"SERVICE", "WMS", "SERVICE"},
      {"VERSION", "1.1.0", "VERSION"},
      {"LAYER", "nope", "LAYER"},
      {"LAYER", "vectors", "LAYER"},
      {"LAYER", "..%2Fetc", "LAYER"},
      {"STYLE", "dark", "STYLE"},
      {"FORMAT", "image/jpeg", "FORMAT"},
      {"FORMAT", "application/vnd.mapbox-vector-tile", "FORMAT"},
      {"TILEMATRIXSET", "EPSG:3857", "TILEMATRIXSET"},
      {"TILEMATRIXSET", "googlemapscompatible", "TILEMATRIXSET"},
      {"TILEMATRIX", "abc", "TILEMATRIX"},
      {"TILEMATRIX", "07", "TILEMATRIX"},
      {"TILEMATRIX", "25", "TILEMATRIX"},
      {"TILEMATRIX", "-1", "TILEMATRIX"},
      {"TILEROW", "1.5", "TILEROW"},
      {"TILECOL", "x", "TILECOL"},
  };
  for (const auto& [name, value, locator] : cases) {
    const auto exception = exception_of(with(name, std::string(value)));
    EXPECT_EQ(exception.code, "InvalidParameterValue") << name << "=" << value;
    EXPECT_EQ(exception.locator, locator) << name << "=" << value;
    EXPECT_EQ(exception.status, http::status::bad_request);
  }
}

TEST(WmtsGetTile, TileOutOfRange) {
  // At TILEMATRIX 10 rows and columns run from 0 to 1023.
  const std::tuple<const char*, const char*> cases[] = {
      {"TILEROW", "1024"}, {"TILECOL", "1024"}, {"TILEROW", "-1"}, {"TILECOL", "99999999999"}};
  for (const auto& [name, value] : cases) {
    const auto exception = exception_of(with(name, std::string(value)));
    EXPECT_EQ(exception.code, "TileOutOfRange") << name << "=" << value;
    EXPECT_EQ(exception.locator, name);
    EXPECT_EQ(exception.status, http::status::bad_request);
  }
  // Zoom 15 is in GoogleMapsCompatible but beyond this layer's maxzoom 14.
  const auto beyond = exception_of(with("TILEMATRIX", std::string("15")));
  EXPECT_EQ(beyond.code, "TileOutOfRange");
  EXPECT_EQ(beyond.locator, "TILEMATRIX");
}

TEST(WmtsGetTile, RepeatedParameterIsInvalid) {
  const auto exception = exception_of(valid_get_tile + "&layer=flood");
  EXPECT_EQ(exception.code, "InvalidParameterValue");
  EXPECT_EQ(exception.locator, "LAYER");
}

TEST(WmtsGetTile, UnknownParametersAreIgnored) {
  const auto tilesets = test_tilesets();
  const auto result =
      parse_get_tile(query_parameters::parse(valid_get_tile + "&TIME=2020&foo=bar"), &tilesets);
  EXPECT_TRUE(std::holds_alternative<std::string>(result));
}

TEST(WmtsGetTile, WithoutTilesetsOnlyGridIsChecked) {
  const auto result = parse_get_tile(query_parameters::parse(with("LAYER", std::string("other"))), nullptr);
  ASSERT_TRUE(std::holds_alternative<std::string>(result));
  EXPECT_EQ(std::get<std::string>(result), "other/10/517/360.png");
}

TEST(WmtsGetTile, StaticEntryPointAnswersExceptionReport) {
  http_request request{http::verb::get, "/wmts?" + with("TILEROW", std::string("5000")), 11};
  const auto result = feature_api::wmts_get_tile(request);
  ASSERT_TRUE(std::holds_alternative<http_response>(result));
  const auto& response = std::get<http_response>(result);
  EXPECT_EQ(response.result(), http::status::bad_request);
  EXPECT_NE(response[http::field::content_type].find("xml"), std::string::npos);
  std::unique_ptr<CPLXMLNode, decltype(&CPLDestroyXMLNode)> xml(CPLParseXMLString(response.body().c_str()),
                                                                CPLDestroyXMLNode);
  ASSERT_TRUE(xml) << response.body();
  EXPECT_STREQ(CPLGetXMLValue(xml.get(), "=ExceptionReport.Exception.exceptionCode", ""), "TileOutOfRange");
  EXPECT_STREQ(CPLGetXMLValue(xml.get(), "=ExceptionReport.Exception.locator", ""), "TILEROW");
  EXPECT_STREQ(CPLGetXMLValue(xml.get(), "=ExceptionReport.xmlns", ""), "http://www.opengis.net/ows/1.1");
}

TEST(WmtsGetCapabilities, KvpChecks) {
  EXPECT_FALSE(check_get_capabilities(query_parameters::parse("SERVICE=WMTS&REQUEST=GetCapabilities")));
  EXPECT_EQ(check_get_capabilities(query_parameters::parse("REQUEST=GetCapabilities"))->code,
            "MissingParameterValue");
  EXPECT_EQ(check_get_capabilities(query_parameters::parse("SERVICE=WMTS&AcceptVersions=2.0.0"))->code,
            "VersionNegotiationFailed");
}

class WmtsCapabilities : public ::testing::Test {
 protected:
  void SetUp() override {
    settings.tilesets = test_tilesets();
    text = wmts_capabilities(settings, "http://127.0.0.1:8080");
    xml.reset(CPLParseXMLString(text.c_str()));
    ASSERT_TRUE(xml) << text;
    contents = CPLGetXMLNode(xml.get(), "=Capabilities.Contents");
    ASSERT_TRUE(contents);
  }

  config settings;
  std::string text;
  std::unique_ptr<CPLXMLNode, decltype(&CPLDestroyXMLNode)> xml{nullptr, CPLDestroyXMLNode};
  CPLXMLNode* contents = nullptr;
};

TEST_F(WmtsCapabilities, ListsRasterLayersOnly) {
  int layers = 0;
  for (CPLXMLNode* node = contents->psChild; node; node = node->psNext) {
    if (node->eType == CXT_Element && std::string(node->pszValue) == "Layer") ++layers;
  }
  EXPECT_EQ(layers, 1);
  EXPECT_STREQ(CPLGetXMLValue(contents, "Layer.ows:Identifier", ""), "communes");
  // The title is escaped in the XML and reads back unchanged.
  EXPECT_STREQ(CPLGetXMLValue(contents, "Layer.ows:Title", ""), "Communes <du> Loiret & co");
}

TEST_F(WmtsCapabilities, LayerBoundsFormatsAndTemplate) {
  EXPECT_STREQ(CPLGetXMLValue(contents, "Layer.ows:WGS84BoundingBox.ows:LowerCorner", ""), "1.45 47.45");
  EXPECT_STREQ(CPLGetXMLValue(contents, "Layer.ows:WGS84BoundingBox.ows:UpperCorner", ""), "3.2 48.4");
  EXPECT_STREQ(CPLGetXMLValue(contents, "Layer.Format", ""), "image/png");
  EXPECT_STREQ(CPLGetXMLValue(contents, "Layer.ResourceURL.template", ""),
               "http://127.0.0.1:8080/tiles/communes/{TileMatrix}/{TileCol}/{TileRow}.png");
  EXPECT_STREQ(CPLGetXMLValue(contents, "Layer.TileMatrixSetLink.TileMatrixSet", ""), "GoogleMapsCompatible");
}

TEST_F(WmtsCapabilities, LimitsFollowBoundsAndZooms) {
  const CPLXMLNode* limits = CPLGetXMLNode(contents, "Layer.TileMatrixSetLink.TileMatrixSetLimits");
  ASSERT_TRUE(limits);
  int count = 0;
  for (const CPLXMLNode* node = limits->psChild; node; node = node->psNext) {
    if (node->eType != CXT_Element) continue;
    if (std::string(CPLGetXMLValue(node, "TileMatrix", "")) == "10") {
      // By hand: x = (lon + 180) / 360 * 1024 and y = (1 - asinh(tan(lat)) / pi) / 2 * 1024:
      // lon 1.45 -> 516.12, lon 3.20 -> 521.10; lat 48.40 -> 354.25, lat 47.45 -> 358.28.
      EXPECT_STREQ(CPLGetXMLValue(node, "MinTileCol", ""), "516");
      EXPECT_STREQ(CPLGetXMLValue(node, "MaxTileCol", ""), "521");
      EXPECT_STREQ(CPLGetXMLValue(node, "MinTileRow", ""), "354");
      EXPECT_STREQ(CPLGetXMLValue(node, "MaxTileRow", ""), "358");
    }
    ++count;
  }
  EXPECT_EQ(count, 15);  // zooms 0 to 14
}

TEST_F(WmtsCapabilities, TileMatrixSetIsGoogleMapsCompatible) {
  const CPLXMLNode* set = CPLGetXMLNode(contents, "TileMatrixSet");
  ASSERT_TRUE(set);
  EXPECT_STREQ(CPLGetXMLValue(set, "WellKnownScaleSet", ""), "urn:ogc:def:wkss:OGC:1.0:GoogleMapsCompatible");
  EXPECT_STREQ(CPLGetXMLValue(set, "ows:SupportedCRS", ""), "urn:ogc:def:crs:EPSG::3857");
  const CPLXMLNode* first = CPLGetXMLNode(set, "TileMatrix");
  ASSERT_TRUE(first);
  // WMTS 1.0.0 Annex E: 559082264.0287178 at zoom 0.
  EXPECT_NEAR(CPLAtof(CPLGetXMLValue(first, "ScaleDenominator", "0")), 559082264.0287178, 1e-6);
  EXPECT_STREQ(CPLGetXMLValue(first, "MatrixWidth", ""), "1");
  int matrices = 0;
  for (const CPLXMLNode* node = set->psChild; node; node = node->psNext) {
    if (node->eType == CXT_Element && std::string(node->pszValue) == "TileMatrix") ++matrices;
  }
  EXPECT_EQ(matrices, 15);  // zoom 0 to the highest raster maxzoom, 14
}

}  // namespace
}  // namespace tuilerie
