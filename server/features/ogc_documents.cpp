// Building the OGC API - Features JSON documents.
#include "server/features/ogc_documents.hpp"

#include "server/features/geojson_writer.hpp"

#include <chrono>

namespace tuilerie {

namespace {

constexpr std::string_view json_media_type = "application/json";

// Gregorian calendar, the temporal reference system of every interval.
constexpr std::string_view gregorian_trs = "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian";

std::string collection_path(const collection_description& collection) {
  return "/collections/" + collection.settings.id;
}

nlohmann::ordered_json time_or_null(const std::optional<time_point>& time) {
  return time ? nlohmann::ordered_json(format_rfc3339(*time)) : nlohmann::ordered_json(nullptr);
}

nlohmann::ordered_json extent_of(const collection_description& collection) {
  nlohmann::ordered_json extent = nlohmann::ordered_json::object();
  if (collection.extent) {
    const auto& box = *collection.extent;
    extent["spatial"] = {{"bbox", {{box.minx, box.miny, box.maxx, box.maxy}}}, {"crs", crs84_uri}};
  }
  if (collection.temporal_extent) {
    // Built as explicit arrays: a braced pair whose first item is a string
    // would become a JSON object.
    auto interval = nlohmann::ordered_json::array(
        {time_or_null(collection.temporal_extent->start), time_or_null(collection.temporal_extent->end)});
    extent["temporal"] = {{"interval", nlohmann::ordered_json::array({std::move(interval)})},
                          {"trs", gregorian_trs}};
  }
  return extent;
}

std::string now_rfc3339() {
  return format_rfc3339(
      std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now()));
}

}  // namespace

nlohmann::ordered_json make_link(const std::string& href, std::string_view rel, std::string_view type,
                                 const std::string& title) {
  nlohmann::ordered_json link{{"href", href}, {"rel", rel}, {"type", type}};
  if (!title.empty()) link["title"] = title;
  return link;
}

nlohmann::ordered_json landing_page(const config& settings, const api_location& location) {
  nlohmann::ordered_json page{{"title", settings.ogc.title}};
  if (!settings.ogc.description.empty()) page["description"] = settings.ogc.description;
  page["links"] = {
      make_link(location.url(), "self", json_media_type, "This document"),
      make_link(location.url("/api"), "service-desc", openapi_media_type, "The API definition (OpenAPI 3.0)"),
      make_link(location.url("/conformance"), "conformance", json_media_type,
                "Conformance classes implemented"),
      make_link(location.url("/collections"), "data", json_media_type, "Feature collections"),
      make_link(location.url("/tiles"), "http://www.opengis.net/def/rel/ogc/1.0/tilesets-map",
                json_media_type, "Tilesets"),
      make_link(location.url("/tileMatrixSets"), "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes",
                json_media_type, "Tile matrix sets"),
      make_link(location.base_url + "/wmts/1.0.0/WMTSCapabilities.xml", "alternate", "application/xml",
                "WMTS 1.0.0 capabilities"),
  };
  return page;
}

nlohmann::ordered_json conformance_document(const api_location& location) {
  return {
      {"conformsTo",
       {"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30"}},
      {"links", {make_link(location.url("/conformance"), "self", json_media_type, "This document")}},
  };
}

nlohmann::ordered_json collection_document(const collection_description& collection,
                                           const api_location& location) {
  const auto& settings = collection.settings;
  const std::string path = collection_path(collection);
  nlohmann::ordered_json document{{"id", settings.id}, {"title", settings.title}};
  if (!settings.description.empty()) document["description"] = settings.description;
  if (!settings.attribution.empty()) document["attribution"] = settings.attribution;
  document["itemType"] = "feature";
  document["crs"] = {crs84_uri};
  document["extent"] = extent_of(collection);
  document["links"] = {
      make_link(location.url(path), "self", json_media_type, "This collection"),
      make_link(location.url(path + "/items"), "items", geojson_media_type, "Its features"),
  };
  return document;
}

nlohmann::ordered_json collections_document(const std::vector<collection_description>& collections,
                                            const api_location& location) {
  auto list = nlohmann::ordered_json::array();
  for (const auto& collection : collections) list.push_back(collection_document(collection, location));
  return {
      {"links", {make_link(location.url("/collections"), "self", json_media_type, "This document")}},
      {"collections", std::move(list)},
  };
}

std::string items_document(const items_page& page, const collection_description& collection,
                           const items_request& request, const query_parameters& query,
                           const api_location& location) {
  const std::string items_url = location.url(collection_path(collection) + "/items");
  auto links = nlohmann::ordered_json::array();
  links.push_back(make_link(items_url + "?" + query.encode_with("offset", std::to_string(request.offset)),
                            "self", geojson_media_type, "This page"));
  links.push_back(make_link(location.url(collection_path(collection)), "collection", "application/json",
                            "The collection"));
  if (page.has_next) {
    const auto next = request.offset + page.features.size();
    links.push_back(make_link(items_url + "?" + query.encode_with("offset", std::to_string(next)), "next",
                              geojson_media_type, "Next page"));
  }
  if (request.offset > 0) {
    const auto previous = request.offset > request.limit ? request.offset - request.limit : 0;
    links.push_back(make_link(items_url + "?" + query.encode_with("offset", std::to_string(previous)), "prev",
                              geojson_media_type, "Previous page"));
  }

  nlohmann::ordered_json head{{"type", "FeatureCollection"}, {"timeStamp", now_rfc3339()}};
  if (page.number_matched) head["numberMatched"] = *page.number_matched;
  head["numberReturned"] = page.features.size();
  head["links"] = std::move(links);

  std::string text = dump_json(head);
  text.pop_back();  // the closing brace, reopened to append the features
  text += ",\"features\":[";
  for (std::size_t i = 0; i < page.features.size(); ++i) text += (i ? "," : "") + page.features[i];
  return text + "]}";
}

std::string item_document(std::string feature, const collection_description& collection,
                          std::int64_t feature_id, const api_location& location) {
  const std::string path = collection_path(collection);
  const nlohmann::ordered_json links{
      make_link(location.url(path + "/items/" + std::to_string(feature_id)), "self", geojson_media_type,
                "This feature"),
      make_link(location.url(path), "collection", "application/json", "The collection"),
  };
  feature.pop_back();  // the closing brace of the Feature object
  return feature + ",\"links\":" + dump_json(links) + "}";
}

}  // namespace tuilerie
