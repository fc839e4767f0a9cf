// Queries a Mapnik map's vector layers for one tile and encodes their features as MVT 2.1.
#include "render/vector_tile_renderer.hpp"

#include "render/mvt_geometry.hpp"
#include "render/mvt_writer.hpp"

#include <mapnik/attribute_descriptor.hpp>
#include <mapnik/box2d.hpp>
#include <mapnik/datasource.hpp>
#include <mapnik/feature.hpp>
#include <mapnik/feature_layer_desc.hpp>
#include <mapnik/featureset.hpp>
#include <mapnik/geometry.hpp>
#include <mapnik/layer.hpp>
#include <mapnik/map.hpp>
#include <mapnik/proj_transform.hpp>
#include <mapnik/projection.hpp>
#include <mapnik/query.hpp>
#include <mapnik/scale_denominator.hpp>
#include <mapnik/util/variant.hpp>
#include <mapnik/value.hpp>
#include <spdlog/spdlog.h>
#include <unicode/unistr.h>
#include <unicode/ustring.h>

#include <atomic>
#include <bit>
#include <cmath>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace tuilerie {

namespace {

// Points per edge when a query box is reprojected: the edges of a Mercator tile are curves in
// Lambert-93 or UTM, and 16 points per edge follow them closely enough for a bounding box.
constexpr std::size_t envelope_points = 16;

// Tile size in pixels that Mapnik's scale denominator assumes, passed to datasources that use it.
constexpr double tile_pixels = 256;

// Counts a recurring problem and returns whether to log this occurrence: the 1st, 2nd, 4th, 8th...
// and so on, so that a problem in every tile does not flood the log.
bool should_log(std::atomic<std::uint64_t>& counter) {
  return std::has_single_bit(counter.fetch_add(1, std::memory_order_relaxed) + 1);
}

std::atomic<std::uint64_t> invalid_utf8_count{0};
std::atomic<std::uint64_t> unprojectable_feature_count{0};
std::atomic<std::uint64_t> dropped_polygon_count{0};

std::string tile_name(const tile_id& tile) {
  return std::to_string(tile.z) + "/" + std::to_string(tile.x) + "/" + std::to_string(tile.y);
}

bool is_vector_layer(const mapnik::layer& layer) {
  return layer.datasource() && layer.datasource()->type() == mapnik::datasource::Vector;
}

struct selected_layer {
  const mapnik::layer* layer;
  vector_layer_settings settings;
};

std::string layer_names(const mapnik::Map& map) {
  std::string names;
  for (const mapnik::layer& layer : map.layers()) names += (names.empty() ? "" : ", ") + layer.name();
  return names;
}

void check_configured_layers(const mapnik::Map& map, const vector_settings& settings) {
  for (const vector_layer_settings& configured : settings.layers) {
    const auto& layers = map.layers();
    const auto found = std::find_if(layers.begin(), layers.end(), [&](const mapnik::layer& layer) {
      return layer.name() == configured.name;
    });
    if (found == layers.end()) {
      throw std::invalid_argument("vector layer '" + configured.name +
                                  "' is not a layer of the style; its layers are: " + layer_names(map));
    }
    if (!is_vector_layer(*found)) {
      throw std::invalid_argument("vector layer '" + configured.name +
                                  "' has a raster datasource; remove it from the vector layers");
    }
  }
}

// The layers to encode, in the map's order, with their settings.
std::vector<selected_layer> select_layers(const mapnik::Map& map, const vector_settings& settings) {
  check_configured_layers(map, settings);
  std::vector<selected_layer> selected;
  for (const mapnik::layer& layer : map.layers()) {
    if (settings.layers.empty()) {
      vector_layer_settings defaults;
      defaults.name = layer.name();
      if (layer.active() && is_vector_layer(layer)) selected.push_back({&layer, defaults});
      continue;
    }
    for (const vector_layer_settings& configured : settings.layers) {
      if (configured.name == layer.name()) selected.push_back({&layer, configured});
    }
  }
  return selected;
}

// The transformation from a layer's srs to EPSG:3857. Each thread keeps one per srs, because PROJ
// objects are not thread-safe and building one is slow. With PROJ 9.1 it took about 11 ms for
// EPSG:2154, more than encoding a z15 tile of the flood zones (about 8 ms). Both were measured with
// -O2 on one core of the development machine.
const mapnik::proj_transform& transform_to_mercator(const std::string& srs) {
  thread_local std::unordered_map<std::string, std::unique_ptr<mapnik::proj_transform>> cache;
  std::unique_ptr<mapnik::proj_transform>& transform = cache[srs];
  if (!transform) {
    const mapnik::projection source(srs);
    const mapnik::projection mercator("epsg:3857");
    transform = std::make_unique<mapnik::proj_transform>(source, mercator);
  }
  return *transform;
}

// Maps EPSG:3857 metres to the tile's units, y down.
struct tile_frame {
  double minx;
  double maxy;
  double units_per_metre;

