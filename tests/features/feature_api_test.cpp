// The feature API in-process, on the real data through real GDAL: OGC API - Features documents,
// items with paging and filters, exact values, source CRS checks, point queries and tile metadata.
#include "server/feature_api.hpp"

#include "feature_test_data.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <ogr_api.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <future>
#include <map>
#include <regex>
#include <set>

namespace tuilerie {
namespace {

namespace http = boost::beast::http;
using nlohmann::json;
using testing::open_data;

const std::filesystem::path source_dir = TUILERIE_SOURCE_DIR;
// Placed in config/ like the shipped files, so that ../data and ../tests paths resolve.
const std::filesystem::path config_file = source_dir / "config" / "features-unit-test.yaml";
const std::string base_url = "http://tuilerie.test";

std::string minimal_tileset() {
  return "tilesets:\n"
         "  communes:\n"
         "    style: ../tests/data/config/minimal.xml\n"
         "    formats: [png, webp, mvt]\n"
         "    maxzoom: 14\n"
         "    bounds: [1.45, 47.45, 3.20, 48.40]\n";
}

std::string real_collections() {
  return "collections:\n"
         "  communes:\n"
         "    source: ../data/admin/communes-45-loiret.geojson\n"
         "    queryables: [code, nom]\n"
         "    point_query: true\n"
         "  air_stations:\n"
         "    source: ../data/air/ligair-orleans-metropole-station-summary.geojson\n"
         "    queryables: [code_station]\n"
         "    datetime: premiere_heure\n"
         "    datetime_end: derniere_heure\n"
         "    point_query: true\n"
         "  flood_hazard:\n"
         "    source: ../data/flood/pprn-38DDT20130013-inondation-l93.gpkg\n"
         "    layer: zone_alea\n"
         "    queryables: [nivalea]\n"
         "    datetime: datecarte\n"
         "    point_query: true\n"
         "  noise_receivers:\n"
         "    source: ../data/noise/noisemodelling-receivers-laeq-l93.geojson\n"
         "    queryables: [idreceiver]\n"
         "  noise_lden_bordeaux:\n"
         "    source: ../data/noise/bordeaux-metropole-cbs-fer-lden-cc45-extrait.gpkg\n"
         "    layer: railways_lden\n"
         "  tao_stops:\n"
         "    source: ../data/transport/tao-orleans-tram-a-b-bus-40-stops.geojson\n"
         "    point_query: true\n";
}

std::string ogc_section() {
  return "ogc:\n"
         "  threads: 2\n"
         "  max_limit: 50\n"
         "  point_query:\n"
         "    default_radius_m: 500\n"
         "    max_radius_m: 5000\n";
}

struct reply {
  unsigned status = 0;
  std::string content_type;
  std::string body;
  http_response response;

  json document() const { return json::parse(body); }
};

// Sends one GET through handle() and waits for the response the worker sends.
reply get(feature_api& api, const std::string& target) {
  http_request request{http::verb::get, target, 11};
  auto promise = std::make_shared<std::promise<http_response>>();
  auto future = promise->get_future();
  api.handle(request, base_url,
             [promise](http_response response) { promise->set_value(std::move(response)); });
  if (future.wait_for(std::chrono::seconds(60)) != std::future_status::ready) {
    ADD_FAILURE() << target << " got no response within 60 s";
    return {};
  }
  reply result;
  result.response = future.get();
  result.status = result.response.result_int();
  result.content_type = std::string(result.response[http::field::content_type]);
  result.body = result.response.body();
  return result;
}

std::string path_of(const std::string& url) { return url.substr(base_url.size()); }

const json* find_link(const json& document, const std::string& rel) {
  for (const auto& link : document["links"]) {
    if (link["rel"] == rel) return &link;
  }
  return nullptr;
}

// Every layer feature as (id, property value), read with GDAL directly.
std::map<std::int64_t, std::string> read_property(OGRLayer& layer, const char* field) {
  std::map<std::int64_t, std::string> values;
  layer.ResetReading();
  while (auto feature = std::unique_ptr<OGRFeature>(layer.GetNextFeature())) {
    values[feature->GetFID()] = feature->GetFieldAsString(field);
  }
  return values;
}

// A point and its transformation from a source layer's CRS to longitude, latitude.
OGRPoint to_lonlat(const OGRPoint& point, const OGRSpatialReference& source) {
  OGRSpatialReference wgs84;
  wgs84.importFromEPSG(4326);
  wgs84.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  std::unique_ptr<OGRCoordinateTransformation> transformation(
      OGRCreateCoordinateTransformation(&source, &wgs84));
  OGRPoint lonlat(point);
  lonlat.transform(transformation.get());
  return lonlat;
}

class FeatureApi : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    data = new testing::temporary_directory();
    const std::string yaml =
        minimal_tileset() + real_collections() +
        "  null_height:\n    source: " + testing::write_null_height_geojson(data->path()).string() +
        "\n  big_numbers:\n    source: " + testing::write_big_numbers_geopackage(data->path()).string() +
        "\n" + ogc_section();
    api = new feature_api(parse_config(yaml, config_file));
  }

