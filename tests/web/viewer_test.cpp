// The map viewer in headless Chromium against a real server: flood hazard colours on screen in raster
// and vector rendering, and the interface language that follows the browser's. A click on the map
// opens a popup, which the viewer fills from the server's point query.
#include "images.hpp"
#include "node_command.hpp"
#include "server_process.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <numbers>
#include <sstream>
#include <string>
#include <vector>

namespace tuilerie::testing {
namespace {

const std::filesystem::path source_dir = TUILERIE_SOURCE_DIR;
const std::filesystem::path test_config = source_dir / "config" / "test.yaml";
const std::filesystem::path check_script = source_dir / "tests" / "js" / "viewer-check.mjs";
const std::filesystem::path chromium = "/usr/bin/chromium";  // the path viewer-check.mjs launches
const std::filesystem::path output_dir = std::filesystem::path(TUILERIE_BINARY_DIR) / "tests" / "web";

// The view of the screenshots: the hazard zones of the Romanche PPRN (zone_alea spans 5.717-5.839 E,
// 45.048-45.090 N, by gdaltransform of its Lambert-93 extent). The centre lies west of the zones'
// centre (5.778 E) so that the zones stay right of the 342-pixel-wide panel in a 1280 x 800 window.
// At the whole zoom 12, raster tiles of zoom 13 are drawn pixel for pixel, without resampling.
constexpr double view_zoom = 12;
constexpr double view_lat = 45.069;
constexpr double view_lon = 5.754;
constexpr int window_width = 1280;
constexpr int window_height = 800;

// Ground metres per CSS pixel at the view: MapLibre's zoom 0 draws the equator's 40,075,016.686 m
// over 512 pixels.
double metres_per_pixel() {
  return 40075016.686 * std::cos(view_lat * std::numbers::pi / 180) / (512 * std::exp2(view_zoom));
}

struct hazard_level {
  const char* name;
  std::uint32_t rgb;  // fill colour of styles/flood.xml and the PPRI blue ramp
  double area_m2;     // total area of the level's zones
};

// Areas from: ogrinfo -dialect sqlite -sql "SELECT nivalea, SUM(ST_Area(geom)) FROM zone_alea
// GROUP BY nivalea" data/flood/pprn-38DDT20130013-inondation-l93.gpkg, in Lambert-93 square metres.
// The projection's scale error, a few metres per kilometre, is negligible beside the test's bounds.
constexpr std::array<hazard_level, 3> hazard_levels{{
    {"faible (Fai)", 0xbdd7ee, 452197},
    {"moyen (M)", 0x6baed6, 805805},
    {"fort (F)", 0x08519c, 2782115},
}};

// Counts the pixels whose red, green and blue each lie within tolerance of the colour's.
long count_pixels_near(const rgba_image& image, std::uint32_t rgb, int tolerance) {
  const int red = static_cast<int>(rgb >> 16 & 0xff);
  const int green = static_cast<int>(rgb >> 8 & 0xff);
  const int blue = static_cast<int>(rgb & 0xff);
  long count = 0;
  for (int y = 0; y < image.height; ++y) {
    for (int x = 0; x < image.width; ++x) {
      const std::uint8_t* pixel = image.at(x, y);
      if (std::abs(pixel[0] - red) <= tolerance && std::abs(pixel[1] - green) <= tolerance &&
          std::abs(pixel[2] - blue) <= tolerance) {
        ++count;
      }
    }
  }
  return count;
}

std::string read_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

struct viewer_check {
  int exit_code = -1;
  nlohmann::json report;  // the script's JSON output
  rgba_image screenshot;
};

class Viewer : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    node_ = find_in_path("node");
    if (node_.empty() || !std::filesystem::exists(chromium)) return;
    server_ = new server_process(test_config);
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  void SetUp() override {
    if (node_.empty()) GTEST_FAIL() << "node is not installed (Debian package nodejs; scripts/install-deps.sh)";
    if (!std::filesystem::exists(chromium)) {
      GTEST_FAIL() << chromium << " is missing (Debian package chromium; scripts/install-deps.sh)";
    }
  }

  // Runs viewer-check.mjs with the arguments after the URL and screenshot path, and reads its
  // report and screenshot. The screenshot goes to output_dir/viewer-{name}.png.
  static viewer_check run_viewer_check(const std::string& name, const std::string& arguments) {
    std::filesystem::create_directories(output_dir);
    const auto screenshot = output_dir / ("viewer-" + name + ".png");
    std::filesystem::remove(screenshot);
    const std::string command = quoted(node_) + " " + quoted(check_script) +
                                " http://127.0.0.1:" + std::to_string(server_->port()) + "/ " +
                                quoted(screenshot) + " " + arguments;
    const command_result result = run_command(command, 300);
    viewer_check check;
    check.exit_code = result.exit_code;
    check.report = nlohmann::json::parse(result.output, nullptr, false);
    if (std::filesystem::exists(screenshot)) check.screenshot = decode_image(read_file(screenshot));
    return check;
  }

