// Building the OpenAPI 3.0 definition of the feature routes.
#include "server/features/openapi.hpp"

#include <string>

namespace tuilerie {

namespace {

using json = nlohmann::ordered_json;

json reference(const std::string& name) { return {{"$ref", "#/components/parameters/" + name}}; }

json response(const std::string& description, std::string_view media_type) {
  return {{"description", description},
          {"content", {{std::string(media_type), {{"schema", {{"type", "object"}}}}}}}};
}

json error_responses(json responses) {
  responses["400"] = response("Invalid parameter; the body names it", "application/json");
  responses["404"] = response("No such resource", "application/json");
  return responses;
}

json get_operation(const std::string& id, const std::string& summary, json parameters, json responses) {
  return {{"get",
           {{"operationId", id},
            {"summary", summary},
            {"parameters", std::move(parameters)},
            {"responses", error_responses(std::move(responses))}}}};
}

json query_parameter(const std::string& name, const std::string& description, json schema) {
  return {{"name", name},
          {"in", "query"},
          {"required", false},
          {"description", description},
          {"schema", std::move(schema)},
          {"style", "form"},
          {"explode", false}};
}

json parameters(const ogc_settings& ogc, const std::vector<collection_description>& collections) {
  auto ids = json::array();
  for (const auto& collection : collections) ids.push_back(collection.settings.id);
  return {
      {"f",
       query_parameter("f", "The encoding; JSON is the only one", {{"type", "string"}, {"enum", {"json"}}})},
      {"collectionId",
       {{"name", "collectionId"},
        {"in", "path"},
        {"required", true},
        {"schema", {{"type", "string"}, {"enum", std::move(ids)}}}}},
      {"featureId",
       {{"name", "featureId"},
        {"in", "path"},
        {"required", true},
        {"schema", {{"type", "integer"}, {"minimum", 0}}}}},
      {"limit", query_parameter("limit", "Features per page; larger values are lowered to the maximum",
                                {{"type", "integer"},
                                 {"minimum", 1},
                                 {"maximum", ogc.max_limit},
                                 {"default", ogc.default_limit}})},
      {"offset", query_parameter("offset", "Matching features skipped before the page",
                                 {{"type", "integer"}, {"minimum", 0}, {"default", 0}})},
      {"bbox", query_parameter(
                   "bbox", "minx,miny,maxx,maxy in bbox-crs (CRS84 by default)",
                   {{"type", "array"}, {"minItems", 4}, {"maxItems", 4}, {"items", {{"type", "number"}}}})},
      {"bbox-crs",
       query_parameter("bbox-crs",
                       "CRS of bbox: the CRS84 URI or http://www.opengis.net/def/crs/EPSG/0/{code}",
                       {{"type", "string"}, {"format", "uri"}, {"default", crs84_uri}})},
      {"datetime",
       query_parameter("datetime",
                       "RFC 3339 instant, date, or interval start/end with '..' for an open bound",
                       {{"type", "string"}})},
  };
}

json items_parameters(const std::vector<std::string>& queryables) {
  json list{reference("f"),    reference("limit"),    reference("offset"),
            reference("bbox"), reference("bbox-crs"), reference("datetime")};
  for (const auto& name : queryables) {
    list.push_back(query_parameter(name, "Features whose property " + name + " equals this value",
                                   {{"type", "string"}}));
  }
  return list;
}

json paths(const std::vector<collection_description>& collections) {
  json result{
      {"/", get_operation("getLandingPage", "Landing page", {reference("f")},
                          {{"200", response("Links to the API's resources", "application/json")}})},
      {"/conformance", get_operation("getConformanceDeclaration", "Conformance classes", {reference("f")},
                                     {{"200", response("The conformance classes", "application/json")}})},
      {"/api", get_operation("getAPI", "This API definition", {reference("f")},
                             {{"200", response("OpenAPI 3.0 document", openapi_media_type)}})},
      {"/collections", get_operation("getCollections", "Feature collections", {reference("f")},
                                     {{"200", response("The collections", "application/json")}})},
      {"/collections/{collectionId}",
       get_operation("describeCollection", "One collection", {reference("collectionId"), reference("f")},
                     {{"200", response("The collection", "application/json")}})},
      {"/collections/{collectionId}/items/{featureId}",
       get_operation("getFeature", "One feature",
                     {reference("collectionId"), reference("featureId"), reference("f")},
                     {{"200", response("A GeoJSON Feature", geojson_media_type)}})},
  };
  for (const auto& collection : collections) {
    const auto& settings = collection.settings;
    result["/collections/" + settings.id + "/items"] = get_operation(
        "getFeatures_" + settings.id, "Features of " + settings.title, items_parameters(settings.queryables),
        {{"200", response("A GeoJSON FeatureCollection", geojson_media_type)}});
  }
  return result;
}

}  // namespace

nlohmann::ordered_json openapi_document(const config& settings,
                                        const std::vector<collection_description>& collections,
                                        const api_location& location) {
  json info{{"title", settings.ogc.title}, {"version", "1.0.0"}};
  info["description"] =
      settings.ogc.description.empty() ? "OGC API - Features served by Tuilerie" : settings.ogc.description;
  return {
      {"openapi", "3.0.3"},
      {"info", std::move(info)},
      {"servers", {{{"url", location.url()}}}},
      {"paths", paths(collections)},
      {"components", {{"parameters", parameters(settings.ogc, collections)}}},
  };
}

}  // namespace tuilerie