  static void TearDownTestSuite() {
    delete api;
    delete data;
  }

  static testing::temporary_directory* data;
  static feature_api* api;
};

testing::temporary_directory* FeatureApi::data = nullptr;
feature_api* FeatureApi::api = nullptr;

TEST_F(FeatureApi, LandingPageLinksCarryRelAndType) {
  const auto landing = get(*api, "/ogc");
  ASSERT_EQ(landing.status, 200u) << landing.body;
  EXPECT_EQ(landing.content_type, "application/json");
  const json document = landing.document();
  std::set<std::string> rels;
  for (const auto& link : document["links"]) {
    EXPECT_TRUE(link.contains("type")) << link;
    EXPECT_TRUE(link["href"].get<std::string>().starts_with(base_url)) << link;
    rels.insert(link["rel"].get<std::string>());
  }
  for (const char* rel : {"self", "service-desc", "conformance", "data"})
    EXPECT_TRUE(rels.contains(rel)) << rel;
  EXPECT_EQ(get(*api, "/ogc/").status, 200u);
}

TEST_F(FeatureApi, ConformanceDeclaresCoreAndGeojson) {
  const json document = get(*api, "/ogc/conformance").document();
  const auto classes = document["conformsTo"].get<std::vector<std::string>>();
  for (const char* uri : {"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
                          "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
                          "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30"}) {
    EXPECT_NE(std::find(classes.begin(), classes.end(), uri), classes.end()) << uri;
  }
}

TEST_F(FeatureApi, CollectionsListEveryCollection) {
  const json document = get(*api, "/ogc/collections").document();
  std::set<std::string> ids;
  for (const auto& collection : document["collections"]) {
    ids.insert(collection["id"].get<std::string>());
    ASSERT_NE(find_link(collection, "items"), nullptr) << collection;
    EXPECT_EQ((*find_link(collection, "items"))["type"], "application/geo+json");
  }
  EXPECT_EQ(ids,
            (std::set<std::string>{"air_stations", "big_numbers", "communes", "flood_hazard",
                                   "noise_lden_bordeaux", "noise_receivers", "null_height", "tao_stops"}));
}

TEST_F(FeatureApi, CollectionExtentMatchesSource) {
  const json document = get(*api, "/ogc/collections/communes").document();
  auto source = open_data("admin/communes-45-loiret.geojson");
  OGREnvelope envelope;
  ASSERT_EQ(source->GetLayer(0)->GetExtent(&envelope, TRUE), OGRERR_NONE);
  const auto bbox = document["extent"]["spatial"]["bbox"][0];
  EXPECT_NEAR(bbox[0].get<double>(), envelope.MinX, 1e-6);
  EXPECT_NEAR(bbox[1].get<double>(), envelope.MinY, 1e-6);
  EXPECT_NEAR(bbox[2].get<double>(), envelope.MaxX, 1e-6);
  EXPECT_NEAR(bbox[3].get<double>(), envelope.MaxY, 1e-6);
}

TEST_F(FeatureApi, TemporalExtentInUtc) {
  // The stations measured from 2023-08-14T23:00:00+02:00 to 2023-08-18T12:00:00+02:00.
  const json document = get(*api, "/ogc/collections/air_stations").document();
  const auto interval = document["extent"]["temporal"]["interval"][0];
  EXPECT_EQ(interval[0], "2023-08-14T21:00:00Z");
  EXPECT_EQ(interval[1], "2023-08-18T10:00:00Z");
}

TEST_F(FeatureApi, PagingReachesEveryFeature) {
  auto source = open_data("admin/communes-45-loiret.geojson");
  const auto expected = read_property(*source->GetLayer(0), "nom");

  std::map<std::int64_t, std::string> seen;
  std::string target = "/ogc/collections/communes/items?limit=50";
  int pages = 0;
  while (!target.empty() && pages < 20) {
    const auto page = get(*api, target);
    ASSERT_EQ(page.status, 200u) << page.body;
    EXPECT_EQ(page.content_type, "application/geo+json");
    const json document = page.document();
    EXPECT_EQ(document["numberMatched"], expected.size());
    EXPECT_EQ(document["numberReturned"], document["features"].size());
    for (const auto& feature : document["features"]) {
      const auto id = feature["id"].get<std::int64_t>();
      EXPECT_FALSE(seen.contains(id)) << "feature " << id << " came twice";
      seen[id] = feature["properties"]["nom"].get<std::string>();
    }
    const json* next = find_link(document, "next");
    target = next ? path_of((*next)["href"].get<std::string>()) : "";
    ++pages;
  }
  EXPECT_EQ(pages, 7);  // 326 features, 50 per page
  EXPECT_EQ(seen, expected);
}

TEST_F(FeatureApi, PrevLinkStepsBack) {
  const json document = get(*api, "/ogc/collections/communes/items?limit=20&offset=30").document();
  const json* prev = find_link(document, "prev");
  ASSERT_NE(prev, nullptr);
  EXPECT_NE((*prev)["href"].get<std::string>().find("offset=10"), std::string::npos) << *prev;
  EXPECT_EQ(find_link(get(*api, "/ogc/collections/communes/items").document(), "prev"), nullptr);
}

