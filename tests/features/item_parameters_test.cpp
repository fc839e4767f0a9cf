// Parsers of bbox, bbox-crs, limit, offset and datetime, with many invalid inputs.
#include "server/features/item_parameters.hpp"

#include "server/features/api_error.hpp"
#include "server/features/items_query.hpp"

#include <gtest/gtest.h>

namespace tuilerie {
namespace {

using namespace std::chrono_literals;

std::string message_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const api_error& error) {
    EXPECT_EQ(error.status(), boost::beast::http::status::bad_request);
    return error.what();
  }
  return "no error";
}

time_point utc(int year, unsigned month, unsigned day, int hours = 0, int minutes = 0, int seconds = 0) {
  return std::chrono::sys_days(std::chrono::year(year) / month / day) + std::chrono::hours(hours) +
         std::chrono::minutes(minutes) + std::chrono::seconds(seconds);
}

TEST(Bbox, ParsesFourNumbers) {
  const auto bbox = parse_bbox("1.5,47.25,-2e-1,48");
  EXPECT_DOUBLE_EQ(bbox[0], 1.5);
  EXPECT_DOUBLE_EQ(bbox[1], 47.25);
  EXPECT_DOUBLE_EQ(bbox[2], -0.2);
  EXPECT_DOUBLE_EQ(bbox[3], 48);
}

TEST(Bbox, RejectsInvalidText) {
  for (const char* text : {"a,b,c,d", "2.3,48.8,2.4", "1,2,3,4,5", "1,2,3,4,5,6,7", "", ",,,", "1,2,3,",
                           "1, 2,3,4", "1,2,3,nan", "1,2,inf,4", "0x1,2,3,4", "1;2;3;4", "1,2,3,4 "}) {
    EXPECT_NE(message_of([&] { parse_bbox(text); }), "no error") << text;
  }
}

TEST(Number, OneSignAtMost) {
  EXPECT_EQ(parse_number("+5"), 5.0);
  EXPECT_EQ(parse_number("-5"), -5.0);
  for (const char* text : {"+-5", "-+5", "++5", "--5", "+", "-"}) {
    EXPECT_FALSE(parse_number(text).has_value()) << text;
  }
}

TEST(Bbox, SixNumbersGetTheirOwnMessage) {
  EXPECT_NE(message_of([] { parse_bbox("1,2,0,3,4,100"); }).find("six numbers"), std::string::npos);
}

TEST(Bbox, Crs84RangesAndOrder) {
  EXPECT_NO_THROW(check_crs84_bbox({1.5, 47.5, 2.5, 48.5}));
  // West above east crosses the antimeridian, which OGC API - Features allows.
  EXPECT_NO_THROW(check_crs84_bbox({179, -10, -179, 10}));
  EXPECT_NE(message_of([] { check_crs84_bbox({2.3, 48.9, 2.4, 48.8}); }).find("south"), std::string::npos);
  EXPECT_NE(message_of([] { check_crs84_bbox({-181, 0, 1, 1}); }).find("longitudes"), std::string::npos);
  EXPECT_NE(message_of([] { check_crs84_bbox({0, 0, 1, 91}); }).find("latitudes"), std::string::npos);
  EXPECT_NE(message_of([] {
              check_crs84_bbox({650000, 6860000, 655000, 6865000});
            }).find("bbox-crs"),
            std::string::npos);
}

TEST(CrsUri, AcceptsCrs84AndEpsgUris) {
  EXPECT_TRUE(parse_crs_uri("http://www.opengis.net/def/crs/OGC/1.3/CRS84", "bbox-crs").is_crs84());
  EXPECT_EQ(parse_crs_uri("http://www.opengis.net/def/crs/EPSG/0/2154", "bbox-crs").epsg, 2154);
  EXPECT_EQ(parse_crs_uri("http://www.opengis.net/def/crs/EPSG/0/3945", "bbox-crs").uri(),
            "http://www.opengis.net/def/crs/EPSG/0/3945");
}

