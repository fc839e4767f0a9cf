// A table of hostile and malformed requests against a live server: each gets
// its documented 4xx, nothing leaks into the body, and the server stays up.
#include "server_process.hpp"
#include "shared_server.hpp"

#include <gtest/gtest.h>

#include <filesystem>

namespace tuilerie::testing {
namespace {

namespace http = boost::beast::http;

const std::filesystem::path test_config = std::filesystem::path(TUILERIE_SOURCE_DIR) / "config" / "test.yaml";

struct bad_request {
  http::verb method;
  std::string target;
  unsigned status;
};

// Requests sent with the regular client: well-formed HTTP with bad targets.
const std::vector<bad_request> bad_targets{
    {http::verb::get, "/tiles/flood/-1/0/0.png", 400},
    {http::verb::get, "/tiles/flood/0/-1/0.png", 400},
    {http::verb::get, "/tiles/flood/0/0/-1.png", 400},
    {http::verb::get, "/tiles/flood/99999999999999999999/0/0.png", 400},
    {http::verb::get, "/tiles/flood/1e3/0/0.png", 400},
    {http::verb::get, "/tiles/flood/0x1/0/0.png", 400},
    {http::verb::get, "/tiles/flood/1/0/0x0.png", 400},
    {http::verb::get, "/tiles/flood/abc/0/0.png", 400},
    {http::verb::get, "/tiles/flood/1.0/0/0.png", 400},
    {http::verb::get, "/tiles/flood/+1/0/0.png", 400},
    {http::verb::get, "/tiles/flood/%31/0/0.png", 400},
    {http::verb::get, "/tiles/flood/01/0/0.png", 400},
    {http::verb::get, "/tiles/flood/25/0/0.png", 400},
    {http::verb::get, "/tiles/flood/4/16/0.png", 404},
    {http::verb::get, "/tiles/flood/4/0/16.png", 404},
    {http::verb::get, "/tiles/flood/4/4294967295/0.png", 400},
    {http::verb::get, "/tiles/flood/4/999999999/0.png", 404},
    {http::verb::get, "/tiles/flood/20/0/0.png", 404},
    {http::verb::get, "/tiles/relief/2/0/0.png", 404},
    {http::verb::get, "/tiles/flood/1/0/0@3x.png", 400},
    {http::verb::get, "/tiles/flood/1/0/0@2x.mvt", 400},
    {http::verb::get, "/tiles/flood/1/0/0@1x.png", 400},
    {http::verb::get, "/tiles/flood/1/0/0.jpg", 400},
    {http::verb::get, "/tiles/flood/1/0/0.PNG", 400},
    {http::verb::get, "/tiles/flood/1/0/0.png.png", 400},
    {http::verb::get, "/tiles/flood/1/0/0", 400},
    {http::verb::get, "/tiles/flood/1/0", 400},
    {http::verb::get, "/tiles/flood//1/0/0.png", 400},
    {http::verb::get, "/tiles//flood/1/0/0.png", 400},
    {http::verb::get, "/tiles/flood/1/0/0.png/", 400},
    {http::verb::get, "/tiles/unknown/1/0/0.png", 404},
    {http::verb::get, "/tiles/../config/test.yaml", 400},
    {http::verb::get, "/tiles/..%2f..%2fetc%2fpasswd/0/0/0.png", 400},
    {http::verb::get, "/tiles/%2e%2e/%2e%2e/etc/0.png", 400},
    {http::verb::get, "/tiles/%252e%252e%252f/0/0/0.png", 400},
    {http::verb::get, "/tiles/flood%00.xml/0/0/0.png", 400},
    {http::verb::get, "/tiles/..\\..\\etc/0/0/0.png", 400},
    {http::verb::get, "/tiles/%3Cscript%3E/0/0/0.png", 400},
    {http::verb::get, "/tiles/%C3%28/0/0/0.png", 400},
    {http::verb::get, "/tiles/flood/1/0/0.png?x=%ff%fe&y=<svg>", 200},
    {http::verb::get, "/tiles/" + std::string(100000, 'a') + "/0/0/0.png", 431},
    {http::verb::get, "/tiles/flood.json?format=<svg>", 400},
    {http::verb::get, "/tiles/flood.json?scale=3", 400},
    {http::verb::get, "/tiles/nope.json", 404},
    {http::verb::get, "/legends/../../etc/passwd", 404},
    {http::verb::get, "/styles/%2e%2e%2fconfig%2ftest.yaml", 404},
    {http::verb::get, "/web/../server/main.cpp", 404},
    {http::verb::get, "/web/node_modules/maplibre-gl/package.json", 404},
    {http::verb::get, "/nonexistent", 404},
    {http::verb::get, "//catalog", 404},
    {http::verb::post, "/tiles/flood/1/0/0.png", 405},
    {http::verb::put, "/tiles/flood/1/0/0.png", 405},
    {http::verb::delete_, "/catalog", 405},
    {http::verb::patch, "/health", 405},
    {http::verb::trace, "/", 405},
    {http::verb::connect, "/", 405},
    {http::verb::post, "/admin/purge?tileset=flood", 404},
    {http::verb::get, "/admin/purge?tileset=flood", 404},
    {http::verb::get, "/ogc/collections/unknown/items", 404},
    {http::verb::get, "/ogc/collections/flood_hazard/items?bbox=a,b,c,d", 400},
    {http::verb::get, "/ogc/collections/flood_hazard/items?bbox=2.3,48.8,2.4", 400},
    {http::verb::get, "/ogc/collections/flood_hazard/items?bbox=2.3,48.9,2.4,48.8", 400},
    {http::verb::get, "/ogc/collections/flood_hazard/items?bbox=2.3,-91,2.4,48.8", 400},
    {http::verb::get, "/ogc/collections/flood_hazard/items?bbox-crs=EPSG:99999&bbox=1,2,3,4", 400},
    {http::verb::get, "/ogc/collections/flood_hazard/items?limit=-5", 400},
    {http::verb::get, "/ogc/collections/flood_hazard/items?limit=abc", 400},
    {http::verb::get, "/ogc/collections/flood_hazard/items?unknown=1", 400},
    {http::verb::get, "/query?lon=abc&lat=47.9", 400},
    {http::verb::get, "/query?lon=1.9", 400},
    {http::verb::get, "/query?lon=1.9&lat=91", 400},
};

class BadInput : public shared_server_test {
};

TEST_F(BadInput, TableOfTargetsGetsDocumentedStatus) {
  ASSERT_GE(bad_targets.size(), 60u);
  const pid_t pid = server->pid();
  for (const auto& request : bad_targets) {
    const std::string shown = request.target.substr(0, 80);
    const auto reply = server->get(request.target, {}, request.method);
    EXPECT_EQ(reply.status, request.status) << http::to_string(request.method) << " " << shown;
    EXPECT_EQ(reply.body.find("root:"), std::string::npos) << shown;
    EXPECT_EQ(reply.body.find("<svg"), std::string::npos) << shown;
    EXPECT_EQ(reply.body.find("<script"), std::string::npos) << shown;
    EXPECT_EQ(reply.body.find("/work/"), std::string::npos) << "a file path leaked for " << shown;
    EXPECT_EQ(reply.body.find(".cpp"), std::string::npos) << shown;
    if (reply.status >= 400) {
      EXPECT_EQ(reply.header("content-type").find("text/html"), std::string::npos) << shown;
    }
  }
  EXPECT_TRUE(server->alive());
  EXPECT_EQ(server->pid(), pid);
  EXPECT_EQ(server->get("/tiles/flood/4/8/5.png").status, 200u);
}

// Raw exchanges: malformed HTTP, odd framing and protocol versions.
TEST_F(BadInput, MalformedHttpGets4xxAndServerStaysUp) {
  const auto port = server->port();
  auto status_line_of = [](const std::string& reply) { return reply.substr(0, reply.find("\r\n")); };

  EXPECT_EQ(status_line_of(raw_exchange(port, "GARBAGE\r\n\r\n")), "HTTP/1.1 400 Bad Request");
  EXPECT_EQ(status_line_of(raw_exchange(port, "GET /health HTTP/9.9\r\nHost: x\r\n\r\n")).substr(9, 3), "400");
  EXPECT_EQ(status_line_of(raw_exchange(port, "GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n"))
                .substr(9, 3),
            "400");
  EXPECT_EQ(status_line_of(raw_exchange(port, "GET /health HTTP/1.1\r\nHost: x\r\nX: " + std::string(10000, 'x') +
                                                  "\r\n\r\n"))
                .substr(9, 3),
            "431");
  EXPECT_EQ(status_line_of(raw_exchange(port, "GET /" + std::string(10000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n"))
                .substr(9, 3),
            "431");
  EXPECT_EQ(status_line_of(raw_exchange(port, "POST /health HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                                              "Content-Length: 5\r\n\r\nhello"))
                .substr(9, 3),
            "413");
  EXPECT_EQ(status_line_of(raw_exchange(port, "GET /health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                                              "5\r\nhello\r\n0\r\n\r\n"))
                .substr(9, 3),
            "413");
  EXPECT_EQ(status_line_of(raw_exchange(port, "GET /health HTTP/1.1\r\n\r\n")).substr(9, 3), "200")
      << "a missing Host is answered; absolute URLs then fall back to the listen address";
  EXPECT_EQ(status_line_of(raw_exchange(port, "GET http://evil.example/health HTTP/1.1\r\nHost: x\r\n\r\n"))
                .substr(9, 3),
            "400");
  EXPECT_EQ(status_line_of(raw_exchange(port, "GET /ti\x01les HTTP/1.1\r\nHost: x\r\n\r\n")).substr(9, 3), "400");
  constexpr char nul_in_target[] = "GET /ti\0les HTTP/1.1\r\nHost: x\r\n\r\n";
  EXPECT_EQ(status_line_of(raw_exchange(port, std::string(nul_in_target, sizeof nul_in_target - 1))).substr(9, 3),
            "400");
  const std::string http10 = raw_exchange(port, "GET /health HTTP/1.0\r\n\r\n");
  EXPECT_EQ(status_line_of(http10), "HTTP/1.0 200 OK");

  std::string pipeline;
  for (int i = 0; i < 10; ++i) pipeline += "GET /health HTTP/1.1\r\nHost: x\r\n\r\n";
  const std::string replies = raw_exchange(port, pipeline);
  std::size_t count = 0;
  for (auto at = replies.find("HTTP/1.1 200"); at != std::string::npos; at = replies.find("HTTP/1.1 200", at + 1)) {
    ++count;
  }
  EXPECT_EQ(count, 10u);
  EXPECT_TRUE(server->alive());
}

}  // namespace
}  // namespace tuilerie::testing