  // Runs viewer-check.mjs on the flood tileset at the test view.
  static viewer_check run_check(const std::string& name, const std::string& locale, bool vector) {
    char view[64];
    std::snprintf(view, sizeof view, "%.2f/%.4f/%.4f", view_zoom, view_lat, view_lon);
    return run_viewer_check(name, "--locale " + locale + " --layers flood --view " + view + " --size " +
                                      std::to_string(window_width) + "x" + std::to_string(window_height) +
                                      (vector ? " --vector" : ""));
  }

  // Centres the map on the point at zoom 14 with the tileset shown, clicks there and returns the
  // report, whose popup_text is the popup's text once the point query has filled it. At the centre
  // the point lies clear of the panel, and the popup fits above or below it.
  static viewer_check run_click(const std::string& name, const std::string& locale,
                                const std::string& tileset, double lon, double lat, int width = window_width,
                                int height = window_height) {
    char point[128];
    std::snprintf(point, sizeof point, "--view 14/%.7f/%.7f --click %.7f,%.7f", lat, lon, lon, lat);
    return run_viewer_check("click-" + name, "--locale " + locale + " --layers " + tileset + " " + point +
                                                 " --size " + std::to_string(width) + "x" +
                                                 std::to_string(height));
  }

  // Checks that the page loaded without errors and that the click filled the popup.
  static void expect_clean_click(const viewer_check& check) {
    ASSERT_TRUE(check.report.is_object()) << "viewer-check.mjs printed no JSON";
    EXPECT_EQ(check.exit_code, 0) << check.report.dump(2);
    EXPECT_TRUE(check.report["ready"].get<bool>()) << check.report["ready_error"];
    EXPECT_EQ(check.report["console_errors"].size(), 0u) << check.report["console_errors"].dump(2);
    EXPECT_EQ(check.report["failed_requests"].size(), 0u) << check.report["failed_requests"].dump(2);
    ASSERT_TRUE(check.report.contains("popup_text"))
        << check.report.value("popup_error", "no popup_error either");
  }

  // Whether the popup's text contains the text, case included. innerText applies the CSS capitals
  // of the section headings, so checks read the lines under them.
  static bool popup_contains(const viewer_check& check, const std::string& text) {
    return check.report.value("popup_text", "").find(text) != std::string::npos;
  }

  // Checks that each hazard level shows in its colour over an area in line with its zones' area, and
  // that larger areas give more pixels. The bounds are a fifth and 1.2 times that area. The lower one
  // is low because regulatory outlines and the anti-aliased edges of the many small zones cover the
  // rest: 26 to 58 % of the area showed in the colour when this test was written.
  static void expect_hazard_colours(const viewer_check& check) {
    ASSERT_EQ(check.screenshot.width, window_width);
    const double pixel_area = metres_per_pixel() * metres_per_pixel();
    std::vector<long> found;
    for (const auto& level : hazard_levels) {
      const double expected = level.area_m2 / pixel_area;
      found.push_back(count_pixels_near(check.screenshot, level.rgb, 10));
      EXPECT_GE(found.back(), 0.2 * expected) << "hazard level " << level.name << ": expected about " << expected;
      EXPECT_LE(found.back(), 1.2 * expected) << "hazard level " << level.name << ": expected about " << expected;
    }
    EXPECT_LT(found[0], found[1]) << "faible should cover fewer pixels than moyen";
    EXPECT_LT(found[1], found[2]) << "moyen should cover fewer pixels than fort";
  }