TEST_F(FeatureApi, HugeLimitIsLoweredToMaximum) {
  const json document = get(*api, "/ogc/collections/communes/items?limit=10000000").document();
  EXPECT_EQ(document["numberReturned"], 50);
  EXPECT_NE(find_link(document, "next"), nullptr);
}

TEST_F(FeatureApi, OffsetBeyondEndIsEmpty) {
  const auto page = get(*api, "/ogc/collections/communes/items?offset=100000");
  ASSERT_EQ(page.status, 200u);
  EXPECT_EQ(page.document()["numberReturned"], 0);
  EXPECT_EQ(find_link(page.document(), "next"), nullptr);
}

TEST_F(FeatureApi, BboxMatchesGdalSpatialFilter) {
  auto source = open_data("admin/communes-45-loiret.geojson");
  OGRLayer* layer = source->GetLayer(0);
  layer->SetSpatialFilterRect(1.85, 47.85, 1.95, 47.95);
  const auto expected = read_property(*layer, "code");

  const json document =
      get(*api, "/ogc/collections/communes/items?bbox=1.85,47.85,1.95,47.95&limit=50").document();
  std::map<std::int64_t, std::string> codes;
  for (const auto& feature : document["features"]) {
    codes[feature["id"].get<std::int64_t>()] = feature["properties"]["code"].get<std::string>();
  }
  EXPECT_GT(expected.size(), 5u);
  EXPECT_EQ(codes, expected);
}

TEST_F(FeatureApi, BboxInLambert93) {
  // A 20 m box in Lambert-93 around a point of Orléans (lon 1.9093, lat 47.9029), converted by GDAL here.
  OGRSpatialReference wgs84, lambert93;
  wgs84.importFromEPSG(4326);
  wgs84.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  lambert93.importFromEPSG(2154);
  std::unique_ptr<OGRCoordinateTransformation> to_lambert(
      OGRCreateCoordinateTransformation(&wgs84, &lambert93));
  double x = 1.9093, y = 47.9029;
  ASSERT_TRUE(to_lambert->Transform(1, &x, &y));
  const std::string bbox = fmt::format("{},{},{},{}", x - 10, y - 10, x + 10, y + 10);
  const auto page = get(*api, "/ogc/collections/communes/items?bbox=" + bbox +
                                  "&bbox-crs=http://www.opengis.net/def/crs/EPSG/0/2154");
  ASSERT_EQ(page.status, 200u) << page.body;
  const json document = page.document();
  ASSERT_EQ(document["numberReturned"], 1) << page.body;
  EXPECT_EQ(document["features"][0]["properties"]["code"], "45234");  // Orléans
}

TEST_F(FeatureApi, LambertBboxOnLambertSourceMatchesGdal) {
  auto source = open_data("flood/pprn-38DDT20130013-inondation-l93.gpkg");
  OGRLayer* layer = source->GetLayerByName("zone_alea");
  layer->SetSpatialFilterRect(918000, 6444000, 920000, 6446000);
  const auto expected = read_property(*layer, "id_zone");
  ASSERT_GT(expected.size(), 10u);

  const auto page = get(*api,
                        "/ogc/collections/flood_hazard/items?limit=50&bbox=918000,6444000,920000,6446000"
                        "&bbox-crs=http://www.opengis.net/def/crs/EPSG/0/2154");
  ASSERT_EQ(page.status, 200u) << page.body;
  const json document = page.document();
  EXPECT_EQ(document["numberMatched"], expected.size());
  std::map<std::int64_t, std::string> ids;
  for (const auto& feature : document["features"]) {
    ids[feature["id"].get<std::int64_t>()] =
        std::to_string(feature["properties"]["id_zone"].get<std::int64_t>());
  }
  EXPECT_EQ(ids, expected);
}

TEST_F(FeatureApi, InvalidItemsRequestsAre400) {
  const char* queries[] = {
      "bbox=a,b,c,d",
      "bbox=2.3,48.8,2.4",
      "bbox=2.3,48.9,2.4,48.8",
      "bbox=1,2,0,3,4,100",
      "bbox-crs=EPSG:99999",
      "bbox=650000,6860000,655000,6865000&bbox-crs=http://www.opengis.net/def/crs/EPSG/0/99999",
      "bbox=655000,6860000,650000,6865000&bbox-crs=http://www.opengis.net/def/crs/EPSG/0/2154",
      "limit=-5",
      "limit=abc",
      "limit=0",
      "offset=-1",
      "bbox=2.3,48.8,2.4,48.9&bbox=1,1,2,2",
      "unknown=1",
      "f=html",
      "datetime=2023-08-14",
      "nom=%zz",
  };
  for (const char* query : queries) {
    const auto page = get(*api, std::string("/ogc/collections/communes/items?") + query);
    EXPECT_EQ(page.status, 400u) << query << ": " << page.body;
    EXPECT_EQ(page.content_type, "application/json") << query;
    const json document = json::parse(page.body, nullptr, false);
    ASSERT_FALSE(document.is_discarded()) << page.body;
    EXPECT_EQ(document["status"], 400) << query;
    EXPECT_FALSE(document["error"].get<std::string>().empty()) << query;
  }
}

