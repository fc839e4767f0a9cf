// The HTTP surface of a real server on 127.0.0.1: routes, statuses, headers.
#include "server_process.hpp"
#include "shared_server.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <thread>

namespace tuilerie::testing {
namespace {

namespace http = boost::beast::http;

const std::filesystem::path test_config = std::filesystem::path(TUILERIE_SOURCE_DIR) / "config" / "test.yaml";

class HttpServer : public shared_server_test {
};

TEST_F(HttpServer, CatalogListsTilesets) {
  const auto reply = server->get("/catalog");
  ASSERT_EQ(reply.status, 200u);
  EXPECT_EQ(reply.header("content-type"), "application/json");
  const auto catalog = nlohmann::json::parse(reply.body);
  std::vector<std::string> names;
  for (const auto& tileset : catalog["tilesets"]) names.push_back(tileset["name"]);
  for (const char* expected : {"air", "communes", "flood", "noise", "overview", "relief", "rivers"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), expected), names.end()) << expected;
  }
}

TEST_F(HttpServer, TileJsonHasAbsoluteUrlsFromHost) {
  const auto reply = server->get("/tiles/flood.json", {{"Host", "tiles.example.org:8443"}});
  ASSERT_EQ(reply.status, 200u);
  const auto document = nlohmann::json::parse(reply.body);
  EXPECT_EQ(document["tilejson"], "3.0.0");
  EXPECT_EQ(document["scheme"], "xyz");
  ASSERT_EQ(document["tiles"].size(), 1u);
  EXPECT_EQ(document["tiles"][0], "http://tiles.example.org:8443/tiles/flood/{z}/{x}/{y}.png");
  EXPECT_EQ(document["bounds"].size(), 4u);
  EXPECT_EQ(document["center"].size(), 3u);
}

TEST_F(HttpServer, TileJsonForRetinaAndVector) {
  const auto retina = nlohmann::json::parse(server->get("/tiles/flood.json?format=webp&scale=2").body);
  EXPECT_TRUE(retina["tiles"][0].get<std::string>().ends_with("/tiles/flood/{z}/{x}/{y}@2x.webp"));
  EXPECT_EQ(retina["tileSize"], 256) << "tileSize is in CSS pixels; @2x tiles cover 256 of them";
  const auto vector = nlohmann::json::parse(server->get("/tiles/flood.json?format=mvt").body);
  EXPECT_TRUE(vector["tiles"][0].get<std::string>().ends_with("/tiles/flood/{z}/{x}/{y}.mvt"));
  ASSERT_TRUE(vector["vector_layers"].is_array());
  EXPECT_FALSE(vector["vector_layers"].empty());
  for (const auto& layer : vector["vector_layers"]) {
    EXPECT_TRUE(layer.contains("id"));
    EXPECT_TRUE(layer["fields"].is_object());
  }
}

TEST_F(HttpServer, TileJsonRejectsUnknownFormat) {
  EXPECT_EQ(server->get("/tiles/flood.json?format=gif").status, 400u);
  EXPECT_EQ(server->get("/tiles/relief.json?format=mvt").status, 400u);
  EXPECT_EQ(server->get("/tiles/nope.json").status, 404u);
}

TEST_F(HttpServer, MalformedTilePathsGet400) {
  for (const char* target : {"/tiles/flood/-1/0/0.png", "/tiles/flood/1.5/0/0.png", "/tiles/flood/+1/0/0.png",
                             "/tiles/flood/%31/0/0.png", "/tiles/flood/abc/0/0.png", "/tiles/flood/1/0/0.gif",
                             "/tiles/flood/1/0/0@3x.png", "/tiles/flood/1/0/0", "/tiles/flood//0/0.png",
                             "/tiles/%2e%2e/0/0/0.png", "/tiles/..%2f..%2fetc%2fpasswd/0/0/0.png",
                             "/tiles/zones%00.xml/0/0/0.png", "/tiles/%3Csvg%20onload%3Dalert(1)%3E/0/0/0.png"}) {
    const auto reply = server->get(target);
    EXPECT_EQ(reply.status, 400u) << target;
    EXPECT_EQ(reply.header("content-type"), "application/json") << target;
    EXPECT_EQ(reply.body.find("<svg"), std::string::npos) << target;
    EXPECT_EQ(reply.body.find("root:"), std::string::npos) << target;
    EXPECT_TRUE(nlohmann::json::accept(reply.body)) << target;
  }
}

TEST_F(HttpServer, OutsideGridOrZoomRangeGets404) {
  for (const char* target : {"/tiles/flood/4/16/16.png", "/tiles/flood/4/15/16.png", "/tiles/flood/0/0/1.png",
                             "/tiles/flood/0/1/0.webp", "/tiles/flood/3/8/0.mvt", "/tiles/flood/24/0/0.png",
                             "/tiles/nope/1/0/0.png", "/tiles/relief/10/518/352.mvt"}) {
    EXPECT_EQ(server->get(target).status, 404u) << target;
  }
  EXPECT_TRUE(server->alive());
  EXPECT_EQ(server->get("/tiles/flood/4/8/5.png").status, 200u);
}

TEST_F(HttpServer, TraversalNeverReadsFiles) {
  for (const char* target : {"/../../etc/passwd", "/web/../../etc/passwd", "/web/%2e%2e/%2e%2e/etc/passwd",
                             "/legends/../../etc/passwd", "/styles/..%2f..%2fconfig%2ftest.yaml"}) {
    const auto reply = server->get(target);
    EXPECT_EQ(reply.status, 404u) << target;
    EXPECT_EQ(reply.body.find("root:"), std::string::npos) << target;
  }
}

