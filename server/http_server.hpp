// The Boost.Beast HTTP/1.1 server: accepts connections and runs sessions.
#pragma once

#include "server/config.hpp"
#include "server/http.hpp"

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

namespace tuilerie {

// Limits on every connection, enforced by the session.
struct connection_limits {
  std::uint32_t max_connections = 1024;   // open connections; a new one beyond it gets 503 and is closed
  std::uint32_t header_bytes = 8 * 1024;  // request line and headers together
  std::uint64_t body_bytes = 0;           // tile and metadata routes take no body
  // Time allowed for one whole request, including the wait for it on a
  // keep-alive connection, so a client sending a byte a second is closed.
  std::chrono::seconds request_timeout{30};
};

using request_handler = std::function<void(http_request&&, responder)>;

// Listens on one address and serves every request through the handler.
// Everything runs on the given io_context; run it on as many threads as
// wanted.
class http_server {
 public:
  http_server(boost::asio::io_context& io, const listen_address& address, request_handler handler,
              connection_limits limits = {});
  ~http_server();

  // The bound port; differs from the configured one when that was 0.
  std::uint16_t port() const;

  // Stops accepting new connections; sessions finish their current request
  // and then close, even when the client asked for keep-alive.
  void stop();

  // Requests handed to the handler whose response is not yet written.
  std::size_t requests_in_flight() const;

 private:
  class listener;
  std::shared_ptr<listener> listener_;
};

}  // namespace tuilerie
