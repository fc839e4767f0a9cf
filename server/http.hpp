// HTTP message types shared by the server, the router and the handlers.
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <functional>

namespace tuilerie {

using http_request = boost::beast::http::request<boost::beast::http::string_body>;
using http_response = boost::beast::http::response<boost::beast::http::string_body>;

// Sends a response. Handlers may call it from any thread, exactly once; the
// session moves the write back onto its own strand.
using responder = std::function<void(http_response)>;

}  // namespace tuilerie