TEST_F(HttpServer, OtherMethodsGet405) {
  for (const auto method : {http::verb::post, http::verb::put, http::verb::delete_, http::verb::patch}) {
    const auto reply = server->get("/tiles/flood/0/0/0.png", {}, method);
    EXPECT_EQ(reply.status, 405u) << http::to_string(method);
    EXPECT_EQ(reply.header("allow"), "GET, HEAD, OPTIONS");
  }
}

TEST_F(HttpServer, HeadHasHeadersWithoutBody) {
  const auto get = server->get("/tiles/flood/5/16/11.png");
  const auto head = server->get("/tiles/flood/5/16/11.png", {}, http::verb::head);
  ASSERT_EQ(head.status, 200u);
  EXPECT_TRUE(head.body.empty());
  EXPECT_EQ(head.header("content-length"), std::to_string(get.body.size()));
  EXPECT_EQ(head.header("etag"), get.header("etag"));
}

TEST_F(HttpServer, EtagRevalidationGives304) {
  const auto first = server->get("/tiles/communes/8/129/89.png");
  ASSERT_EQ(first.status, 200u);
  const std::string etag = first.header("etag");
  ASSERT_FALSE(etag.empty());
  for (const std::string& validator : {etag, "W/" + etag, "\"nope\", " + etag, std::string("*")}) {
    const auto again = server->get("/tiles/communes/8/129/89.png", {{"If-None-Match", validator}});
    EXPECT_EQ(again.status, 304u) << validator;
    EXPECT_TRUE(again.body.empty());
    EXPECT_EQ(again.header("etag"), etag);
    EXPECT_FALSE(again.header("cache-control").empty());
  }
  EXPECT_EQ(server->get("/tiles/communes/8/129/89.png", {{"If-None-Match", "\"other\""}}).status, 200u);
  const auto since = server->get("/tiles/communes/8/129/89.png",
                                 {{"If-Modified-Since", first.header("last-modified")}});
  EXPECT_EQ(since.status, 304u);
}

TEST_F(HttpServer, CorsOnEveryResponse) {
  const auto tile = server->get("/tiles/flood/0/0/0.png", {{"Origin", "https://carte.example.fr"}});
  EXPECT_EQ(tile.header("access-control-allow-origin"), "*");
  EXPECT_NE(tile.header("access-control-expose-headers").find("ETag"), std::string::npos);
  const auto error = server->get("/tiles/flood/0/0/9.png", {{"Origin", "https://carte.example.fr"}});
  EXPECT_EQ(error.header("access-control-allow-origin"), "*");
  const auto preflight = server->get("/tiles/flood/0/0/0.png",
                                     {{"Origin", "https://carte.example.fr"},
                                      {"Access-Control-Request-Method", "GET"},
                                      {"Access-Control-Request-Headers", "If-None-Match"}},
                                     http::verb::options);
  EXPECT_EQ(preflight.status, 204u);
  EXPECT_NE(preflight.header("access-control-allow-methods").find("GET"), std::string::npos);
  EXPECT_EQ(preflight.header("access-control-allow-headers"), "If-None-Match");
}

TEST_F(HttpServer, HealthAndMetrics) {
  const auto health = nlohmann::json::parse(server->get("/health").body);
  EXPECT_EQ(health["status"], "ok");
  const auto metrics = server->get("/metrics");
  ASSERT_EQ(metrics.status, 200u);
  EXPECT_NE(metrics.header("content-type").find("text/plain"), std::string::npos);
  EXPECT_NO_THROW(metric_value(metrics.body, "tuilerie_cache_hits_total"));
  EXPECT_NO_THROW(metric_value(metrics.body, "tuilerie_cache_entries"));
}

TEST_F(HttpServer, ServerSurvivesGarbageAndSlowClients) {
  const std::string garbage = raw_exchange(server->port(), "\x16\x03\x01garbage\r\n\r\n");
  EXPECT_NE(garbage.find("400"), std::string::npos);
  const std::string huge_header = raw_exchange(
      server->port(), "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n");
  EXPECT_NE(huge_header.find("431"), std::string::npos);
  const std::string body = raw_exchange(
      server->port(), "POST /tiles/flood/0/0/0.png HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n0123456789");
  EXPECT_NE(body.find("413"), std::string::npos);
  const std::string pipelined = raw_exchange(
      server->port(), "GET /health HTTP/1.1\r\nHost: x\r\n\r\nGET /catalog HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(pipelined.find("HTTP/1.1 200"), 0u);
  EXPECT_NE(pipelined.find("HTTP/1.1 200", 10), std::string::npos);
  const std::string http10 = raw_exchange(server->port(), "GET /health HTTP/1.0\r\n\r\n");
  EXPECT_EQ(http10.find("HTTP/1.0 200"), 0u);
  EXPECT_TRUE(server->alive());
}

}  // namespace
}  // namespace tuilerie::testing

namespace tuilerie::testing {
namespace {

TEST(ServerLifecycle, SigtermFinishesInFlightRequestAndExitsZero) {
  server_process server(test_config);
  http_reply reply;
  std::thread client([&] { reply = server.get("/tiles/overview/13/4139/2849.png"); });
  // The cold overview metatile takes a few hundred milliseconds to render,
  // so the request is still in flight when the signal arrives.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const int status = server.stop();
  client.join();
  EXPECT_EQ(reply.status, 200u);
  EXPECT_FALSE(reply.body.empty());
  EXPECT_EQ(status, 0);
}

}  // namespace
}  // namespace tuilerie::testing
