// A real server reading the flood layers from the test PostGIS database. It serves the same tiles and
// features as from the GeoPackage, edits purge exactly the tiles they touch, and an outage gives 503.
#include "images.hpp"
#include "mvt_test_support.hpp"
#include "postgis_support.hpp"
#include "server_process.hpp"

#include <boost/asio/connect.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace tuilerie::testing {
namespace {

namespace fs = std::filesystem;
using mvt_test::decode_with_node;
using mvt_test::decoded_layer;
using mvt_test::node_decoder_missing;

const fs::path source_dir = TUILERIE_SOURCE_DIR;

std::string read_file(const fs::path& file) {
  std::ifstream in(file);
  if (!in) throw std::runtime_error("cannot read " + file.string());
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void write_file(const fs::path& file, const std::string& text) {
  std::ofstream out(file);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + file.string());
}

void replace_once(std::string& text, const std::string& from, const std::string& to) {
  const auto position = text.find(from);
  if (position == std::string::npos) throw std::runtime_error("styles/flood.xml no longer contains: " + from);
  text.replace(position, from.size(), to);
}

void replace_all(std::string& text, const std::string& from, const std::string& to) {
  for (auto position = text.find(from); position != std::string::npos; position = text.find(from, position + to.size())) {
    text.replace(position, from.size(), to);
  }
}

std::string postgis_datasource(const std::string& table) {
  return "<Datasource>\n"
         "      <Parameter name=\"type\">postgis</Parameter>\n"
         "      <Parameter name=\"table\">" + table + "</Parameter>\n"
         "      <Parameter name=\"geometry_field\">geom</Parameter>\n"
         "      <Parameter name=\"key_field\">fid</Parameter>\n"
         "      <Parameter name=\"srid\">2154</Parameter>\n"
         "    </Datasource>";
}

// styles/flood.xml with the two layers of the GeoPackage read from PostGIS instead: zone_alea from
// `zones_table`, perimetre from flood.perimetre. Mapnik's postgis input leaves out date columns, so the
// perimeter's dates become text in the format GDAL gives the GeoPackage's (YYYY/MM/DD).
std::string postgis_flood_style(const std::string& zones_table) {
  std::string style = read_file(source_dir / "styles" / "flood.xml");
  const std::string gpkg = "../data/flood/pprn-38DDT20130013-inondation-l93.gpkg";
  replace_once(style,
               "<Datasource>\n      <Parameter name=\"type\">ogr</Parameter>\n      <Parameter name=\"file\">" +
                   gpkg + "</Parameter>\n      <Parameter name=\"layer\">perimetre</Parameter>\n    </Datasource>",
               postgis_datasource("(SELECT fid, id_gaspar, libelle, type, to_char(datevalid, 'YYYY/MM/DD') AS "
                                  "datevalid, to_char(datefinval, 'YYYY/MM/DD') AS datefinval, srce_geom, "
                                  "srce_annee, geom FROM flood.perimetre) AS perimeter"));
  replace_once(style,
               "<Datasource>\n      <Parameter name=\"type\">ogr</Parameter>\n      <Parameter name=\"file\">" +
                   gpkg +
                   "</Parameter>\n      <Parameter name=\"layer_by_sql\">SELECT * FROM zone_alea ORDER BY "
                   "fid</Parameter>\n    </Datasource>",
               postgis_datasource("(SELECT * FROM " + zones_table + " ORDER BY fid) AS zones"));
  // The copy lives in a temporary directory: relative paths must point back into the source tree.
  replace_all(style, "../data/", (source_dir / "data").string() + "/");
  replace_all(style, "file=\"symbols/", "file=\"" + (source_dir / "styles" / "symbols").string() + "/");
  return style;
}

// The flood tileset settings of config/test.yaml, for both copies.
std::string flood_tileset(const std::string& name, const fs::path& style, const std::string& tables,
                          const std::string& extra = "") {
  return "  " + name + ":\n" + extra +
         "    style: " + style.string() + "\n"
         "    formats: [png, mvt]\n"
         "    bounds: [2.55, 43.15, 6.15, 45.20]\n"
         "    metatile: 8\n"
         "    buffer: 128\n" +
         (tables.empty() ? std::string() : "    postgis_tables: [" + tables + "]\n") +
         "    vector:\n"
         "      layers:\n"
         "        ppr_perimeter:\n"
         // Not datevalid: Mapnik's ogr input reads no date values from the GeoPackage.
         "          fields: [id_gaspar, libelle]\n"
         "        flood_hazard:\n"
         "          minzoom: 8\n"
         "          fields: [id_zone, id_gaspar, coderisque, nomrisque, nivalea, nivalea_st, descript]\n";
}

// A temporary directory with a configuration serving `flood` from the GeoPackage and `flood_pg` from
// PostGIS (zones from `zones_table`), and the two collections of the zones.
class postgis_setup {
 public:
  // pg_tileset_extra is YAML added to the flood_pg tileset's keys, top_level_extra YAML added at the end.
  explicit postgis_setup(const test_database& database, const std::string& zones_table = "flood.zone_alea",
                         const std::string& user = "", const std::string& pg_tileset_extra = "",
                         const std::string& top_level_extra = "") {
    std::string pattern = (fs::temp_directory_path() / "tuilerie-postgis-test-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp " + pattern);
    directory_ = pattern;
    write_file(directory_ / "flood-pg.xml", postgis_flood_style(zones_table));
    write_file(directory_ / "config.yaml",
               "server:\n  listen: 127.0.0.1:0\n  web_root: " + (source_dir / "web").string() + "\n"
               "postgis:\n"
               "  host: " + database.host + "\n  port: " + std::to_string(database.port) + "\n"
               "  dbname: " + database.database + "\n  user: " + (user.empty() ? database.user : user) + "\n"
               "  connect_timeout_seconds: 2\n"
               "  changes_channel: tuilerie_changes\n"
               "tilesets:\n" +
                   flood_tileset("flood", source_dir / "styles" / "flood.xml", "") +
                   flood_tileset("flood_pg", directory_ / "flood-pg.xml", zones_table, pg_tileset_extra) +
                   "collections:\n"
                   "  flood_hazard:\n"
                   "    source: " + (source_dir / "data/flood/pprn-38DDT20130013-inondation-l93.gpkg").string() +
                   "\n    layer: zone_alea\n    queryables: [nivalea]\n    point_query: true\n"
                   "  flood_hazard_pg:\n"
                   "    source: \"PG:\"\n    layer: " + zones_table + "\n    queryables: [nivalea]\n"
                   "    point_query: true\n" + top_level_extra);
  }
  ~postgis_setup() {
    std::error_code ignored;
    fs::remove_all(directory_, ignored);
  }
  postgis_setup(const postgis_setup&) = delete;
  postgis_setup& operator=(const postgis_setup&) = delete;