  tile_coord to_tile(double x, double y) const {
    return {(x - minx) * units_per_metre, (maxy - y) * units_per_metre};
  }
};

bool is_finite(const mapnik::box2d<double>& box) {
  return std::isfinite(box.minx()) && std::isfinite(box.miny()) && std::isfinite(box.maxx()) &&
         std::isfinite(box.maxy());
}

// The buffered tile in the layer's srs, or nothing when the layer's data cannot meet it. The box is
// not narrowed to the layer's extent: a point on the extent's edge could then fall just outside the
// reprojected box by rounding. When the tile cannot be reprojected (a low-zoom tile reaching far
// outside a projection's area of use), the layer's extent is projected the other way instead, as
// Mapnik's own renderer does.
std::optional<mapnik::box2d<double>> query_box(const mapnik::datasource& datasource,
                                               const mapnik::proj_transform& transform,
                                               const mapnik::box2d<double>& buffered_tile) {
  if (transform.equal()) return buffered_tile;
  mapnik::box2d<double> box = buffered_tile;
  if (transform.backward(box, envelope_points) && is_finite(box)) return box;

  const mapnik::box2d<double> layer_extent = datasource.envelope();
  mapnik::box2d<double> mercator_extent = layer_extent;
  if (!transform.forward(mercator_extent, envelope_points) || !is_finite(mercator_extent))
    return layer_extent;
  if (!mercator_extent.intersects(buffered_tile)) return std::nullopt;
  return layer_extent;
}

// Collects a Mapnik geometry, reprojected to EPSG:3857 and then to tile units, by geometry type.
// A geometry collection adds each member to its type's list.
class tile_coord_collector {
 public:
  tile_coord_collector(const mapnik::proj_transform& transform, const tile_frame& frame)
      : transform_(transform), frame_(frame) {}

  void operator()(const mapnik::geometry::geometry_empty&) {}

  void operator()(const mapnik::geometry::point<double>& point) { points.push_back(project(point)); }

  void operator()(const mapnik::geometry::multi_point<double>& multi_point) {
    for (const auto& point : multi_point) points.push_back(project(point));
  }

  void operator()(const mapnik::geometry::line_string<double>& line_string) {
    linestrings.push_back(project(line_string));
  }

  void operator()(const mapnik::geometry::multi_line_string<double>& multi_line_string) {
    for (const auto& line_string : multi_line_string) linestrings.push_back(project(line_string));
  }

  void operator()(const mapnik::geometry::polygon<double>& polygon) {
    tile_coord_polygon& projected = polygons.emplace_back();
    projected.exterior = project(polygon.exterior_ring);
    for (const auto& ring : polygon.interior_rings) projected.interiors.push_back(project(ring));
  }

  void operator()(const mapnik::geometry::multi_polygon<double>& multi_polygon) {
    for (const auto& polygon : multi_polygon) (*this)(polygon);
  }

  void operator()(const mapnik::geometry::geometry_collection<double>& collection) {
    for (const auto& member : collection) mapnik::util::apply_visitor(*this, member);
  }

  std::vector<tile_coord> points;
  std::vector<tile_coord_path> linestrings;
  std::vector<tile_coord_polygon> polygons;
  bool failed = false;  // some vertex could not be projected

