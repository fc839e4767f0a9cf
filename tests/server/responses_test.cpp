// HTTP validators, content negotiation and dates.
#include "server/responses.hpp"

#include <gtest/gtest.h>

namespace tuilerie {
namespace {

TEST(Responses, IfNoneMatchComparesWeakly) {
  const std::string etag = "\"00000000000000ab\"";
  EXPECT_TRUE(if_none_match_matches("\"00000000000000ab\"", etag));
  EXPECT_TRUE(if_none_match_matches("W/\"00000000000000ab\"", etag));
  EXPECT_TRUE(if_none_match_matches("\"nope\", \"00000000000000ab\"", etag));
  EXPECT_TRUE(if_none_match_matches("*", etag));
  EXPECT_FALSE(if_none_match_matches("\"00000000000000ac\"", etag));
  EXPECT_FALSE(if_none_match_matches("", etag));
}

TEST(Responses, EtagFormatIsQuotedHex) {
  EXPECT_EQ(format_etag(0xab), "\"00000000000000ab\"");
  EXPECT_EQ(format_etag(0xab, "-identity"), "\"00000000000000ab-identity\"");
}

TEST(Responses, AcceptEncodingGzip) {
  EXPECT_TRUE(accepts_gzip("gzip"));
  EXPECT_TRUE(accepts_gzip("br, GZIP;q=0.5"));
  EXPECT_TRUE(accepts_gzip("deflate, *"));
  EXPECT_FALSE(accepts_gzip(""));
  EXPECT_FALSE(accepts_gzip("identity"));
  EXPECT_FALSE(accepts_gzip("gzip;q=0"));
  EXPECT_FALSE(accepts_gzip("gzip;q=0.0, *"));
  EXPECT_FALSE(accepts_gzip("*;q=0"));
}

TEST(Responses, HttpDateRoundTrip) {
  EXPECT_EQ(format_http_date(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777);
  EXPECT_FALSE(parse_http_date("yesterday").has_value());
}

}  // namespace
}  // namespace tuilerie