  fs::path config() const { return directory_ / "config.yaml"; }
  fs::path directory() const { return directory_; }

 private:
  fs::path directory_;
};

// Installs sql/tuilerie-changes.sql. Tests run in parallel processes, and concurrent CREATE OR REPLACE
// FUNCTION statements fail, so an advisory lock makes them take turns.
void install_change_tracking(const test_database& database) {
  run_sql(database, "SELECT pg_advisory_lock(7261);\n" + read_file(source_dir / "sql" / "tuilerie-changes.sql") +
                        "\nSELECT pg_advisory_unlock(7261);");
}

// A copy of flood.zone_alea that one test may edit, watched by the change trigger, dropped at the end.
class edited_table {
 public:
  explicit edited_table(const test_database& database)
      : database_(database), name_("flood.zone_alea_edit_" + std::to_string(::getpid())) {
    install_change_tracking(database);
    run_sql(database, "DROP TABLE IF EXISTS " + name_ + ";\n"
                      "CREATE TABLE " + name_ + " AS SELECT * FROM flood.zone_alea;\n"
                      "ALTER TABLE " + name_ + " ADD PRIMARY KEY (fid);\n"
                      "CREATE INDEX ON " + name_ + " USING gist (geom);\n"
                      "CREATE TRIGGER tuilerie_changes AFTER INSERT OR UPDATE OR DELETE ON " + name_ +
                      " FOR EACH ROW EXECUTE FUNCTION tuilerie.record_change('geom');");
  }
  ~edited_table() {
    try {
      run_sql(database_, "DROP TABLE IF EXISTS " + name_ + ";");
    } catch (const std::exception&) {
      // The cluster is thrown away after the tests anyway.
    }
  }
  edited_table(const edited_table&) = delete;
  edited_table& operator=(const edited_table&) = delete;