TEST(CrsUri, RejectsOtherForms) {
  for (const char* uri :
       {"EPSG:2154", "EPSG:99999", "CRS84", "http://www.opengis.net/def/crs/EPSG/0/",
        "http://www.opengis.net/def/crs/EPSG/0/-4326", "http://www.opengis.net/def/crs/EPSG/0/4326x",
        "http://www.opengis.net/def/crs/EPSG/0/99999999999", "https://www.opengis.net/def/crs/EPSG/0/2154",
        "urn:ogc:def:crs:EPSG::2154", ""}) {
    EXPECT_NE(message_of([&] { parse_crs_uri(uri, "bbox-crs"); }).find("bbox-crs must be"), std::string::npos)
        << uri;
  }
}

TEST(Limit, DefaultAndClamp) {
  EXPECT_EQ(parse_limit(std::nullopt, 10, 1000), 10u);
  EXPECT_EQ(parse_limit("1", 10, 1000), 1u);
  EXPECT_EQ(parse_limit("1000", 10, 1000), 1000u);
  EXPECT_EQ(parse_limit("1001", 10, 1000), 1000u);
  EXPECT_EQ(parse_limit("10000000", 10, 1000), 1000u);
  EXPECT_EQ(parse_limit("99999999999999999999999999", 10, 1000), 1000u);
}

TEST(Limit, RejectsInvalidValues) {
  for (const char* text : {"-5", "0", "abc", "", "1.5", "1e3", " 5", "5 ", "0x10", "--1", "+"}) {
    EXPECT_NE(message_of([&] { parse_limit(std::string(text), 10, 1000); }), "no error") << text;
  }
}

TEST(Offset, ParsesAndRejects) {
  EXPECT_EQ(parse_offset(std::nullopt), 0u);
  EXPECT_EQ(parse_offset("0"), 0u);
  EXPECT_EQ(parse_offset("326"), 326u);
  for (const char* text : {"-1", "abc", "", "1.0", "99999999999999999999999"}) {
    EXPECT_NE(message_of([&] { parse_offset(std::string(text)); }), "no error") << text;
  }
}

TEST(Datetime, InstantWithZoneOffset) {
  const auto interval = parse_datetime("2023-08-14T23:00:00+02:00");
  EXPECT_EQ(interval.start, utc(2023, 8, 14, 21));
  EXPECT_EQ(interval.end, utc(2023, 8, 14, 21));
}

TEST(Datetime, FractionsAreMilliseconds) {
  const auto interval = parse_datetime("2023-08-14T10:00:00.1239Z");
  EXPECT_EQ(interval.start, utc(2023, 8, 14, 10) + 123ms);
}

TEST(Datetime, DateIsWholeUtcDay) {
  const auto interval = parse_datetime("2023-08-14");
  EXPECT_EQ(interval.start, utc(2023, 8, 14));
  EXPECT_EQ(interval.end, utc(2023, 8, 15) - 1ms);
}

TEST(Datetime, OpenIntervals) {
  const auto after = parse_datetime("2023-08-19/..");
  EXPECT_EQ(after.start, utc(2023, 8, 19));
  EXPECT_FALSE(after.end.has_value());
  const auto before = parse_datetime("../2023-08-14T20:59:59Z");
  EXPECT_FALSE(before.start.has_value());
  EXPECT_EQ(before.end, utc(2023, 8, 14, 20, 59, 59));
  const auto empty_start = parse_datetime("/2023-08-14");
  EXPECT_EQ(empty_start.end, utc(2023, 8, 15) - 1ms);
}

TEST(Datetime, RejectsInvalidText) {
  for (const char* text : {"",
                           "2023",
                           "2023-08",
                           "2023-13-01",
                           "2023-02-30",
                           "2023-08-14T25:00:00Z",
                           "2023-08-14T10:60:00Z",
                           "2023-08-14T10:00:61Z",
                           "2023-08-14T10:00:00",
                           "2023-08-14T10:00Z",
                           "2023-08-14 10:00:00Z",
                           "2023-08-14T10:00:00+2:00",
                           "2023-08-14T10:00:00+02",
                           "2023-08-14T10:00:00.Z",
                           "14/08/2023",
                           "../..",
                           "/",
                           "2023-08-14/2023-08-15/2023-08-16",
                           "2023-08-15/2023-08-14",
                           "now",
                           "2023-8-14"}) {
    EXPECT_NE(message_of([&] { parse_datetime(text); }), "no error") << text;
  }
}

