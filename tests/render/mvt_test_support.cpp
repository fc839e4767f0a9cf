// Vector tile test helpers: GDAL and @mapbox/vector-tile decoders, protoc output, fixture styles.
#include "mvt_test_support.hpp"

#include <gdal_priv.h>
#include <gtest/gtest.h>
#include <ogrsf_frmts.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <mutex>
#include <numbers>
#include <regex>
#include <sstream>
#include <stdexcept>

namespace tuilerie::mvt_test {

namespace {

// Half the side of the EPSG:3857 square, in metres (pi * 6378137).
constexpr double half_world = 20037508.342789244;

// Upper bound for one decoder or protoc run; a tile decodes in well under a second.
constexpr const char* command_timeout = "timeout 120 ";

// The standard output of a shell command; fails the test when the command exits with an error.
std::string run_command(const std::string& command) {
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  if (!pipe) {
    ADD_FAILURE() << "cannot run: " << command;
    return {};
  }
  std::string output;
  std::array<char, 65536> buffer;
  while (const std::size_t read = std::fread(buffer.data(), 1, buffer.size(), pipe.get())) {
    output.append(buffer.data(), read);
  }
  const int status = pclose(pipe.release());
  EXPECT_EQ(status, 0) << "command failed: " << command;
  return output;
}

std::string quoted(const std::filesystem::path& path) { return "'" + path.string() + "'"; }

decoded_part parse_node_part(const nlohmann::json& part) {
  decoded_part points;
  for (const auto& point : part)
    points.push_back({point.at(0).get<std::int64_t>(), point.at(1).get<std::int64_t>()});
  return points;
}

decoded_tile parse_node_tile(const nlohmann::json& tile) {
  decoded_tile decoded;
  for (const auto& layer : tile.at("layers")) {
    decoded_layer& out = decoded.layers.emplace_back();
    out.name = layer.at("name").get<std::string>();
    out.version = layer.at("version").get<int>();
    out.extent = layer.at("extent").get<std::uint32_t>();
    for (const auto& feature : layer.at("features")) {
      decoded_feature& decoded_feature = out.features.emplace_back();
      if (!feature.at("id").is_null()) decoded_feature.id = feature.at("id").get<std::uint64_t>();
      decoded_feature.type = feature.at("type").get<int>();
      decoded_feature.properties = feature.at("properties");
      for (const auto& part : feature.at("geometry")) decoded_feature.parts.push_back(parse_node_part(part));
    }
  }
  return decoded;
}

// Converts GDAL's EPSG:3857 coordinates back to tile units.
class tile_units {
 public:
  tile_units(const tile_id& tile, std::uint32_t extent)
      : span_(2 * half_world / std::pow(2.0, tile.z)),
        minx_(-half_world + tile.x * span_),
        maxy_(half_world - tile.y * span_),
        extent_(extent) {}

  decoded_point operator()(double x, double y) const {
    const double tile_x = (x - minx_) / span_ * extent_;
    const double tile_y = (maxy_ - y) / span_ * extent_;
    EXPECT_NEAR(tile_x, std::round(tile_x), 1e-3) << "GDAL returned an x off the tile grid";
    EXPECT_NEAR(tile_y, std::round(tile_y), 1e-3) << "GDAL returned a y off the tile grid";
    return {std::llround(tile_x), std::llround(tile_y)};
  }