TEST_F(FeatureApi, ValidLambertBboxIs200) {
  const auto page = get(*api,
                        "/ogc/collections/communes/items?bbox=650000,6860000,655000,6865000"
                        "&bbox-crs=http%3A%2F%2Fwww.opengis.net%2Fdef%2Fcrs%2FEPSG%2F0%2F2154");
  EXPECT_EQ(page.status, 200u) << page.body;
  // That box is in Paris, far from the Loiret.
  EXPECT_EQ(page.document()["numberReturned"], 0);
}

TEST_F(FeatureApi, PropertyFilterMatchesGdalCount) {
  auto source = open_data("flood/pprn-38DDT20130013-inondation-l93.gpkg");
  OGRLayer* layer = source->GetLayerByName("zone_alea");
  layer->SetAttributeFilter("nivalea = 'F'");
  const auto expected = layer->GetFeatureCount(TRUE);
  ASSERT_GT(expected, 0);

  const json first = get(*api, "/ogc/collections/flood_hazard/items?nivalea=F&limit=50").document();
  EXPECT_EQ(first["numberMatched"], expected);  // a GeoPackage counts with one SQL query
  std::int64_t total = 0;
  json document = first;
  for (int pages = 0; pages < 10; ++pages) {
    for (const auto& feature : document["features"]) {
      EXPECT_EQ(feature["properties"]["nivalea"], "F");
      ++total;
    }
    const json* next = find_link(document, "next");
    if (!next) break;
    document = get(*api, path_of((*next)["href"].get<std::string>())).document();
  }
  EXPECT_EQ(total, expected);
}

TEST_F(FeatureApi, IntegerPropertyFilter) {
  const json document = get(*api, "/ogc/collections/noise_receivers/items?idreceiver=5").document();
  ASSERT_EQ(document["numberReturned"], 1);
  EXPECT_EQ(document["features"][0]["properties"]["idreceiver"], 5);
  // ogrinfo reads laeq = 61.09 for receiver 5.
  EXPECT_DOUBLE_EQ(document["features"][0]["properties"]["laeq"].get<double>(), 61.09);
  const auto invalid = get(*api, "/ogc/collections/noise_receivers/items?idreceiver=abc");
  EXPECT_EQ(invalid.status, 400u);
  EXPECT_NE(invalid.body.find("integer"), std::string::npos) << invalid.body;
}

TEST_F(FeatureApi, StringFilterWithQuote) {
  const auto page = get(*api, "/ogc/collections/communes/items?nom=Saint-Jean%27s");
  ASSERT_EQ(page.status, 200u) << page.body;
  EXPECT_EQ(page.document()["numberReturned"], 0);
}

TEST_F(FeatureApi, DatetimeFiltersIntervals) {
  // Every station measured from 2023-08-14T21:00:00Z to 2023-08-18T10:00:00Z.
  const std::pair<const char*, int> cases[] = {
      {"2023-08-15", 4},
      {"2023-08-14T21:00:00Z", 4},
      {"2023-08-18T12:00:00%2B02:00", 4},
      {"2023-08-18T10:00:00.001Z", 0},
      {"../2023-08-14T20:59:59Z", 0},
      {"2023-08-19/..", 0},
      {"2023-01-01/2023-08-14", 4},
      {"2023-01-01/2023-08-13", 0},
  };
  for (const auto& [datetime, count] : cases) {
    const auto page = get(*api, std::string("/ogc/collections/air_stations/items?datetime=") + datetime);
    ASSERT_EQ(page.status, 200u) << datetime << ": " << page.body;
    EXPECT_EQ(page.document()["numberReturned"], count) << datetime;
    EXPECT_FALSE(page.document().contains("numberMatched")) << datetime;
  }
}

TEST_F(FeatureApi, DatetimeOnDateField) {
  // ogrinfo: datecarte is 2012/06/01 for all 564 zones.
  EXPECT_EQ(get(*api, "/ogc/collections/flood_hazard/items?datetime=2012-06-01&limit=1")
                .document()["numberReturned"],
            1);
  EXPECT_EQ(get(*api, "/ogc/collections/flood_hazard/items?datetime=2012-06-02").document()["numberReturned"],
            0);
}

TEST_F(FeatureApi, LambertSourceIsReprojected) {
  auto source = open_data("flood/pprn-38DDT20130013-inondation-l93.gpkg");
  OGRLayer* layer = source->GetLayerByName("zone_alea");
  std::unique_ptr<OGRFeature> feature(layer->GetNextFeature());
  ASSERT_TRUE(feature);
  const auto* polygon = feature->GetGeometryRef()->toMultiPolygon()->getGeometryRef(0);
  OGRPoint first;
  polygon->getExteriorRing()->getPoint(0, &first);
  const OGRPoint expected = to_lonlat(first, *layer->GetSpatialRef());

  const json document =
      get(*api, "/ogc/collections/flood_hazard/items/" + std::to_string(feature->GetFID())).document();
  const auto coordinate = document["geometry"]["coordinates"][0][0][0];
  EXPECT_NEAR(coordinate[0].get<double>(), expected.getX(), 1e-7);
  EXPECT_NEAR(coordinate[1].get<double>(), expected.getY(), 1e-7);
  // Longitude first: the Isère lies near 5.7 E, 45.1 N.
  EXPECT_NEAR(coordinate[0].get<double>(), 5.7, 0.3);
  EXPECT_NEAR(coordinate[1].get<double>(), 45.1, 0.3);
}