  const std::string& name() const { return name_; }

 private:
  test_database database_;
  std::string name_;
};

// Tiles over the Isère flood plan, which flood.zone_alea covers (5.72-5.84 E, 45.05-45.09 N).
const std::vector<std::string> plan_tiles = {"10/528/368", "11/1056/736", "12/2113/1472", "13/4226/2944",
                                             "13/4227/2944", "14/8452/5888", "14/8454/5889"};

// Zone 543 ("F", fort) contains this tile's centre; the edits below change its level.
const std::string edited_tile = "14/8454/5889";
// More than the 128-pixel buffer west of zone 543: no edit of that zone may purge it.
const std::string far_tile = "14/8452/5888";
constexpr int edited_zone = 543;

// nginx from Debian's package as a caching reverse proxy in front of the given Tuilerie ports, the
// role a CDN plays in production. It honours the Cache-Control max-age and revalidates with ETags.
class nginx_proxy {
 public:
  nginx_proxy(const fs::path& directory, const std::vector<std::uint16_t>& upstream_ports) : directory_(directory) {
    fs::create_directories(directory_ / "logs");
    port_ = free_port();
    std::string upstreams;
    for (const auto port : upstream_ports) upstreams += "    server 127.0.0.1:" + std::to_string(port) + ";\n";
    const std::string path = directory_.string();
    write_file(directory_ / "nginx.conf",
               std::string(::geteuid() == 0 ? "user root;\n" : "") +
                   "worker_processes 1;\n"
                   "error_log " + path + "/logs/error.log warn;\n"
                   "pid " + path + "/nginx.pid;\n"
                   "events { worker_connections 64; }\n"
                   "http {\n"
                   "  access_log off;\n"
                   "  client_body_temp_path " + path + "/client_temp;\n"
                   "  proxy_temp_path " + path + "/proxy_temp;\n"
                   "  fastcgi_temp_path " + path + "/fastcgi_temp;\n"
                   "  uwsgi_temp_path " + path + "/uwsgi_temp;\n"
                   "  scgi_temp_path " + path + "/scgi_temp;\n"
                   "  proxy_cache_path " + path + "/cache levels=1:2 keys_zone=tiles:1m max_size=64m inactive=10m "
                   "use_temp_path=off;\n"
                   "  upstream tuilerie {\n" + upstreams + "    keepalive 4;\n  }\n"
                   "  server {\n"
                   "    listen 127.0.0.1:" + std::to_string(port_) + ";\n"
                   "    location / {\n"
                   "      proxy_pass http://tuilerie;\n"
                   "      proxy_http_version 1.1;\n"
                   "      proxy_set_header Connection \"\";\n"
                   "      proxy_set_header Host $host:$server_port;\n"
                   "      proxy_cache tiles;\n"
                   "      proxy_cache_revalidate on;\n"
                   "      proxy_cache_lock on;\n"
                   "      add_header X-Cache-Status $upstream_cache_status always;\n"
                   "    }\n"
                   "  }\n"
                   "}\n");
    start();
    for (int attempt = 0; attempt < 100; ++attempt) {
      if (answers()) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    stop();
    throw std::runtime_error("nginx did not answer on port " + std::to_string(port_) + "; see " + path +
                             "/logs/error.log: " + read_file(directory_ / "logs" / "error.log"));
  }
  ~nginx_proxy() { stop(); }
  nginx_proxy(const nginx_proxy&) = delete;
  nginx_proxy& operator=(const nginx_proxy&) = delete;

  // GET through the proxy on a new connection. Not raw_exchange: nginx drops a request whose client
  // half-closes the connection before the reply (499).
  http_reply get(const std::string& target) const {
    namespace beast = boost::beast;
    namespace net = boost::asio;
    net::io_context io;
    beast::tcp_stream stream(io);
    stream.expires_after(std::chrono::seconds(10));
    stream.connect(net::ip::tcp::endpoint(net::ip::make_address("127.0.0.1"), port_));
    beast::http::request<beast::http::empty_body> request{beast::http::verb::get, target, 11};
    request.set(beast::http::field::host, "127.0.0.1");
    beast::http::write(stream, request);
    beast::flat_buffer buffer;
    beast::http::response<beast::http::string_body> response;
    beast::http::read(stream, buffer, response);
    http_reply reply;
    reply.status = response.result_int();
    for (const auto& field : response) {
      std::string name(field.name_string());
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      reply.headers[name] = std::string(field.value());
    }
    reply.body = response.body();
    return reply;
  }

 private:
  static std::uint16_t free_port() {
    const int socket = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    ::bind(socket, reinterpret_cast<sockaddr*>(&address), sizeof(address));
    ::getsockname(socket, reinterpret_cast<sockaddr*>(&address), &length);
    ::close(socket);
    return ntohs(address.sin_port);
  }

  // Starts nginx in the foreground. Its output goes to /dev/null, so that it never keeps ctest's
  // output pipe open. It gets SIGTERM if the test process dies first.
  void start() {
    const std::string path = directory_.string();
    const std::string config = (directory_ / "nginx.conf").string();
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);
      const int null = ::open("/dev/null", O_RDWR);
      for (int descriptor = 0; descriptor <= 2; ++descriptor) ::dup2(null, descriptor);
      ::execl("/usr/sbin/nginx", "nginx", "-p", path.c_str(), "-c", config.c_str(), "-g", "daemon off;",
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
  }

  bool answers() const {
    try {
      return get("/health").status == 200;
    } catch (const std::exception&) {
      return false;  // not listening yet
    }
  }

  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);  // fast shutdown: the master stops its workers, then exits
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  fs::path directory_;
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
};

double renders_of(const server_process& server, const std::string& tileset) {
  return labelled_metric_value(server.get("/metrics").body, "tuilerie_render_seconds_count",
                               "tileset=\"" + tileset + "\"");
}

// Asks for the tile until its ETag differs from old_etag, for at most 10 s.
http_reply wait_for_new_etag(const server_process& server, const std::string& target, const std::string& old_etag) {
  http_reply reply;
  for (int attempt = 0; attempt < 100; ++attempt) {
    reply = server.get(target);
    if (reply.status == 200 && reply.header("etag") != old_etag) return reply;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return reply;
}

class PostgisServer : public ::testing::Test {
 protected:
  void SetUp() override { database_ = read_test_database(); }
  test_database database_;
};

TEST_F(PostgisServer, RasterTilesMatchTheGeoPackage) {
  postgis_setup setup(database_);
  server_process server(setup.config());
  for (const auto& tile : plan_tiles) {
    const auto from_file = server.get("/tiles/flood/" + tile + ".png");
    const auto from_database = server.get("/tiles/flood_pg/" + tile + ".png");
    ASSERT_EQ(from_file.status, 200u) << tile;
    ASSERT_EQ(from_database.status, 200u) << tile << ": " << from_database.body;
    const auto file_image = decode_image(from_file.body);
    const auto database_image = decode_image(from_database.body);
    EXPECT_LT(differing_pixel_share(file_image, database_image, 8), 0.001) << tile;
  }
}

// The features of a decoded layer without their ids, which differ by design: see the test below.
std::vector<nlohmann::json> features_without_ids(const decoded_layer& layer) {
  std::vector<nlohmann::json> features;
  for (const auto& feature : layer.features) {
    nlohmann::json parts = nlohmann::json::array();
    for (const auto& part : feature.parts) {
      nlohmann::json points = nlohmann::json::array();
      for (const auto& point : part) points.push_back(nlohmann::json::array({point.x, point.y}));
      parts.push_back(points);
    }
    features.push_back(nlohmann::json{{"type", feature.type}, {"properties", feature.properties}, {"parts", parts}});
  }
  return features;
}

TEST_F(PostgisServer, VectorTilesMatchTheGeoPackage) {
  if (const auto missing = node_decoder_missing()) GTEST_FAIL() << *missing;
  postgis_setup setup(database_);
  server_process server(setup.config());
  std::vector<fs::path> files;
  for (const auto& tile : plan_tiles) {
    for (const std::string tileset : {"flood", "flood_pg"}) {
      const auto reply = server.get("/tiles/" + tileset + "/" + tile + ".mvt", {{"Accept-Encoding", "identity"}});
      ASSERT_EQ(reply.status, 200u) << tileset << " " << tile << ": every tile of the plan has zones";
      files.push_back(setup.directory() / (tileset + "-" + std::to_string(files.size()) + ".mvt"));
      write_file(files.back(), reply.body);
    }
  }
  const auto decoded = decode_with_node(files);
  ASSERT_EQ(decoded.size(), files.size());
  for (std::size_t i = 0; i < plan_tiles.size(); ++i) {
    const auto& from_file = decoded[2 * i];
    const auto& from_database = decoded[2 * i + 1];
    ASSERT_EQ(from_file.layers.size(), from_database.layers.size()) << plan_tiles[i];
    for (const auto& layer : from_file.layers) {
      const decoded_layer* same = from_database.find(layer.name);
      ASSERT_NE(same, nullptr) << plan_tiles[i] << " " << layer.name;
      EXPECT_EQ(features_without_ids(layer), features_without_ids(*same)) << plan_tiles[i] << " " << layer.name;
    }
  }

  // From PostGIS, a vector feature's id is the row's key (key_field), so a client can fetch it from the
  // feature API. (Mapnik's ogr input numbers GeoPackage features from fid + 1 instead.)
  const decoded_layer* zones = decoded[1].find("flood_hazard");
  ASSERT_NE(zones, nullptr);
  ASSERT_GE(zones->features.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    const auto& feature = zones->features[i];
    ASSERT_TRUE(feature.id.has_value());
    const auto item = server.get("/ogc/collections/flood_hazard_pg/items/" + std::to_string(*feature.id));
    ASSERT_EQ(item.status, 200u) << *feature.id;
    EXPECT_EQ(nlohmann::json::parse(item.body)["properties"]["id_zone"], feature.properties["id_zone"]);
  }
}

TEST_F(PostgisServer, FeaturesMatchTheGeoPackage) {
  postgis_setup setup(database_);
  server_process server(setup.config());
  const std::string query = "/items?limit=20&nivalea=M&bbox=5.70,45.04,5.85,45.10";
  const auto from_file = server.get("/ogc/collections/flood_hazard" + query);
  const auto from_database = server.get("/ogc/collections/flood_hazard_pg" + query);
  ASSERT_EQ(from_file.status, 200u);
  ASSERT_EQ(from_database.status, 200u) << from_database.body;
  const auto file_json = nlohmann::json::parse(from_file.body);
  const auto database_json = nlohmann::json::parse(from_database.body);
  ASSERT_EQ(file_json["features"].size(), 20u);
  EXPECT_EQ(file_json["numberMatched"], database_json["numberMatched"]);
  EXPECT_EQ(file_json["features"], database_json["features"]);

  const auto point = nlohmann::json::parse(server.get("/query?lon=5.7655&lat=45.0588").body);
  nlohmann::json file_hits;
  nlohmann::json database_hits;
  for (const auto& feature : point["features"]) {
    const std::string collection = feature.value("collection", "");
    if (collection == "flood_hazard") file_hits.push_back(feature["id"]);
    if (collection == "flood_hazard_pg") database_hits.push_back(feature["id"]);
  }
  EXPECT_FALSE(file_hits.empty()) << point.dump().substr(0, 500);
  EXPECT_EQ(file_hits, database_hits);
}

TEST_F(PostgisServer, EditPurgesTheTilesItTouchesOnly) {
  edited_table table(database_);
  postgis_setup setup(database_, table.name());
  server_process server(setup.config());
  const std::string edited = "/tiles/flood_pg/" + edited_tile + ".png";
  const std::string far = "/tiles/flood_pg/" + far_tile + ".png";
  const auto before = server.get(edited);
  const auto far_before = server.get(far);
  ASSERT_EQ(before.status, 200u);
  ASSERT_EQ(far_before.status, 200u);
  const std::string vector_before = server.get("/tiles/flood_pg/" + edited_tile + ".mvt").header("etag");

  run_sql(database_, "UPDATE " + table.name() + " SET nivalea = 'Fai' WHERE fid = " + std::to_string(edited_zone));
  const auto after = wait_for_new_etag(server, edited, before.header("etag"));
  EXPECT_NE(after.header("etag"), before.header("etag")) << "the edited zone's tile was not purged in 10 s";
  EXPECT_GT(differing_pixel_share(decode_image(before.body), decode_image(after.body), 8), 0.01)
      << "the zone's colour changed from 'fort' to 'faible'";
  EXPECT_NE(server.get("/tiles/flood_pg/" + edited_tile + ".mvt").header("etag"), vector_before);

  const double renders = renders_of(server, "flood_pg");
  const auto far_after = server.get(far);
  EXPECT_EQ(far_after.header("etag"), far_before.header("etag"));
  EXPECT_EQ(renders_of(server, "flood_pg"), renders) << "the far tile was still cached";
}

TEST_F(PostgisServer, EditsReachServersAndRestarts) {
  edited_table table(database_);
  postgis_setup setup(database_, table.name());
  const fs::path shared_cache = setup.directory() / "cache";
  const std::string edited = "/tiles/flood_pg/" + edited_tile + ".png";
  std::string original_etag;
  {
    server_process first(setup.config(), shared_cache);
    server_process second(setup.config());  // its own cache, as on another host
    const auto first_before = first.get(edited);
    const auto second_before = second.get(edited);
    ASSERT_EQ(first_before.status, 200u);
    original_etag = first_before.header("etag");
    EXPECT_EQ(second_before.header("etag"), original_etag);
    run_sql(database_, "UPDATE " + table.name() + " SET nivalea = 'M' WHERE fid = " + std::to_string(edited_zone));
    EXPECT_NE(wait_for_new_etag(first, edited, original_etag).header("etag"), original_etag);
    EXPECT_NE(wait_for_new_etag(second, edited, original_etag).header("etag"), original_etag);
  }
  // Edited back while no server runs: the next start purges the tile from the change table.
  run_sql(database_, "UPDATE " + table.name() + " SET nivalea = 'F' WHERE fid = " + std::to_string(edited_zone));
  server_process restarted(setup.config(), shared_cache);
  EXPECT_EQ(wait_for_new_etag(restarted, edited, "").header("etag"), original_etag)
      << "the tile shows the zone as 'fort' again";
}

TEST_F(PostgisServer, OutageGives503ThenRecovers) {
  // A role of this test's own, so that locking it out leaves the tests running beside it alone.
  const std::string role = "tuilerie_outage_" + std::to_string(::getpid());
  run_sql(database_, "DROP ROLE IF EXISTS " + role + "; CREATE ROLE " + role + " LOGIN SUPERUSER;");
  postgis_setup setup(database_, "flood.zone_alea", role);
  server_process server(setup.config());
  const std::string cached = "/tiles/flood_pg/13/4227/2944.png";
  ASSERT_EQ(server.get(cached).status, 200u);
  ASSERT_EQ(server.get("/ogc/collections/flood_hazard_pg/items?limit=1").status, 200u);

  run_sql(database_, "ALTER ROLE " + role + " NOLOGIN; SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                     "WHERE usename = '" + role + "';");
  EXPECT_EQ(server.get(cached).status, 200u) << "cached tiles are still served";
  const auto cold = server.get("/tiles/flood_pg/11/1056/736.png");
  EXPECT_EQ(cold.status, 503u) << cold.body;
  EXPECT_FALSE(cold.header("retry-after").empty());
  EXPECT_EQ(server.get("/tiles/flood_pg/12/2113/1472.mvt").status, 503u);
  const auto items = server.get("/ogc/collections/flood_hazard_pg/items?limit=1");
  EXPECT_EQ(items.status, 503u);
  EXPECT_EQ(items.header("retry-after"), "5");
  EXPECT_EQ(server.get("/query?lon=5.7655&lat=45.0588").status, 503u)
      << "an empty answer would say the address is outside every flood zone";
  EXPECT_EQ(server.get("/tiles/flood/11/1056/736.png").status, 200u) << "file-backed tilesets keep working";

  run_sql(database_, "ALTER ROLE " + role + " LOGIN;");
  unsigned status = 0;
  for (int attempt = 0; attempt < 50 && status != 200; ++attempt) {
    status = server.get("/tiles/flood_pg/11/1056/736.png").status;
    if (status != 200) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_EQ(status, 200u);
  EXPECT_EQ(server.get("/ogc/collections/flood_hazard_pg/items?limit=1").status, 200u);
  EXPECT_EQ(server.get("/query?lon=5.7655&lat=45.0588").status, 200u);
  EXPECT_TRUE(server.alive());
  server.stop();
  run_sql(database_, "DROP ROLE IF EXISTS " + role + ";");
}

TEST_F(PostgisServer, ClosedConnectionsAreReopened) {
  // What a database restart does to the connections that an idle server keeps open.
  const std::string role = "tuilerie_reconnect_" + std::to_string(::getpid());
  run_sql(database_, "DROP ROLE IF EXISTS " + role + "; CREATE ROLE " + role + " LOGIN SUPERUSER;");
  postgis_setup setup(database_, "flood.zone_alea", role, "", "ogc:\n  threads: 1\n");
  server_process server(setup.config());
  const std::string items = "/ogc/collections/flood_hazard_pg/items?limit=1";
  const std::string query = "/query?lon=5.7655&lat=45.0588";
  ASSERT_EQ(server.get(items).status, 200u);
  ASSERT_EQ(server.get(query).status, 200u);
  ASSERT_EQ(server.get("/tiles/flood_pg/13/4227/2944.png").status, 200u);

  run_sql(database_, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '" + role + "';");
  EXPECT_EQ(server.get(items).status, 200u) << "the one worker's connection was closed by the database";
  EXPECT_EQ(server.get(query).status, 200u);
  EXPECT_EQ(server.get("/tiles/flood_pg/11/1056/736.png").status, 200u) << "a cold tile after the restart";
  EXPECT_EQ(server.get("/tiles/flood_pg/12/2113/1472.mvt").status, 200u);
  server.stop();
  run_sql(database_, "DROP ROLE IF EXISTS " + role + ";");
}

TEST_F(PostgisServer, NginxServesEditAfterMaxAge) {
  edited_table table(database_);
  constexpr int max_age_seconds = 3;
  postgis_setup setup(database_, table.name(), "",
                      "    cache_control:\n      - {minzoom: 0, maxzoom: 18, value: 'public, max-age=" +
                          std::to_string(max_age_seconds) + "'}\n");
  server_process first(setup.config());
  server_process second(setup.config());
  nginx_proxy proxy(setup.directory() / "nginx", {first.port(), second.port()});
  const std::string edited = "/tiles/flood_pg/" + edited_tile + ".png";

  const auto missed = proxy.get(edited);
  ASSERT_EQ(missed.status, 200u) << missed.body;
  EXPECT_EQ(missed.header("x-cache-status"), "MISS");
  const auto hit = proxy.get(edited);
  EXPECT_EQ(hit.header("x-cache-status"), "HIT");
  const std::string old_etag = hit.header("etag");
  EXPECT_EQ(first.get(edited).header("etag"), old_etag);
  EXPECT_EQ(second.get(edited).header("etag"), old_etag);

  run_sql(database_, "UPDATE " + table.name() + " SET nivalea = 'Fai' WHERE fid = " + std::to_string(edited_zone));
  const auto edited_at = std::chrono::steady_clock::now();
  http_reply through_proxy;
  // The proxy may serve its copy for max-age; beyond it plus the purge's second, it must not.
  const auto deadline = edited_at + std::chrono::seconds(max_age_seconds + 3);
  while (std::chrono::steady_clock::now() < deadline) {
    through_proxy = proxy.get(edited);
    if (through_proxy.status == 200 && through_proxy.header("etag") != old_etag) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_NE(through_proxy.header("etag"), old_etag) << "the proxy still served the old tile after max-age";
  EXPECT_EQ(first.get(edited).header("etag"), through_proxy.header("etag"));
  EXPECT_EQ(second.get(edited).header("etag"), through_proxy.header("etag"));
  EXPECT_EQ(proxy.get(edited).header("x-cache-status"), "HIT") << "the new tile is cached by the proxy";
}

}  // namespace
}  // namespace tuilerie::testing