  static bool panel_contains(const viewer_check& check, const std::string& text) {
    std::string panel = check.report.value("panel_text", "");
    std::string needle = text;
    // The headings are upper case through CSS, which innerText applies; compare ASCII letters
    // without case (the texts checked have no accented capitals).
    for (auto* value : {&panel, &needle}) {
      for (char& c : *value) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return panel.find(needle) != std::string::npos;
  }

  static std::filesystem::path node_;
  static server_process* server_;
};

std::filesystem::path Viewer::node_;
server_process* Viewer::server_ = nullptr;

TEST_F(Viewer, RasterInEnglishShowsFloodHazard) {
  const auto check = run_check("raster-en", "en-US", false);
  ASSERT_TRUE(check.report.is_object()) << "viewer-check.mjs printed no JSON";
  EXPECT_EQ(check.exit_code, 0) << check.report.dump(2);
  EXPECT_TRUE(check.report["ready"].get<bool>()) << check.report["ready_error"];
  EXPECT_EQ(check.report["console_errors"].size(), 0u) << check.report["console_errors"].dump(2);
  EXPECT_EQ(check.report["failed_requests"].size(), 0u) << check.report["failed_requests"].dump(2);
  EXPECT_EQ(check.report["language"], "en");
  EXPECT_TRUE(panel_contains(check, "Base map")) << check.report["panel_text"];
  EXPECT_TRUE(panel_contains(check, "Opacity")) << check.report["panel_text"];
  EXPECT_FALSE(panel_contains(check, "Fond de carte")) << check.report["panel_text"];

  const auto layers = check.report["map_layers"];
  EXPECT_NE(std::find(layers.begin(), layers.end(), "flood/raster:raster"), layers.end()) << layers.dump();
  expect_hazard_colours(check);
}

TEST_F(Viewer, VectorInFrenchShowsFloodHazard) {
  const auto check = run_check("vector-fr", "fr-FR", true);
  ASSERT_TRUE(check.report.is_object()) << "viewer-check.mjs printed no JSON";
  EXPECT_EQ(check.exit_code, 0) << check.report.dump(2);
  EXPECT_TRUE(check.report["ready"].get<bool>()) << check.report["ready_error"];
  EXPECT_EQ(check.report["console_errors"].size(), 0u) << check.report["console_errors"].dump(2);
  EXPECT_EQ(check.report["failed_requests"].size(), 0u) << check.report["failed_requests"].dump(2);
  EXPECT_EQ(check.report["language"], "fr");
  EXPECT_TRUE(panel_contains(check, "Fond de carte")) << check.report["panel_text"];
  EXPECT_TRUE(panel_contains(check, "Couches")) << check.report["panel_text"];
  EXPECT_TRUE(panel_contains(check, "Opacité")) << check.report["panel_text"];
  EXPECT_FALSE(panel_contains(check, "Base map")) << check.report["panel_text"];

  // The hazard zones come from vector tiles drawn by MapLibre, not from images.
  const auto layers = check.report["map_layers"];
  EXPECT_NE(std::find(layers.begin(), layers.end(), "flood/hazard:fill"), layers.end()) << layers.dump();
  EXPECT_EQ(std::find(layers.begin(), layers.end(), "flood/raster:raster"), layers.end()) << layers.dump();
  expect_hazard_colours(check);
}

// Points with known contents, from data/README.md ("Where the data lie") unless stated otherwise.
// lon 6.057624, lat 45.025220: inside a flood zone of level fort (nivalea F, coderisque 1130000) of
// the Le Bourg-d'Oisans plan.
constexpr double fort_zone_lon = 6.057624;
constexpr double fort_zone_lat = 45.025220;
// lon 5.724701, lat 45.085205: inside a fort zone of PPRN 38DDT20130013 and its red zone RCn.
constexpr double red_zone_lon = 5.724701;
constexpr double red_zone_lat = 45.085205;
// The Gambetta station: NO2 mean 13.09 µg/m³ (13.1 as stored) and max 46.1 µg/m³ by awk on the
// hourly CSV; it measures neither ozone nor PM2.5 (docs/api.md).
constexpr double gambetta_lon = 1.901139;
constexpr double gambetta_lat = 47.907074;
// Receivers 0 and 3 of data/noise/noisemodelling-receivers-laeq-l93.geojson, 2 m apart, both with
// laeq 57.35 dB(A): class 55 to 60. Receiver 0 is at lon 1.3741583, lat 48.0284795 (ogr2ogr to
// EPSG:4326); the next receivers lie 67 m away.
constexpr double receiver_lon = 1.3741583;
constexpr double receiver_lat = 48.0284795;
// West of the Loiret's western edge (1.51 E, the communes' extent) and far from every other
// collection.
constexpr double nowhere_lon = 1.5;
constexpr double nowhere_lat = 47.5;

TEST_F(Viewer, ClickInFortZoneInFrench) {
  const auto check = run_click("fort-fr", "fr-FR", "flood", fort_zone_lon, fort_zone_lat);
  expect_clean_click(check);
  EXPECT_TRUE(popup_contains(check, "Aléa fort")) << check.report["popup_text"];
  EXPECT_FALSE(popup_contains(check, "très fort")) << check.report["popup_text"];
  EXPECT_TRUE(popup_contains(check, "crue torrentielle ou à montée rapide")) << check.report["popup_text"];
  EXPECT_FALSE(popup_contains(check, "Aucune zone inondable")) << check.report["popup_text"];
  // The zone lies in the Isère, far from any noise map or air-quality station.
  EXPECT_TRUE(popup_contains(check, "Pas de données à cet endroit sur le bruit et la qualité de l’air."))
      << check.report["popup_text"];
}

TEST_F(Viewer, ClickInFortZoneInEnglish) {
  const auto check = run_click("fort-en", "en-US", "flood", fort_zone_lon, fort_zone_lat);
  expect_clean_click(check);
  EXPECT_TRUE(popup_contains(check, "High hazard")) << check.report["popup_text"];
  EXPECT_FALSE(popup_contains(check, "Very high hazard")) << check.report["popup_text"];
  EXPECT_TRUE(popup_contains(check, "torrential or fast-rising river flood")) << check.report["popup_text"];
  EXPECT_FALSE(popup_contains(check, "Aléa")) << check.report["popup_text"];
}

TEST_F(Viewer, ClickInRedZoneShowsRegulation) {
  const auto check = run_click("red-zone-en", "en-US", "flood", red_zone_lon, red_zone_lat);
  expect_clean_click(check);
  EXPECT_TRUE(popup_contains(check, "High hazard")) << check.report["popup_text"];
  EXPECT_TRUE(popup_contains(check, "Red zone")) << check.report["popup_text"];
  EXPECT_TRUE(popup_contains(check, "Regulatory zone RCn: interdiction")) << check.report["popup_text"];
}

TEST_F(Viewer, ClickOnGambettaInEnglish) {
  const auto check = run_click("gambetta-en", "en-US", "air", gambetta_lon, gambetta_lat);
  expect_clean_click(check);
  EXPECT_TRUE(popup_contains(check, "Nearest station: Gambetta (urban, traffic)"))
      << check.report["popup_text"];
  // innerText separates table cells with tabs: the pollutant, its mean, then its hourly maximum.
  EXPECT_TRUE(popup_contains(check, "Nitrogen dioxide NO₂\t13.1\t46.1")) << check.report["popup_text"];
  EXPECT_TRUE(popup_contains(check, "Ozone O₃\tnot measured")) << check.report["popup_text"];
  EXPECT_TRUE(popup_contains(check, "Fine particles PM2.5\tnot measured")) << check.report["popup_text"];
  // The station lies in the commune of Orléans, whose name heads the popup.
  EXPECT_TRUE(popup_contains(check, "Orléans\n")) << check.report["popup_text"];
}

TEST_F(Viewer, ClickOnGambettaInFrench) {
  const auto check = run_click("gambetta-fr", "fr-FR", "air", gambetta_lon, gambetta_lat);
  expect_clean_click(check);
  EXPECT_TRUE(popup_contains(check, "Station la plus proche : Gambetta (urbaine, trafic)"))
      << check.report["popup_text"];
  EXPECT_TRUE(popup_contains(check, "Dioxyde d’azote NO₂\t13,1\t46,1")) << check.report["popup_text"];
  EXPECT_TRUE(popup_contains(check, "Ozone O₃\tnon mesuré")) << check.report["popup_text"];
}

TEST_F(Viewer, ClickOnNoiseReceiver) {
  const auto check = run_click("noise-fr", "fr-FR", "noise", receiver_lon, receiver_lat);
  expect_clean_click(check);
  EXPECT_TRUE(popup_contains(check, "55 à 60\u00a0dB(A)")) << check.report["popup_text"];
  EXPECT_TRUE(popup_contains(check, "57,4\u00a0dB(A) (LAeq)")) << check.report["popup_text"];
  EXPECT_TRUE(popup_contains(check, "à moins de 10\u00a0m")) << check.report["popup_text"];
}

TEST_F(Viewer, ClickOutsideEveryLayer) {
  const auto check = run_click("nowhere-fr", "fr-FR", "communes", nowhere_lon, nowhere_lat);
  expect_clean_click(check);
  EXPECT_TRUE(popup_contains(check, "Rien de connu à cet endroit")) << check.report["popup_text"];
  EXPECT_FALSE(popup_contains(check, "Aléa")) << check.report["popup_text"];
  EXPECT_FALSE(popup_contains(check, "Tous les attributs")) << check.report["popup_text"];
}

// Narrow screens fold the panel over the top of the map, where the popup of a click at the centre
// opens. The viewer pans the map so that the popup shows below the panel.
TEST_F(Viewer, ClickOnNarrowScreenClearsPanel) {
  constexpr int narrow_width = 390;
  constexpr int narrow_height = 760;
  const auto check =
      run_click("narrow-fr", "fr-FR", "flood", red_zone_lon, red_zone_lat, narrow_width, narrow_height);
  expect_clean_click(check);
  EXPECT_TRUE(popup_contains(check, "Zone rouge")) << check.report["popup_text"];
  ASSERT_TRUE(check.report.contains("popup_box")) << check.report.dump(2);
  const auto& popup = check.report["popup_box"];
  const auto& panel = check.report["panel_box"];
  EXPECT_GE(popup["top"].get<double>(), panel["bottom"].get<double>()) << check.report.dump(2);
  EXPECT_LE(popup["bottom"].get<double>(), narrow_height) << check.report.dump(2);
}

}  // namespace
}  // namespace tuilerie::testing