TEST_F(FeatureApi, Cc45SourceLandsInBordeaux) {
  const json document = get(*api, "/ogc/collections/noise_lden_bordeaux/items?limit=5").document();
  ASSERT_EQ(document["numberReturned"], 5);
  for (const auto& feature : document["features"]) {
    const auto point = feature["geometry"]["coordinates"][0][0][0];
    // The extract covers about 0.52 to 0.65 W, 44.82 to 44.91 N.
    EXPECT_GT(point[0].get<double>(), -0.70);
    EXPECT_LT(point[0].get<double>(), -0.45);
    EXPECT_GT(point[1].get<double>(), 44.78);
    EXPECT_LT(point[1].get<double>(), 44.95);
  }
}

TEST_F(FeatureApi, CoordinatesHaveSevenDecimalsAtMost) {
  const auto page = get(*api, "/ogc/collections/flood_hazard/items?limit=3");
  const std::regex long_decimal(R"(\d\.\d{8,})");
  const auto geometry_start = page.body.find("\"geometry\"");
  ASSERT_NE(geometry_start, std::string::npos);
  EXPECT_FALSE(std::regex_search(page.body.substr(geometry_start), long_decimal));
}

TEST_F(FeatureApi, NullPropertiesAreJsonNull) {
  const json document = get(*api, "/ogc/collections/null_height/items").document();
  ASSERT_EQ(document["numberReturned"], 2);
  const auto& zone_a = document["features"][0]["properties"];
  const auto& zone_b = document["features"][1]["properties"];
  EXPECT_EQ(zone_a["nom"], "Zone A");
  EXPECT_DOUBLE_EQ(zone_a["hauteur_m"].get<double>(), 1.5);
  EXPECT_EQ(zone_b["nom"], "Zone B");
  ASSERT_TRUE(zone_b.contains("hauteur_m"));
  EXPECT_TRUE(zone_b["hauteur_m"].is_null());
}

TEST_F(FeatureApi, UnmeasuredPollutantIsNull) {
  // Saint-Jean-de-la-Ruelle measures no ozone: the source has no o3_moy value for it.
  const json document = get(*api, "/ogc/collections/air_stations/items?code_station=FR34067").document();
  ASSERT_EQ(document["numberReturned"], 1);
  const auto& properties = document["features"][0]["properties"];
  ASSERT_TRUE(properties.contains("o3_moy"));
  EXPECT_TRUE(properties["o3_moy"].is_null());
  EXPECT_TRUE(properties["no2_moy"].is_number());
}

TEST_F(FeatureApi, NumbersAreExact) {
  const auto page = get(*api, "/ogc/collections/big_numbers/items");
  ASSERT_EQ(page.status, 200u) << page.body;
  // The text itself: a double would print 9007199254740992.
  EXPECT_NE(page.body.find("\"gros\":9007199254740993"), std::string::npos) << page.body;
  EXPECT_NE(page.body.find("\"id_parcelle\":75056000123"), std::string::npos) << page.body;
  const auto properties = page.document()["features"][0]["properties"];
  EXPECT_EQ(properties["gros"].get<std::int64_t>(), 9007199254740993);
  EXPECT_TRUE(properties["niveau_db"].is_number_integer());
  EXPECT_EQ(properties["niveau_db"], 65);
  EXPECT_EQ(properties["delta"].get<std::int64_t>(), -3);
  EXPECT_EQ(properties["surface_m2"].get<double>(), 1234.5678901);
  EXPECT_EQ(properties["ratio"].get<double>(), 0.1);
}

TEST_F(FeatureApi, FeatureById) {
  auto source = open_data("transport/tao-orleans-tram-a-b-bus-40-stops.geojson");
  std::unique_ptr<OGRFeature> expected(source->GetLayer(0)->GetFeature(12));
  ASSERT_TRUE(expected);
  const auto page = get(*api, "/ogc/collections/tao_stops/items/12");
  ASSERT_EQ(page.status, 200u) << page.body;
  EXPECT_EQ(page.content_type, "application/geo+json");
  const json document = page.document();
  EXPECT_EQ(document["type"], "Feature");
  EXPECT_EQ(document["id"], 12);
  EXPECT_EQ(document["properties"]["stop_name"], expected->GetFieldAsString("stop_name"));
  EXPECT_NE(find_link(document, "self"), nullptr);
  EXPECT_NE(find_link(document, "collection"), nullptr);
}