 private:
  tile_coord project(const mapnik::geometry::point<double>& point) {
    double x = point.x;
    double y = point.y;
    double z = 0;
    if (!transform_.forward(x, y, z) || !std::isfinite(x) || !std::isfinite(y)) failed = true;
    return frame_.to_tile(x, y);
  }

  tile_coord_path project(const mapnik::geometry::line_string<double>& path) {
    // A copy, because memory datasources (GeoJSON) share their features between queries.
    mapnik::geometry::line_string<double> mercator = path;
    if (transform_.forward(mercator) != 0) failed = true;
    tile_coord_path projected;
    projected.reserve(mercator.size());
    for (const auto& point : mercator) {
      if (!std::isfinite(point.x) || !std::isfinite(point.y)) failed = true;
      projected.push_back(frame_.to_tile(point.x, point.y));
    }
    return projected;
  }

  const mapnik::proj_transform& transform_;
  const tile_frame& frame_;
};

// The text as UTF-8; unpaired surrogates become U+FFFD. Sets `replaced` when that happened.
std::string to_utf8(const icu::UnicodeString& text, bool& replaced) {
  UErrorCode status = U_ZERO_ERROR;
  std::int32_t length = 0;
  std::int32_t substitutions = 0;
  u_strToUTF8WithSub(nullptr, 0, &length, text.getBuffer(), text.length(), 0xFFFD, &substitutions, &status);
  std::string utf8(static_cast<std::size_t>(length), '\0');
  status = U_ZERO_ERROR;
  u_strToUTF8WithSub(utf8.data(), length, nullptr, text.getBuffer(), text.length(), 0xFFFD, &substitutions,
                     &status);
  if (substitutions > 0) replaced = true;
  return utf8;
}

// The bytes as valid UTF-8: each invalid sequence becomes U+FFFD. Sets `replaced` when that happened.
std::string to_valid_utf8(const std::string& bytes, bool& replaced) {
  return to_utf8(icu::UnicodeString::fromUTF8(bytes), replaced);
}

// Converts a Mapnik attribute value, or returns nothing for null, which MVT cannot store.
std::optional<property_value> to_property_value(const mapnik::value& value, bool& replaced) {
  if (value.is<mapnik::value_bool>()) return property_value{value.get<mapnik::value_bool>()};
  if (value.is<mapnik::value_integer>())
    return property_value{std::int64_t{value.get<mapnik::value_integer>()}};
  if (value.is<mapnik::value_double>()) return property_value{value.get<mapnik::value_double>()};
  if (value.is<mapnik::value_unicode_string>()) {
    return property_value{to_utf8(value.get<mapnik::value_unicode_string>(), replaced)};
  }
  return std::nullopt;
}

// Encodes the features of one layer in one tile.
class layer_encoder {
 public:
  layer_encoder(const selected_layer& selected, const tile_id& tile, const vector_settings& settings)
      : layer_(*selected.layer),
        tile_(tile),
        kept_fields_(selected.settings.fields.begin(), selected.settings.fields.end()),
        geometry_settings_{settings.extent, settings.buffer, settings.simplify},
        builder_(layer_.name(), settings.extent) {}

  layer_builder encode() {
    const mapnik::datasource& datasource = *layer_.datasource();
    const mapnik::proj_transform& transform = transform_to_mercator(layer_.srs());
    const bbox tile_box = mercator_bounds(tile_);
    const double units_per_metre = geometry_settings_.extent / tile_box.width();
    const tile_frame frame{tile_box.minx, tile_box.maxy, units_per_metre};
    // One more unit than the buffer, so that features on the buffer's edge survive rounding in the
    // datasource's own bounding box test. Clipping then trims them exactly.
    const double margin = (geometry_settings_.buffer + 1) / units_per_metre;
    const mapnik::box2d<double> buffered(tile_box.minx - margin, tile_box.miny - margin,
                                         tile_box.maxx + margin, tile_box.maxy + margin);

    const std::optional<mapnik::box2d<double>> box = query_box(datasource, transform, buffered);
    if (!box) return std::move(builder_);
    mapnik::query query(*box, {units_per_metre, units_per_metre},
                        mapnik::scale_denominator(tile_box.width() / tile_pixels, false));
    for (const std::string& field : queried_fields(datasource)) query.add_property_name(field);

    const mapnik::featureset_ptr features = datasource.features(query);
    if (!features) return std::move(builder_);
    while (const mapnik::feature_ptr feature = features->next()) add_feature(*feature, transform, frame);
    return std::move(builder_);
  }