TEST(Datetime, IntervalsIntersect) {
  const time_interval august{utc(2023, 8, 14, 21), utc(2023, 8, 18, 10)};
  EXPECT_TRUE(august.intersects(parse_datetime("2023-08-15")));
  EXPECT_TRUE(august.intersects(parse_datetime("2023-08-14T21:00:00Z")));  // the first instant
  EXPECT_TRUE(august.intersects(parse_datetime("2023-08-18T10:00:00Z")));  // the last instant
  EXPECT_FALSE(august.intersects(parse_datetime("2023-08-18T10:00:00.001Z")));
  EXPECT_FALSE(august.intersects(parse_datetime("../2023-08-14T20:59:59Z")));
  EXPECT_FALSE(august.intersects(parse_datetime("2023-08-19/..")));
  const time_interval ongoing{utc(2022, 1, 1), std::nullopt};
  EXPECT_TRUE(ongoing.intersects(parse_datetime("2099-01-01")));
}

TEST(Datetime, FormatsUtc) {
  EXPECT_EQ(format_rfc3339(utc(2023, 8, 14, 21)), "2023-08-14T21:00:00Z");
  EXPECT_EQ(format_rfc3339(utc(1999, 12, 31, 23, 59, 59) + 5ms), "1999-12-31T23:59:59.005Z");
}

collection_settings communes_settings() {
  collection_settings collection;
  collection.id = "communes";
  collection.queryables = {"code", "nom"};
  return collection;
}

TEST(ItemsRequest, ReadsEveryParameter) {
  const auto request = parse_items_request(
      query_parameters::parse(
          "bbox=650000,6700000,660000,6710000&bbox-crs=http://www.opengis.net/def/crs/EPSG/0/2154"
          "&limit=20&offset=40&nom=Orl%C3%A9ans&f=json"),
      communes_settings(), ogc_settings{});
  ASSERT_TRUE(request.bbox.has_value());
  EXPECT_DOUBLE_EQ((*request.bbox)[0], 650000);
  EXPECT_EQ(request.bbox_crs.epsg, 2154);
  EXPECT_EQ(request.limit, 20u);
  EXPECT_EQ(request.offset, 40u);
  ASSERT_EQ(request.properties.size(), 1u);
  EXPECT_EQ(request.properties[0].name, "nom");
  EXPECT_EQ(request.properties[0].value,
            "Orl\xC3\xA9"
            "ans");
}

TEST(ItemsRequest, RejectsBadRequests) {
  const auto collection = communes_settings();
  const ogc_settings ogc;
  const std::pair<const char*, const char*> cases[] = {
      {"bbox=a,b,c,d", "bbox value 1"},
      {"bbox=2.3,48.8,2.4", "four comma-separated numbers"},
      {"bbox=2.3,48.9,2.4,48.8", "south"},
      {"bbox-crs=EPSG:99999", "bbox-crs must be"},
      {"limit=-5", "limit"},
      {"limit=abc", "limit"},
      {"bbox=2.3,48.8,2.4,48.9&bbox=1,1,2,2", "more than once"},
      {"population=100", "unknown query parameter 'population'"},
      {"f=html", "f must be json"},
      {"datetime=2023-08-14", "no time field"},
      {"NOM=Orl%C3%A9ans", "unknown query parameter 'NOM'"},
  };
  for (const auto& [query, expected] : cases) {
    const std::string message =
        message_of([&] { parse_items_request(query_parameters::parse(query), collection, ogc); });
    EXPECT_NE(message.find(expected), std::string::npos) << query << ": " << message;
  }
}

TEST(ItemsRequest, HugeLimitIsLoweredToMaximum) {
  ogc_settings ogc;
  ogc.max_limit = 50;
  const auto request =
      parse_items_request(query_parameters::parse("limit=10000000"), communes_settings(), ogc);
  EXPECT_EQ(request.limit, 50u);
}

}  // namespace
}  // namespace tuilerie