TEST_F(FeatureApi, NotFoundCases) {
  for (const char* target : {"/ogc/collections/nope", "/ogc/collections/nope/items",
                             "/ogc/collections/tao_stops/items/999", "/ogc/collections/tao_stops/items/abc",
                             "/ogc/collections/tao_stops/items/-1", "/ogc/collections/tao_stops/items/1/more",
                             "/ogc/nothing", "/ogc/tiles/nope", "/ogc/tileMatrixSets/WorldCRS84Quad"}) {
    const auto page = get(*api, target);
    EXPECT_EQ(page.status, 404u) << target;
    EXPECT_EQ(page.content_type, "application/json") << target;
  }
}

TEST_F(FeatureApi, MetadataRejectsUnknownParameters) {
  EXPECT_EQ(get(*api, "/ogc/collections?f=json").status, 200u);
  EXPECT_EQ(get(*api, "/ogc/collections?f=html").status, 400u);
  EXPECT_EQ(get(*api, "/ogc/collections?limit=5").status, 400u);
}

TEST_F(FeatureApi, OpenApiDocumentsLimitAndQueryables) {
  const auto page = get(*api, "/ogc/api");
  ASSERT_EQ(page.status, 200u);
  EXPECT_EQ(page.content_type, "application/vnd.oai.openapi+json;version=3.0");
  const json document = page.document();
  EXPECT_TRUE(document["openapi"].get<std::string>().starts_with("3.0"));
  const auto& limit = document["components"]["parameters"]["limit"]["schema"];
  EXPECT_EQ(limit["maximum"], 50);
  EXPECT_EQ(limit["default"], 10);
  const auto& items = document["paths"]["/collections/communes/items"]["get"]["parameters"];
  bool has_nom = false;
  for (const auto& parameter : items) has_nom = has_nom || parameter.value("name", "") == "nom";
  EXPECT_TRUE(has_nom);
  EXPECT_TRUE(document["paths"].contains("/collections/{collectionId}/items/{featureId}"));
}

// A point inside a zone of high hazard ("F", fort), found with GDAL's PointOnSurface.
OGRPoint point_in_high_hazard_zone(std::int64_t& zone_id) {
  auto source = open_data("flood/pprn-38DDT20130013-inondation-l93.gpkg");
  OGRLayer* layer = source->GetLayerByName("zone_alea");
  layer->SetAttributeFilter("nivalea = 'F'");
  std::unique_ptr<OGRFeature> zone(layer->GetNextFeature());
  if (!zone) throw std::runtime_error("no zone with nivalea F");
  zone_id = zone->GetFID();
  std::unique_ptr<OGRGeometry> inside(
      OGRGeometry::FromHandle(OGR_G_PointOnSurface(OGRGeometry::ToHandle(zone->GetGeometryRef()))));
  if (!inside) throw std::runtime_error("PointOnSurface failed");
  return to_lonlat(*inside->toPoint(), *layer->GetSpatialRef());
}

TEST_F(FeatureApi, PointQueryFindsHighHazardZone) {
  std::int64_t zone_id = -1;
  const OGRPoint point = point_in_high_hazard_zone(zone_id);
  const auto page =
      get(*api, fmt::format("/query?lon={:.8f}&lat={:.8f}&layers=flood_hazard", point.getX(), point.getY()));
  ASSERT_EQ(page.status, 200u) << page.body;
  const json document = page.document();
  bool found = false;
  for (const auto& feature : document["features"]) {
    EXPECT_EQ(feature["collection"], "flood_hazard");
    EXPECT_FALSE(feature.contains("distance_m"));
    if (feature["id"] == zone_id) {
      found = true;
      EXPECT_EQ(feature["properties"]["nivalea"], "F");
    }
  }
  EXPECT_TRUE(found) << page.body;
}

TEST_F(FeatureApi, PointQueryOutsideEveryZone) {
  // In the Atlantic, far from every collection.
  const json document = get(*api, "/query?lon=-5&lat=46").document();
  EXPECT_EQ(document["type"], "FeatureCollection");
  EXPECT_EQ(document["features"].size(), 0u);
}

// The geodesic distance in metres from a point to the Gambetta station, by SpatiaLite on the WGS 84
// ellipsoid.
double spatialite_distance_to_gambetta(double lon, double lat) {
  auto source = open_data("air/ligair-orleans-metropole-station-summary.geojson");
  const std::string sql = fmt::format(
      "SELECT ST_Distance(MakePoint({}, {}, 4326), geometry, 1) AS d FROM ligair_station_summary "
      "WHERE code_station = 'FR34013'",
      lon, lat);
  OGRLayer* result = source->ExecuteSQL(sql.c_str(), nullptr, "SQLITE");
  if (!result) throw std::runtime_error("SpatiaLite query failed");
  std::unique_ptr<OGRFeature> row(result->GetNextFeature());
  const double distance = row ? row->GetFieldAsDouble(0) : -1;
  source->ReleaseResultSet(result);
  return distance;
}