 private:
  double span_;
  double minx_;
  double maxy_;
  double extent_;
};

decoded_part read_ring(const OGRSimpleCurve& curve, const tile_units& units) {
  decoded_part part;
  for (int i = 0; i < curve.getNumPoints(); ++i) part.push_back(units(curve.getX(i), curve.getY(i)));
  return part;
}

void read_polygon(const OGRPolygon& polygon, const tile_units& units, decoded_feature& feature) {
  feature.polygon_ring_counts.push_back(1 + static_cast<std::size_t>(polygon.getNumInteriorRings()));
  feature.parts.push_back(read_ring(*polygon.getExteriorRing(), units));
  for (int i = 0; i < polygon.getNumInteriorRings(); ++i) {
    feature.parts.push_back(read_ring(*polygon.getInteriorRing(i), units));
  }
}

void read_geometry(const OGRGeometry& geometry, const tile_units& units, decoded_feature& feature) {
  switch (wkbFlatten(geometry.getGeometryType())) {
    case wkbPoint: {
      const auto& point = *geometry.toPoint();
      feature.type = 1;
      feature.parts.push_back({units(point.getX(), point.getY())});
      break;
    }
    case wkbLineString:
      feature.type = 2;
      feature.parts.push_back(read_ring(*geometry.toLineString(), units));
      break;
    case wkbPolygon:
      feature.type = 3;
      read_polygon(*geometry.toPolygon(), units, feature);
      break;
    case wkbMultiPoint:
    case wkbMultiLineString:
    case wkbMultiPolygon:
      for (const OGRGeometry* member : *geometry.toGeometryCollection())
        read_geometry(*member, units, feature);
      break;
    default: ADD_FAILURE() << "GDAL returned an unexpected geometry type " << geometry.getGeometryName();
  }
}

nlohmann::json read_field(const OGRFeature& feature, int index) {
  const OGRFieldDefn& field = *feature.GetFieldDefnRef(index);
  switch (field.GetType()) {
    case OFTInteger:
      if (field.GetSubType() == OFSTBoolean) return feature.GetFieldAsInteger(index) != 0;
      return feature.GetFieldAsInteger(index);
    case OFTInteger64: return feature.GetFieldAsInteger64(index);
    case OFTReal: return feature.GetFieldAsDouble(index);
    default: return feature.GetFieldAsString(index);
  }
}

decoded_feature read_feature(const OGRFeature& feature, const tile_units& units) {
  decoded_feature decoded;
  for (int i = 0; i < feature.GetFieldCount(); ++i) {
    if (!feature.IsFieldSetAndNotNull(i)) continue;
    const std::string name = feature.GetFieldDefnRef(i)->GetNameRef();
    // GDAL's MVT driver reports the feature id as the mvt_id field.
    if (name == "mvt_id") {
      decoded.id = static_cast<std::uint64_t>(feature.GetFieldAsInteger64(i));
    } else {
      decoded.properties[name] = read_field(feature, i);
    }
  }
  if (const OGRGeometry* geometry = feature.GetGeometryRef()) read_geometry(*geometry, units, decoded);
  return decoded;
}

bool same_value(const nlohmann::json& gdal, const nlohmann::json& node) {
  if (gdal.is_number() && node.is_number()) return gdal.get<double>() == node.get<double>();
  return gdal == node;
}

raw_field parse_raw_message(std::istringstream& lines, const std::string& number) {
  static const std::regex scalar(R"(^\s*(\d+): (.*)$)");
  static const std::regex message(R"(^\s*(\d+) \{$)");
  static const std::regex end(R"(^\s*\}$)");
  raw_field field{number, "", true, {}};
  std::string line;
  std::smatch match;
  while (std::getline(lines, line)) {
    if (std::regex_match(line, match, end)) return field;
    if (std::regex_match(line, match, message)) {
      field.fields.push_back(parse_raw_message(lines, match[1]));
    } else if (std::regex_match(line, match, scalar)) {
      field.fields.push_back({match[1], match[2], false, {}});
    } else {
      ADD_FAILURE() << "unexpected protoc --decode_raw line: " << line;
    }
  }
  return field;
}

std::string xml_escaped(const std::string& text) {
  std::string escaped;
  for (const char c : text) {
    switch (c) {
      case '&': escaped += "&amp;"; break;
      case '<': escaped += "&lt;"; break;
      case '>': escaped += "&gt;"; break;
      case '"': escaped += "&quot;"; break;
      default: escaped += c;
    }
  }
  return escaped;
}

}  // namespace

temporary_directory::temporary_directory() {
  std::string pattern = (std::filesystem::temp_directory_path() / "tuilerie-mvt-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr)
    throw std::runtime_error("cannot create a directory like " + pattern);
  path_ = pattern;
}

temporary_directory::~temporary_directory() {
  std::error_code error;
  std::filesystem::remove_all(path_, error);
}

void write_file(const std::filesystem::path& file, std::string_view content) {
  std::ofstream stream(file, std::ios::binary);
  stream.write(content.data(), static_cast<std::streamsize>(content.size()));
  if (!stream) throw std::runtime_error("cannot write " + file.string());
}

std::filesystem::path source_path(const std::filesystem::path& relative) {
  return std::filesystem::path(TUILERIE_SOURCE_DIR) / relative;
}

tile_position lonlat_to_tile(double lon, double lat, const tile_id& tile, double extent) {
  const double tiles = std::pow(2.0, tile.z);
  const double fx = (lon + 180) / 360 * tiles;
  const double latitude = lat * std::numbers::pi / 180;
  const double fy = (1 - std::asinh(std::tan(latitude)) / std::numbers::pi) / 2 * tiles;
  return {(fx - tile.x) * extent, (fy - tile.y) * extent};
}

void tile_to_lonlat(const tile_position& position, const tile_id& tile, double extent, double& lon,
                    double& lat) {
  const double tiles = std::pow(2.0, tile.z);
  const double fx = tile.x + position.x / extent;
  const double fy = tile.y + position.y / extent;
  lon = fx / tiles * 360 - 180;
  lat = std::atan(std::sinh(std::numbers::pi * (1 - 2 * fy / tiles))) * 180 / std::numbers::pi;
}

void PrintTo(const decoded_point& point, std::ostream* stream) {
  *stream << "(" << point.x << "," << point.y << ")";
}

const decoded_layer* decoded_tile::find(std::string_view name) const {
  for (const decoded_layer& layer : layers) {
    if (layer.name == name) return &layer;
  }
  return nullptr;
}

std::optional<std::string> node_decoder_missing() {
  if (std::system("node --version > /dev/null 2>&1") != 0)
    return "node is not installed (scripts/install-deps.sh)";
  for (const char* package : {"tests/js/node_modules/@mapbox/vector-tile", "tests/js/node_modules/pbf"}) {
    if (!std::filesystem::is_directory(source_path(package))) {
      return std::string(package) + " is missing; run npm ci in tests/js (scripts/install-deps.sh)";
    }
  }
  return std::nullopt;
}

std::vector<decoded_tile> decode_with_node(const std::vector<std::filesystem::path>& files) {
  std::string command =
      command_timeout + std::string("node ") + quoted(source_path("tests/js/decode-mvt.mjs"));
  for (const auto& file : files) command += " " + quoted(file);
  const std::string output = run_command(command);
  std::vector<decoded_tile> tiles;
  if (output.empty()) return tiles;
  for (const auto& tile : nlohmann::json::parse(output)) tiles.push_back(parse_node_tile(tile));
  EXPECT_EQ(tiles.size(), files.size());
  return tiles;
}

decoded_tile decode_with_gdal(const std::filesystem::path& file, const tile_id& tile, std::uint32_t extent) {
  static std::once_flag registered;
  std::call_once(registered, [] { GDALAllRegister(); });
  const std::string z = "Z=" + std::to_string(tile.z);
  const std::string x = "X=" + std::to_string(tile.x);
  const std::string y = "Y=" + std::to_string(tile.y);
  const char* const drivers[] = {"MVT", nullptr};
  const char* const options[] = {z.c_str(), x.c_str(), y.c_str(), "CLIP=NO", nullptr};
  const GDALDatasetUniquePtr dataset(
      GDALDataset::Open(file.c_str(), GDAL_OF_VECTOR | GDAL_OF_READONLY, drivers, options, nullptr));
  decoded_tile decoded;
  if (!dataset) {
    ADD_FAILURE() << "GDAL cannot open " << file << ": " << CPLGetLastErrorMsg();
    return decoded;
  }
  const tile_units units(tile, extent);
  for (OGRLayer* layer : dataset->GetLayers()) {
    decoded_layer& out = decoded.layers.emplace_back();
    out.name = layer->GetName();
    for (const auto& feature : *layer) out.features.push_back(read_feature(*feature, units));
  }
  return decoded;
}

void expect_same_content(const decoded_tile& gdal, const decoded_tile& node) {
  ASSERT_EQ(gdal.layers.size(), node.layers.size()) << "the decoders see different numbers of layers";
  for (std::size_t l = 0; l < gdal.layers.size(); ++l) {
    const decoded_layer& gdal_layer = gdal.layers[l];
    const decoded_layer& node_layer = node.layers[l];
    ASSERT_EQ(gdal_layer.name, node_layer.name);
    ASSERT_EQ(gdal_layer.features.size(), node_layer.features.size()) << "layer " << gdal_layer.name;
    for (std::size_t f = 0; f < gdal_layer.features.size(); ++f) {
      const decoded_feature& a = gdal_layer.features[f];
      const decoded_feature& b = node_layer.features[f];
      SCOPED_TRACE("layer " + gdal_layer.name + ", feature " + std::to_string(f));
      EXPECT_EQ(a.id, b.id);
      EXPECT_EQ(a.type, b.type);
      EXPECT_EQ(a.parts, b.parts);
      EXPECT_EQ(a.properties.size(), b.properties.size()) << a.properties << " vs " << b.properties;
      for (const auto& [key, value] : a.properties.items()) {
        ASSERT_TRUE(b.properties.contains(key)) << "only GDAL sees " << key;
        EXPECT_TRUE(same_value(value, b.properties.at(key)))
            << key << ": " << value << " vs " << b.properties.at(key);
      }
    }
  }
}

double surveyor_area(const decoded_part& ring) {
  double twice_area = 0;
  for (std::size_t i = 0; i + 1 < ring.size(); ++i) {
    twice_area += static_cast<double>(ring[i].x * ring[i + 1].y - ring[i + 1].x * ring[i].y);
  }
  // Closes the ring when the decoder did not repeat the first point.
  if (!ring.empty() && !(ring.front() == ring.back())) {
    twice_area += static_cast<double>(ring.back().x * ring.front().y - ring.front().x * ring.back().y);
  }
  return twice_area / 2;
}

std::unique_ptr<OGRMultiPolygon> to_multipolygon(const decoded_feature& feature,
                                                 const position_mapping& mapping) {
  auto multipolygon = std::make_unique<OGRMultiPolygon>();
  std::unique_ptr<OGRPolygon> current;
  for (const decoded_part& part : feature.parts) {
    auto ring = std::make_unique<OGRLinearRing>();
    for (const decoded_point& point : part) {
      const OGRRawPoint mapped = mapping ? mapping(point) : OGRRawPoint(double(point.x), double(point.y));
      ring->addPoint(mapped.x, mapped.y);
    }
    if (surveyor_area(part) > 0) {
      if (current) multipolygon->addGeometryDirectly(current.release());
      current = std::make_unique<OGRPolygon>();
    } else if (!current) {
      return nullptr;
    }
    current->addRingDirectly(ring.release());
  }
  if (current) multipolygon->addGeometryDirectly(current.release());
  return multipolygon;
}

bool is_valid_multipolygon(const decoded_feature& feature) {
  const std::unique_ptr<OGRMultiPolygon> multipolygon = to_multipolygon(feature);
  return multipolygon && multipolygon->IsValid();
}

std::vector<raw_field> decode_raw(const std::filesystem::path& file) {
  std::istringstream lines(
      run_command(command_timeout + std::string("protoc --decode_raw < ") + quoted(file)));
  return parse_raw_message(lines, "").fields;
}

std::filesystem::path write_style(const std::filesystem::path& directory,
                                  const std::vector<style_layer>& layers) {
  std::ostringstream xml;
  xml << "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Map srs=\"epsg:3857\">\n"
      << "  <Style name=\"draw\"><Rule><PolygonSymbolizer fill=\"#88aadd\"/>"
      << "<LineSymbolizer stroke=\"#335577\"/></Rule></Style>\n";
  for (const style_layer& layer : layers) {
    xml << "  <Layer name=\"" << xml_escaped(layer.name) << "\" srs=\"" << xml_escaped(layer.srs) << "\">\n"
        << "    <StyleName>draw</StyleName>\n    <Datasource>\n";
    for (const auto& [name, value] : layer.parameters) {
      xml << "      <Parameter name=\"" << xml_escaped(name) << "\">" << xml_escaped(value)
          << "</Parameter>\n";
    }
    xml << "    </Datasource>\n  </Layer>\n";
  }
  xml << "</Map>\n";
  const std::filesystem::path style = directory / "style.xml";
  write_file(style, xml.str());
  return style;
}

std::string feature_collection(const std::vector<nlohmann::json>& features) {
  nlohmann::json collection = {{"type", "FeatureCollection"}, {"features", nlohmann::json::array()}};
  for (const nlohmann::json& feature : features) {
    nlohmann::json complete = feature;
    complete["type"] = "Feature";
    if (!complete.contains("properties")) complete["properties"] = nlohmann::json::object();
    collection["features"].push_back(complete);
  }
  return collection.dump();
}

}  // namespace tuilerie::mvt_test
