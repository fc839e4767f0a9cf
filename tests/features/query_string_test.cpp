// Query strings of feature requests: decoding, repeated and unknown names, links.
#include "server/features/query_string.hpp"

#include "server/features/api_error.hpp"

#include <gtest/gtest.h>

namespace tuilerie {
namespace {

TEST(QueryString, DecodesPercentEscapes) {
  const auto parameters = query_parameters::parse(
      "bbox-crs=http%3A%2F%2Fwww.opengis.net%2Fdef%2Fcrs%2FEPSG%2F0%2F2154&nom=Orl%C3%A9ans");
  EXPECT_EQ(parameters.get("bbox-crs"), "http://www.opengis.net/def/crs/EPSG/0/2154");
  EXPECT_EQ(parameters.get("nom"),
            "Orl\xC3\xA9"
            "ans");
}

TEST(QueryString, KeepsPlusAsPlus) {
  // RFC 3986: '+' is data, so a time zone offset survives unescaped.
  const auto parameters = query_parameters::parse("datetime=2023-08-14T23:00:00+02:00");
  EXPECT_EQ(parameters.get("datetime"), "2023-08-14T23:00:00+02:00");
}

TEST(QueryString, EmptyValueAndMissingName) {
  const auto parameters = query_parameters::parse("a=&b&&c=1");
  EXPECT_EQ(parameters.get("a"), "");
  EXPECT_EQ(parameters.get("b"), "");
  EXPECT_EQ(parameters.get("c"), "1");
  EXPECT_FALSE(parameters.get("d").has_value());
}

TEST(QueryString, RejectsMalformedEscapes) {
  for (const char* query : {"a=%", "a=%4", "a=%zz", "a=%G1", "%=1", "a=50%"}) {
    EXPECT_THROW(query_parameters::parse(query), api_error) << query;
  }
}

TEST(QueryString, NamesIgnoringCase) {
  const auto parameters = query_parameters::parse("Service=WMTS&layer=communes");
  EXPECT_EQ(parameters.get_ignoring_case("SERVICE"), "WMTS");
  EXPECT_EQ(parameters.get_ignoring_case("LAYER"), "communes");
  EXPECT_FALSE(parameters.get("SERVICE").has_value());
}

TEST(QueryString, FindsRepeatedNames) {
  EXPECT_EQ(query_parameters::parse("bbox=1,2,3,4&bbox=1,1,2,2").repeated_name(false), "bbox");
  EXPECT_FALSE(query_parameters::parse("LAYER=a&layer=b").repeated_name(false).has_value());
  EXPECT_EQ(query_parameters::parse("LAYER=a&layer=b").repeated_name(true), "LAYER");
}

TEST(QueryString, CheckNamesRejectsRepeatedAndUnknown) {
  const std::set<std::string> allowed{"bbox", "limit"};
  EXPECT_NO_THROW(query_parameters::parse("bbox=1,2,3,4&limit=5").check_names(allowed));
  try {
    query_parameters::parse("bbox=1,2,3,4&bbox=1,1,2,2").check_names(allowed);
    FAIL() << "expected api_error";
  } catch (const api_error& error) {
    EXPECT_EQ(error.status(), boost::beast::http::status::bad_request);
    EXPECT_NE(std::string(error.what()).find("'bbox' is given more than once"), std::string::npos)
        << error.what();
  }
  try {
    query_parameters::parse("limitt=5").check_names(allowed);
    FAIL() << "expected api_error";
  } catch (const api_error& error) {
    EXPECT_NE(std::string(error.what()).find("'limitt'"), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("bbox, limit"), std::string::npos) << error.what();
  }
}

TEST(QueryString, ErrorsNeverEchoMarkup) {
  try {
    query_parameters::parse("%3Csvg%20onload%3Dalert(1)%3E=1").check_names({"bbox"});
    FAIL() << "expected api_error";
  } catch (const api_error& error) {
    EXPECT_EQ(std::string(error.what()).find("<svg"), std::string::npos) << error.what();
  }
}

TEST(QueryString, EncodeWithReplacesOrAddsOffset) {
  const auto parameters = query_parameters::parse("limit=5&nom=Saint%20Jean&offset=10");
  EXPECT_EQ(parameters.encode_with("offset", "15"), "limit=5&nom=Saint%20Jean&offset=15");
  EXPECT_EQ(query_parameters::parse("limit=5").encode_with("offset", "5"), "limit=5&offset=5");
  EXPECT_EQ(query_parameters::parse("").encode_with("offset", "0"), "offset=0");
}

TEST(QueryString, EncodeKeepsBboxReadable) {
  const auto parameters =
      query_parameters::parse("bbox=1.5,47.5,2.5,48.5&datetime=2023-08-14T23:00:00%2B02:00");
  EXPECT_EQ(parameters.encode_with("offset", "0"),
            "bbox=1.5,47.5,2.5,48.5&datetime=2023-08-14T23:00:00%2B02:00&offset=0");
}

}  // namespace
}  // namespace tuilerie