 private:
  // The descriptor's attributes that the settings keep. Configured fields that the layer lacks are
  // not asked for, because some datasources (Shapefile) reject unknown names; describe_vector_layers
  // reports them instead.
  std::vector<std::string> queried_fields(const mapnik::datasource& datasource) const {
    const mapnik::layer_descriptor descriptor = datasource.get_descriptor();
    std::vector<std::string> names;
    for (const mapnik::attribute_descriptor& attribute : descriptor.get_descriptors()) {
      if (keeps(attribute.get_name())) names.push_back(attribute.get_name());
    }
    return names;
  }

  bool keeps(const std::string& field) const { return kept_fields_.empty() || kept_fields_.contains(field); }

  void add_feature(const mapnik::feature_impl& feature, const mapnik::proj_transform& transform,
                   const tile_frame& frame) {
    tile_coord_collector collector(transform, frame);
    mapnik::util::apply_visitor(collector, feature.get_geometry());
    if (collector.failed) {
      if (should_log(unprojectable_feature_count)) {
        spdlog::warn(
            "layer '{}', tile {}: feature {} has vertices outside the range of srs '{}', so it is left out "
            "({} such features so far)",
            layer_.name(), tile_name(tile_), feature.id(), layer_.srs(), unprojectable_feature_count.load());
      }
      return;
    }
    std::optional<std::vector<property>> properties;
    const auto properties_once = [&]() -> const std::vector<property>& {
      if (!properties) properties = read_properties(feature);
      return *properties;
    };
    const std::optional<std::uint64_t> id =
        feature.id() >= 0 ? std::optional<std::uint64_t>(static_cast<std::uint64_t>(feature.id()))
                          : std::nullopt;

    // MVT features have one geometry type, so a geometry collection becomes up to three features.
    if (!collector.points.empty()) {
      std::vector<tile_point> points = make_tile_points(collector.points, geometry_settings_);
      if (!points.empty()) builder_.add_feature(id, std::move(points), properties_once());
    }
    if (!collector.linestrings.empty()) {
      std::vector<tile_linestring> linestrings =
          make_tile_linestrings(collector.linestrings, geometry_settings_);
      if (!linestrings.empty()) builder_.add_feature(id, std::move(linestrings), properties_once());
    }
    if (!collector.polygons.empty()) {
      tile_polygons polygons = make_tile_polygons(collector.polygons, geometry_settings_);
      report_repair(feature, polygons.repair);
      if (!polygons.polygons.empty())
        builder_.add_feature(id, std::move(polygons.polygons), properties_once());
    }
  }

  void report_repair(const mapnik::feature_impl& feature, polygon_repair repair) const {
    if (repair == polygon_repair::repaired) {
      spdlog::debug("layer '{}', tile {}: feature {} was invalid after snapping and was repaired with GEOS",
                    layer_.name(), tile_name(tile_), feature.id());
    } else if (repair == polygon_repair::dropped && should_log(dropped_polygon_count)) {
      spdlog::warn(
          "layer '{}', tile {}: feature {} stayed invalid after repair, so it is left out "
          "({} such features so far)",
          layer_.name(), tile_name(tile_), feature.id(), dropped_polygon_count.load());
    }
  }

  std::vector<property> read_properties(const mapnik::feature_impl& feature) {
    std::vector<property> properties;
    bool replaced = false;
    for (const auto& [raw_key, index] : *feature.context()) {
      if (!keeps(raw_key)) continue;
      std::optional<property_value> value = to_property_value(feature.get(index), replaced);
      if (!value) continue;
      properties.push_back({valid_key(raw_key, replaced), std::move(*value)});
    }
    if (replaced && should_log(invalid_utf8_count)) {
      spdlog::warn(
          "layer '{}', tile {}: feature {} has text that is not valid UTF-8; the invalid bytes became "
          "U+FFFD. Set the datasource's encoding, or a .cpg file for a Shapefile ({} such features so far)",
          layer_.name(), tile_name(tile_), feature.id(), invalid_utf8_count.load());
    }
    return properties;
  }