TEST_F(FeatureApi, PointQueryNearestStationDistance) {
  const double lon = 1.9093, lat = 47.9029;
  const double expected = spatialite_distance_to_gambetta(lon, lat);
  ASSERT_GT(expected, 500);
  const json document =
      get(*api, fmt::format("/query?lon={}&lat={}&layers=air_stations&radius=2000", lon, lat)).document();
  ASSERT_EQ(document["features"].size(), 1u) << document;
  const auto& station = document["features"][0];
  EXPECT_EQ(station["collection"], "air_stations");
  EXPECT_EQ(station["properties"]["code_station"], "FR34013");
  EXPECT_NEAR(station["distance_m"].get<double>(), expected, 1.0);
  // No station lies within the default radius, 500 m.
  EXPECT_EQ(get(*api, fmt::format("/query?lon={}&lat={}&layers=air_stations", lon, lat))
                .document()["features"]
                .size(),
            0u);
}

TEST_F(FeatureApi, PointQueryOverSeveralCollections) {
  const json document = get(*api, "/query?lon=1.9093&lat=47.9029").document();
  std::set<std::string> collections;
  for (const auto& feature : document["features"])
    collections.insert(feature["collection"].get<std::string>());
  // Inside Orléans, near a tram stop; the flood zones are in the Isère.
  EXPECT_TRUE(collections.contains("communes"));
  EXPECT_TRUE(collections.contains("tao_stops"));
  EXPECT_FALSE(collections.contains("flood_hazard"));
  EXPECT_FALSE(collections.contains("noise_receivers"));  // not open to point queries
}

TEST_F(FeatureApi, InvalidPointQueriesAre400) {
  for (const char* query :
       {"", "lon=1.9", "lat=47.9", "lon=abc&lat=47.9", "lon=1.9&lat=91", "lon=181&lat=47", "lon=nan&lat=47",
        "lon=1.9&lat=47.9&layers=nope", "lon=1.9&lat=47.9&layers=noise_receivers",
        "lon=1.9&lat=47.9&layers=communes,", "lon=1.9&lat=47.9&radius=0", "lon=1.9&lat=47.9&radius=-10",
        "lon=1.9&lat=47.9&zoom=3", "lon=1.9&lon=2&lat=47.9"}) {
    const auto page = get(*api, std::string("/query?") + query);
    EXPECT_EQ(page.status, 400u) << query << ": " << page.body;
  }
}

TEST_F(FeatureApi, PointQueryRadiusIsClampedToMaximum) {
  const auto page = get(*api, "/query?lon=1.9093&lat=47.9029&layers=air_stations&radius=1000000");
  EXPECT_EQ(page.status, 200u) << page.body;
}

TEST_F(FeatureApi, TileMatrixSetDefinition) {
  const json document = get(*api, "/ogc/tileMatrixSets/WebMercatorQuad").document();
  EXPECT_EQ(document["crs"], "http://www.opengis.net/def/crs/EPSG/0/3857");
  ASSERT_EQ(document["tileMatrices"].size(), 25u);
  const auto& zoom0 = document["tileMatrices"][0];
  EXPECT_NEAR(zoom0["scaleDenominator"].get<double>(), 559082264.0287178, 1e-6);
  EXPECT_NEAR(zoom0["cellSize"].get<double>(), 156543.03392804097, 1e-9);
  EXPECT_EQ(document["tileMatrices"][24]["matrixWidth"], 16777216);
}

TEST_F(FeatureApi, TilesetMetadataLinksToTileRoute) {
  const json list = get(*api, "/ogc/tiles").document();
  ASSERT_EQ(list["tilesets"].size(), 1u);
  const std::string metadata_url = (*find_link(list["tilesets"][0], "self"))["href"];
  EXPECT_EQ(metadata_url, base_url + "/ogc/tiles/communes/WebMercatorQuad");
  const json metadata = get(*api, path_of(metadata_url)).document();
  EXPECT_EQ(metadata["dataType"], "map");
  std::set<std::string> templates;
  for (const auto& link : metadata["links"]) {
    if (link["rel"] == "item") {
      EXPECT_EQ(link["templated"], true);
      templates.insert(link["href"].get<std::string>());
    }
  }
  EXPECT_TRUE(templates.contains(base_url + "/tiles/communes/{tileMatrix}/{tileCol}/{tileRow}.png"));
  EXPECT_TRUE(templates.contains(base_url + "/tiles/communes/{tileMatrix}/{tileCol}/{tileRow}.mvt"));
  EXPECT_EQ(metadata["tileMatrixSetLimits"].size(), 15u);
}

TEST_F(FeatureApi, ConcurrentRequestsAgree) {
  const std::string target = "/ogc/collections/flood_hazard/items?bbox=5.70,45.05,5.80,45.15&limit=20";
  const std::string expected = get(*api, target).body;
  std::vector<std::future<reply>> replies;
  for (int i = 0; i < 16; ++i)
    replies.push_back(std::async(std::launch::async, [&] { return get(*api, target); }));
  for (auto& future : replies) {
    const auto page = future.get();
    ASSERT_EQ(page.status, 200u);
    // The timeStamp differs; the features do not.
    EXPECT_EQ(page.body.substr(page.body.find("\"features\"")),
              expected.substr(expected.find("\"features\"")));
  }
}

