// The OpenAPI 3.0 definition of the OGC API - Features routes, served at {base_path}/api.
#pragma once

#include "server/config.hpp"
#include "server/features/collection_source.hpp"
#include "server/features/ogc_documents.hpp"

#include <nlohmann/json.hpp>

#include <vector>

namespace tuilerie {

// The OpenAPI 3.0 document: the generic routes, and an items path for each
// collection that lists its queryable properties. The limit parameter
// carries the server's default and maximum, which clients such as GDAL read
// to size their pages.
nlohmann::ordered_json openapi_document(const config& settings,
                                        const std::vector<collection_description>& collections,
                                        const api_location& location);

}  // namespace tuilerie