  // Attribute names come as raw bytes (a DBF's field names are not decoded by Mapnik), so they are
  // checked once per layer and tile.
  const std::string& valid_key(const std::string& raw_key, bool& replaced) {
    auto [position, inserted] = valid_keys_.try_emplace(raw_key);
    if (inserted) {
      bool key_replaced = false;
      position->second.first = to_valid_utf8(raw_key, key_replaced);
      position->second.second = key_replaced;
    }
    if (position->second.second) replaced = true;
    return position->second.first;
  }

  const mapnik::layer& layer_;
  const tile_id& tile_;
  const std::unordered_set<std::string> kept_fields_;
  const tile_geometry_settings geometry_settings_;
  layer_builder builder_;
  std::unordered_map<std::string, std::pair<std::string, bool>> valid_keys_;  // raw key -> UTF-8, replaced
};

std::string field_type(unsigned attribute_type) {
  switch (attribute_type) {
    case mapnik::Integer:
    case mapnik::Float:
    case mapnik::Double: return "Number";
    case mapnik::Boolean: return "Boolean";
    default: return "String";
  }
}

std::string geometry_type_name(const mapnik::datasource& datasource) {
  const boost::optional<mapnik::datasource_geometry_t> type = datasource.get_geometry_type();
  if (!type) return "Unknown";
  switch (*type) {
    case mapnik::datasource_geometry_t::Point: return "Point";
    case mapnik::datasource_geometry_t::LineString: return "LineString";
    case mapnik::datasource_geometry_t::Polygon: return "Polygon";
    default: return "Unknown";
  }
}

std::vector<vector_field> describe_fields(const mapnik::layer& layer, const vector_layer_settings& settings) {
  const mapnik::layer_descriptor descriptor = layer.datasource()->get_descriptor();
  const auto& attributes = descriptor.get_descriptors();
  for (const std::string& field : settings.fields) {
    const bool known =
        std::any_of(attributes.begin(), attributes.end(),
                    [&](const mapnik::attribute_descriptor& a) { return a.get_name() == field; });
    if (!known) {
      std::string names;
      for (const auto& attribute : attributes) names += (names.empty() ? "" : ", ") + attribute.get_name();
      throw std::invalid_argument("vector layer '" + layer.name() + "' has no attribute '" + field +
                                  "'; its attributes are: " + names);
    }
  }
  const std::unordered_set<std::string> kept(settings.fields.begin(), settings.fields.end());
  std::vector<vector_field> fields;
  for (const mapnik::attribute_descriptor& attribute : attributes) {
    if (attribute.get_type() == mapnik::Geometry) continue;
    if (!kept.empty() && !kept.contains(attribute.get_name())) continue;
    bool replaced = false;
    fields.push_back({to_valid_utf8(attribute.get_name(), replaced), field_type(attribute.get_type())});
  }
  return fields;
}

}  // namespace

std::string render_vector_tile(const mapnik::Map& map, const tile_id& tile, const vector_settings& settings) {
  std::vector<layer_builder> layers;
  for (const selected_layer& selected : select_layers(map, settings)) {
    if (tile.z < selected.settings.minzoom || tile.z > selected.settings.maxzoom) continue;
    layers.push_back(layer_encoder(selected, tile, settings).encode());
  }
  return encode_tile(layers);
}

std::vector<vector_layer_description> describe_vector_layers(const mapnik::Map& map,
                                                             const vector_settings& settings) {
  std::vector<vector_layer_description> descriptions;
  for (const selected_layer& selected : select_layers(map, settings)) {
    vector_layer_description& description = descriptions.emplace_back();
    description.id = selected.layer->name();
    description.fields = describe_fields(*selected.layer, selected.settings);
    description.minzoom = selected.settings.minzoom;
    description.maxzoom = selected.settings.maxzoom;
    description.geometry_type = geometry_type_name(*selected.layer->datasource());
  }
  return descriptions;
}

}  // namespace tuilerie
