// Cache behaviour of a real server: coalescing, vector tile encodings,
// freshness after data edits, expiry and the admin purge route.
#include "server_process.hpp"
#include "shared_server.hpp"

#include "render/tile_grid.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include <boost/asio/ip/tcp.hpp>

namespace tuilerie::testing {
namespace {

namespace fs = std::filesystem;
namespace http = boost::beast::http;

const fs::path source_dir = TUILERIE_SOURCE_DIR;
const std::string admin_token = "test-token-0123456789";

std::string read_text(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Replaces a file the way editors and GDAL tools do: write a new file, rename it over the old one.
void replace_file(const fs::path& file, const std::string& contents) {
  const fs::path temporary = file.string() + ".new";
  std::ofstream(temporary, std::ios::binary) << contents;
  fs::rename(temporary, file);
}

double renders_of(const server_process& server, const std::string& tileset) {
  return labelled_metric_value(server.get("/metrics").body, "tuilerie_render_seconds_count",
                               "tileset=\"" + tileset + "\"");
}

// A private copy of the communes style, its data and a configuration, so
// tests can edit them.
class EditableTileset {
 public:
  explicit EditableTileset(const std::string& extra_tileset_settings = "", const std::string& extra_server_settings = "",
                           const std::string& cache_settings = "") {
    root_ = fs::temp_directory_path() / ("tuilerie-fresh-" + std::to_string(getpid()) + "-" + std::to_string(counter_++));
    fs::create_directories(root_ / "styles");
    fs::create_directories(root_ / "data" / "admin");
    fs::copy_file(source_dir / "styles" / "communes.xml", style());
    for (const char* name : {"communes-45-loiret.geojson", "departement-45-loiret.geojson"}) {
      fs::copy_file(source_dir / "data" / "admin" / name, root_ / "data" / "admin" / name);
    }
    std::ofstream(config()) << cache_settings << "server:\n  admin_token: " << admin_token << "\n"
                            << extra_server_settings
                            << "tilesets:\n  communes:\n    style: styles/communes.xml\n"
                            << "    formats: [png, mvt]\n    bounds: [1.45, 47.45, 3.20, 48.40]\n"
                            << extra_tileset_settings;
  }
  ~EditableTileset() {
    std::error_code ignored;
    fs::remove_all(root_, ignored);
  }

  fs::path config() const { return root_ / "config.yaml"; }
  fs::path style() const { return root_ / "styles" / "communes.xml"; }
  fs::path communes() const { return root_ / "data" / "admin" / "communes-45-loiret.geojson"; }

 private:
  static inline int counter_ = 0;
  fs::path root_;
};

// Polls until the tile's ETag differs from the given one, for at most 15 s.
http_reply wait_for_new_etag(const server_process& server, const std::string& target, const std::string& old_etag) {
  http_reply reply;
  for (int attempt = 0; attempt < 150; ++attempt) {
    reply = server.get(target);
    if (reply.header("etag") != old_etag) return reply;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return reply;
}

class CacheBehaviour : public shared_server_test {
};

TEST_F(CacheBehaviour, ColdMetatileRendersOnce) {
  const metatile meta = metatile_of({13, 4142, 2848}, 8);
  const double renders_before = renders_of(*server, "communes");
  std::vector<std::thread> clients;
  std::vector<http_reply> replies(64);
  const auto tiles = meta.tiles();
  for (std::size_t i = 0; i < tiles.size(); ++i) {
    clients.emplace_back([&, i] {
      replies[i] = server->get("/tiles/communes/13/" + std::to_string(tiles[i].x) + "/" + std::to_string(tiles[i].y) +
                               ".png");
    });
  }
  for (auto& client : clients) client.join();
  for (const auto& reply : replies) EXPECT_EQ(reply.status, 200u);
  EXPECT_EQ(renders_of(*server, "communes") - renders_before, 1);
}

TEST_F(CacheBehaviour, SameTileConcurrentlyGivesIdenticalBytes) {
  std::vector<std::thread> clients;
  std::vector<http_reply> replies(32);
  for (std::size_t i = 0; i < replies.size(); ++i) {
    clients.emplace_back([&, i] { replies[i] = server->get("/tiles/overview/12/2070/1409.png"); });
  }
  for (auto& client : clients) client.join();
  std::set<std::string> bodies;
  for (const auto& reply : replies) bodies.insert(reply.body);
  EXPECT_EQ(bodies.size(), 1u);
}

TEST_F(CacheBehaviour, VectorTileGzipOnlyWhenAccepted) {
  const std::string target = "/tiles/communes/10/517/354.mvt";
  const auto plain = server->get(target);
  const auto gzip = server->get(target, {{"Accept-Encoding", "gzip"}});
  const auto identity = server->get(target, {{"Accept-Encoding", "identity"}});
  ASSERT_EQ(plain.status, 200u);
  EXPECT_EQ(plain.header("content-type"), "application/vnd.mapbox-vector-tile");
  EXPECT_EQ(static_cast<unsigned char>(plain.body[0]), 0x1a) << "raw protobuf starts with the layers field";
  EXPECT_TRUE(plain.header("content-encoding").empty());
  EXPECT_EQ(identity.body, plain.body);
  EXPECT_EQ(static_cast<unsigned char>(gzip.body[0]), 0x1f);
  EXPECT_EQ(static_cast<unsigned char>(gzip.body[1]), 0x8b);
  EXPECT_EQ(gzip.header("content-encoding"), "gzip");
  for (const auto* reply : {&plain, &gzip, &identity}) EXPECT_EQ(reply->header("vary"), "Accept-Encoding");
  EXPECT_NE(plain.header("etag"), gzip.header("etag"));
  EXPECT_EQ(server->get(target, {{"Accept-Encoding", "gzip"}, {"If-None-Match", gzip.header("etag")}}).status, 304u);
  EXPECT_EQ(server->get(target, {{"If-None-Match", plain.header("etag")}}).status, 304u);
}

TEST_F(CacheBehaviour, EmptyVectorTileIs204) {
  const auto reply = server->get("/tiles/communes/10/483/368.mvt");
  EXPECT_EQ(reply.status, 204u);
  EXPECT_TRUE(reply.body.empty());
  EXPECT_FALSE(reply.header("etag").empty());
  EXPECT_EQ(server->get("/tiles/communes/10/483/368.mvt").status, 204u) << "the empty tile is cached too";
}

TEST(Freshness, DataEditChangesTile) {
  EditableTileset tileset;
  server_process server(tileset.config());
  const std::string target = "/tiles/communes/12/2069/1424.mvt";
  const auto before = server.get(target);
  ASSERT_EQ(before.status, 200u);
  ASSERT_NE(before.body.find("Orléans"), std::string::npos);

  // The file escapes non-ASCII characters, as france-geojson publishes it.
  std::string data = read_text(tileset.communes());
  const std::string old_name = "\"Orl\\u00e9ans\"";
  const auto at = data.find(old_name);
  ASSERT_NE(at, std::string::npos);
  data.replace(at, old_name.size(), "\"Orl\\u00e9ans-sur-Loire\"");
  replace_file(tileset.communes(), data);

  const auto after = wait_for_new_etag(server, target, before.header("etag"));
  EXPECT_NE(after.header("etag"), before.header("etag"));
  EXPECT_NE(after.body.find("Orléans-sur-Loire"), std::string::npos);
}

// A GeoJSON square of 40 km around Orléans in Lambert-93, named `zone`.
std::string lambert93_zone(const std::string& zone) {
  return R"({"type":"FeatureCollection","name":"zones","features":[{"type":"Feature","properties":{"zone":")" +
         zone +
         R"("},"geometry":{"type":"Polygon","coordinates":[[[600000,6735000],[640000,6735000],[640000,6775000],)"
         R"([600000,6775000],[600000,6735000]]]}}]})";
}

TEST(Freshness, LambertDataEditReachesCopy) {
  // Rendered from a Web Mercator copy of the file, which the edit must replace.
  const fs::path root = fs::temp_directory_path() / ("tuilerie-lambert-" + std::to_string(getpid()));
  fs::create_directories(root);
  const fs::path data = root / "zones.geojson";
  std::ofstream(data) << lambert93_zone("avant");
  std::ofstream(root / "zones.xml")
      << "<Map srs=\"epsg:3857\"><Style name=\"fill\"><Rule><PolygonSymbolizer fill=\"#3060c0\"/></Rule></Style>"
         "<Layer name=\"zones\" srs=\"epsg:2154\"><StyleName>fill</StyleName><Datasource>"
         "<Parameter name=\"type\">ogr</Parameter><Parameter name=\"file\">zones.geojson</Parameter>"
         "<Parameter name=\"layer\">zones</Parameter></Datasource></Layer></Map>";
  std::ofstream(root / "config.yaml") << "tilesets:\n  zones:\n    style: zones.xml\n    formats: [png, mvt]\n";
  server_process server(root / "config.yaml");
  const std::string target = "/tiles/zones/12/2069/1424.mvt";
  const auto before = server.get(target);
  ASSERT_EQ(before.status, 200u);
  ASSERT_NE(before.body.find("avant"), std::string::npos);

  replace_file(data, lambert93_zone("apres"));
  const auto after = wait_for_new_etag(server, target, before.header("etag"));
  EXPECT_NE(after.body.find("apres"), std::string::npos);
  std::vector<fs::path> copies;
  for (const auto& entry : fs::directory_iterator(server.cache_dir() / "mercator")) copies.push_back(entry.path());
  EXPECT_EQ(copies.size(), 1u) << "the copy of the old version is removed";
  server.stop();
  fs::remove_all(root);
}

TEST(Freshness, BrokenStyleKeepsPreviousOne) {
  EditableTileset tileset;
  server_process server(tileset.config());
  ASSERT_EQ(server.get("/tiles/communes/9/258/177.png").status, 200u);
  replace_file(tileset.style(), "<Map><Layer name=\"broken\"");
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  EXPECT_TRUE(server.alive());
  EXPECT_EQ(server.get("/tiles/communes/9/259/177.png").status, 200u) << "an uncached tile renders with the old style";
  EXPECT_EQ(server.get("/tiles/communes/9/258/177.png").status, 200u);
}

long open_descriptors(pid_t pid) {
  long count = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd")) ++count;
  return count;
}

long resident_kilobytes(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return 0;
}

TEST(Freshness, HundredReloadsLeakNothing) {
  EditableTileset tileset;
  server_process server(tileset.config());
  const std::string style = read_text(tileset.style());
  auto reload_with_change = [&](int round) {
    // A changed comment changes the data version, so every reload reloads the style.
    replace_file(tileset.style(), style + "<!-- reload " + std::to_string(round) + " -->\n");
    kill(server.pid(), SIGHUP);
    ASSERT_EQ(server.get("/tiles/communes/8/129/89.png").status, 200u);
  };
  for (int round = 0; round < 10; ++round) reload_with_change(round);
  const long descriptors = open_descriptors(server.pid());
  const long resident = resident_kilobytes(server.pid());
  for (int round = 10; round < 110; ++round) reload_with_change(round);
  EXPECT_TRUE(server.alive());
  EXPECT_LE(open_descriptors(server.pid()), descriptors + 2);
  EXPECT_LT(resident_kilobytes(server.pid()), resident * 12 / 10) << "resident memory grew by more than 20%";
}

TEST(Expiry, ExpiredTileIsRenderedAgain) {
  EditableTileset tileset("    max_age: 1\n");
  server_process server(tileset.config());
  const std::string target = "/tiles/communes/9/258/177.png";
  ASSERT_EQ(server.get(target).status, 200u);
  const double renders = renders_of(server, "communes");
  ASSERT_EQ(server.get(target).status, 200u);
  EXPECT_EQ(renders_of(server, "communes"), renders) << "a fresh tile is served from the cache";
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  ASSERT_EQ(server.get(target).status, 200u);
  EXPECT_EQ(renders_of(server, "communes"), renders + 1);
}

TEST(AdminPurge, NeedsTokenAndDeletesTiles) {
  EditableTileset tileset;
  server_process server(tileset.config());
  ASSERT_EQ(server.get("/tiles/communes/9/258/177.png").status, 200u);
  // The box lies inside tile 9/258/177 alone; its metatile stored 64 tiles.
  const std::string target = "/admin/purge?tileset=communes&bbox=1.85,48.05,1.9,48.1&zoom=9-9";

  const auto anonymous = server.get(target, {}, http::verb::post);
  EXPECT_EQ(anonymous.status, 401u);
  EXPECT_NE(anonymous.header("www-authenticate").find("Bearer"), std::string::npos);
  EXPECT_EQ(server.get(target, {{"Authorization", "Bearer wrong-token-0123456"}}, http::verb::post).status, 401u);
  EXPECT_EQ(server.get("/admin/purge?tileset=nope", {{"Authorization", "Bearer " + admin_token}}, http::verb::post).status,
            400u);
  EXPECT_EQ(server.get("/admin/purge?tileset=communes&bbox=2,48,1,47", {{"Authorization", "Bearer " + admin_token}},
                       http::verb::post)
                .status,
            400u);

  const auto purged = server.get(target, {{"Authorization", "Bearer " + admin_token}}, http::verb::post);
  ASSERT_EQ(purged.status, 200u);
  EXPECT_EQ(nlohmann::json::parse(purged.body)["deleted"], 1);
  const double renders = renders_of(server, "communes");
  ASSERT_EQ(server.get("/tiles/communes/9/258/177.png").status, 200u);
  EXPECT_EQ(renders_of(server, "communes"), renders + 1) << "the purged tile is rendered again";
}

TEST(Faults, MissingDataFileGives503UntilItReturns) {
  EditableTileset tileset;
  server_process server(tileset.config());
  const std::string target = "/tiles/communes/10/517/354.png";
  ASSERT_EQ(server.get(target).status, 200u);
  const fs::path moved = tileset.communes().string() + ".away";
  fs::rename(tileset.communes(), moved);

  unsigned status = 0;
  for (int attempt = 0; attempt < 100 && status != 503; ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    status = server.get(target).status;
  }
  EXPECT_EQ(status, 503u);
  EXPECT_EQ(server.get("/tiles/communes/10/518/354.png").status, 503u);
  EXPECT_TRUE(server.alive());

  fs::rename(moved, tileset.communes());
  for (int attempt = 0; attempt < 100 && status != 200; ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    status = server.get(target).status;
  }
  EXPECT_EQ(status, 200u);
}

TEST(Faults, FullCacheStillServesAndHealthSaysDegraded) {
  // One 16 x 16 metatile of @2x tiles is several megabytes, more than the
  // whole 1 MiB cache: the batch cannot be stored even after eviction.
  EditableTileset tileset("    metatile: 16\n", "", "cache:\n  initial_size_mb: 1\n  max_size_mb: 1\n");
  server_process server(tileset.config());
  const auto tile = server.get("/tiles/communes/11/1035/709@2x.png");
  EXPECT_EQ(tile.status, 200u);
  EXPECT_FALSE(tile.body.empty());
  const auto health = nlohmann::json::parse(server.get("/health").body);
  EXPECT_EQ(health["cache"]["status"], "degraded");
  EXPECT_EQ(health["cache"]["writable"], false);
  EXPECT_GE(metric_value(server.get("/metrics").body, "tuilerie_cache_write_failures_total"), 1);
  EXPECT_EQ(server.get("/tiles/communes/11/1035/709@2x.png").status, 200u) << "served again, rendered again";
}

TEST(Faults, UnusableCacheDirectoryFallsBack) {
  // A path under a regular file cannot be created, even by root. A read-only directory would not
  // do, because root can still write to it.
  EditableTileset tileset;
  const fs::path blocker = tileset.config().parent_path() / "not-a-directory";
  std::ofstream(blocker) << "a file where the cache directory should be\n";
  server_process server(tileset.config(), blocker / "cache");
  const auto tile = server.get("/tiles/communes/9/258/177.png");
  EXPECT_EQ(tile.status, 200u);
  EXPECT_FALSE(tile.body.empty());
  EXPECT_EQ(server.get("/tiles/communes/9/258/177.png").status, 200u);
  const auto health = nlohmann::json::parse(server.get("/health").body);
  EXPECT_EQ(health["status"], "degraded");
  EXPECT_EQ(health["cache"]["temporary"], true);
  EXPECT_EQ(metric_value(server.get("/metrics").body, "tuilerie_cache_fallback"), 1);
}

TEST(Limits, ConnectionsBeyondMaximumGet503) {
  EditableTileset tileset("", "  limits:\n    max_connections: 2\n");
  server_process server(tileset.config());
  namespace net = boost::asio;
  net::io_context io;
  std::vector<net::ip::tcp::socket> held;
  for (int i = 0; i < 2; ++i) {
    held.emplace_back(io);
    held.back().connect({net::ip::make_address("127.0.0.1"), server.port()});
  }
  // The server counts a connection once it accepted it; give it that moment.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const std::string refused = raw_exchange(server.port(), "GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(refused.substr(0, 12), "HTTP/1.1 503");
  held.clear();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(server.get("/health").status, 200u);
}

TEST(Limits, SlowRenderGets504AndTileIsCachedLater) {
  // A 16 x 16 metatile at @2x is an 8192 x 8192 image, 256 MiB of pixels:
  // filling and encoding it takes far more than 50 ms on any machine. A
  // one-second limit was once beaten by a fast CI machine.
  EditableTileset tileset("    metatile: 16\n", "  limits:\n    render_timeout_seconds: 0.05\n");
  server_process server(tileset.config());
  const auto reply = server.get("/tiles/communes/11/1035/709@2x.png");
  EXPECT_EQ(reply.status, 504u);
  EXPECT_TRUE(server.alive());
  unsigned status = 0;
  for (int attempt = 0; attempt < 60 && status != 200; ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    status = server.get("/tiles/communes/11/1035/709@2x.png").status;
  }
  EXPECT_EQ(status, 200u) << "the render went on and stored the tiles";
}

}  // namespace
}  // namespace tuilerie::testing
