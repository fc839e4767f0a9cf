// The error that ends a feature request: an HTTP status and a message for the client.
#pragma once

#include <boost/beast/http/status.hpp>

#include <stdexcept>
#include <string>

namespace tuilerie {

// The error of a request that cannot be served, thrown by request parsing and
// feature reads and caught once in feature_api, which sends it as JSON. The
// message is for the client: it names parameters and resources, not files.
class api_error : public std::runtime_error {
 public:
  api_error(boost::beast::http::status status, const std::string& message)
      : std::runtime_error(message), status_(status) {}

  boost::beast::http::status status() const { return status_; }

 private:
  boost::beast::http::status status_;
};

inline api_error bad_request(const std::string& message) {
  return api_error(boost::beast::http::status::bad_request, message);
}

inline api_error not_found(const std::string& message) {
  return api_error(boost::beast::http::status::not_found, message);
}

}  // namespace tuilerie