TEST(FeatureApiConfig, ShapefileWithoutPrjIsRejected) {
  testing::temporary_directory data;
  const auto shapefile = testing::write_lambert_point_shapefile(data.path(), false);
  try {
    feature_api api(parse_config(
        minimal_tileset() + "collections:\n  pts:\n    source: " + shapefile.string() + "\n", config_file));
    FAIL() << "a source without CRS was accepted";
  } catch (const config_error& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("features-unit-test.yaml:"), std::string::npos) << message;
    EXPECT_NE(message.find("collections.pts.srs"), std::string::npos) << message;
    EXPECT_NE(message.find("point-without-prj.shp"), std::string::npos) << message;
    EXPECT_NE(message.find("declares no CRS"), std::string::npos) << message;
  }
}

// The point lies at E 652469, N 6862035 in Lambert-93, lon 2.3522, lat 48.8566 (gdaltransform). Read as
// EPSG:3857 it would land near 5.861 E, 52.341 N, in the Netherlands.
void expect_paris(feature_api& api) {
  const json document = get(api, "/ogc/collections/pts/items/0").document();
  const auto coordinates = document["geometry"]["coordinates"];
  EXPECT_NEAR(coordinates[0].get<double>(), 2.3522, 1e-4) << document;
  EXPECT_NEAR(coordinates[1].get<double>(), 48.8566, 1e-4) << document;
  const json found = get(api, "/ogc/collections/pts/items?bbox=2.34,48.85,2.36,48.86").document();
  EXPECT_EQ(found["numberReturned"], 1);
}

TEST(FeatureApiConfig, ShapefileWithoutPrjTakesExplicitSrs) {
  testing::temporary_directory data;
  const auto shapefile = testing::write_lambert_point_shapefile(data.path(), false);
  feature_api api(parse_config(minimal_tileset() + "collections:\n  pts:\n    source: " + shapefile.string() +
                                   "\n    srs: EPSG:2154\n",
                               config_file));
  expect_paris(api);
}

TEST(FeatureApiConfig, ShapefileWithPrj) {
  testing::temporary_directory data;
  const auto shapefile = testing::write_lambert_point_shapefile(data.path(), true);
  feature_api api(parse_config(
      minimal_tileset() + "collections:\n  pts:\n    source: " + shapefile.string() + "\n", config_file));
  expect_paris(api);
}

TEST(FeatureApiConfig, ErrorsNameCollectionAndFix) {
  const std::pair<std::string, std::string> cases[] = {
      {"  c:\n    source: ../data/flood/pprn-38DDT20130013-inondation-l93.gpkg\n",
       "collections.c.layer: missing"},
      {"  c:\n    source: ../data/flood/pprn-38DDT20130013-inondation-l93.gpkg\n    layer: nope\n",
       "no layer 'nope'"},
      {"  c:\n    source: ../data/admin/communes-45-loiret.geojson\n    queryables: [population]\n",
       "collections.c.queryables: layer has no field 'population'"},
      {"  c:\n    source: ../data/air/ligair-orleans-metropole-station-summary.geojson\n    datetime: "
       "nom_station\n",
       "datetime needs a Date or DateTime field"},
      {"  c:\n    source: ../data/admin/communes-45-loiret.geojson\n    srs: EPSG:999999\n",
       "collections.c.srs"},
      {"  c:\n    source: ../data/dem/dem-romanche-25m-l93-cog.tif\n", "GDAL cannot open"},
  };
  for (const auto& [collection, expected] : cases) {
    try {
      feature_api api(parse_config(minimal_tileset() + "collections:\n" + collection, config_file));
      ADD_FAILURE() << "accepted: " << collection;
    } catch (const config_error& error) {
      EXPECT_NE(std::string(error.what()).find(expected), std::string::npos) << error.what();
    }
  }
}

TEST(FeatureApiRoutes, HandlesFollowsBasePath) {
  feature_api api(parse_config(minimal_tileset() + "ogc:\n  base_path: /services/ogc\n", config_file));
  EXPECT_TRUE(feature_api::handles("/services/ogc"));
  EXPECT_TRUE(feature_api::handles("/services/ogc/collections"));
  EXPECT_FALSE(feature_api::handles("/services/ogcx"));
  EXPECT_FALSE(feature_api::handles("/ogc/collections"));
  EXPECT_TRUE(feature_api::handles("/query"));
  EXPECT_TRUE(feature_api::handles("/wmts"));
  EXPECT_TRUE(feature_api::handles("/wmts/1.0.0/WMTSCapabilities.xml"));
  EXPECT_FALSE(feature_api::handles("/wmtsx"));
  EXPECT_FALSE(feature_api::handles("/tiles/communes/0/0/0.png"));
  EXPECT_EQ(get(api, "/services/ogc/conformance").status, 200u);
  const json landing = get(api, "/services/ogc").document();
  EXPECT_EQ((*find_link(landing, "data"))["href"], base_url + "/services/ogc/collections");
}

}  // namespace
}  // namespace tuilerie
