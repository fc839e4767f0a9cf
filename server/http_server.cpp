// Beast sessions and the listener. Handlers answer asynchronously: a session
// reads a request, hands it to the handler and writes the response it gets
// back on its strand, then reads the next one.
#include "server/http_server.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <spdlog/spdlog.h>

#include <atomic>
#include <optional>

namespace tuilerie {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

namespace {

http_response plain_error(http::status status, unsigned version, const char* message) {
  http_response response{status, version};
  response.set(http::field::content_type, "application/json");
  response.body() = std::string("{\"error\":\"") + message + "\"}";
  response.keep_alive(false);
  response.prepare_payload();
  return response;
}

// What the listener and its sessions share: requests being answered, and
// whether the server is stopping (then sessions close after their response).
struct server_activity {
  std::atomic<std::size_t> connections{0};
  std::atomic<std::size_t> requests_in_flight{0};
  std::atomic<bool> stopping{false};
};

class session : public std::enable_shared_from_this<session> {
 public:
  session(tcp::socket&& socket, std::shared_ptr<const request_handler> handler, const connection_limits& limits,
          std::shared_ptr<server_activity> activity)
      : stream_(std::move(socket)), handler_(std::move(handler)), limits_(limits), activity_(std::move(activity)) {
    ++activity_->connections;
  }

  ~session() { --activity_->connections; }

  void start() {
    net::dispatch(stream_.get_executor(), beast::bind_front_handler(&session::do_read, shared_from_this()));
  }

 private:
  void do_read() {
    parser_.emplace();
    parser_->header_limit(limits_.header_bytes);
    parser_->body_limit(limits_.body_bytes);
    stream_.expires_after(limits_.request_timeout);
    http::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&session::on_read, shared_from_this()));
  }

  void on_read(beast::error_code error, std::size_t) {
    if (error == http::error::end_of_stream || error == beast::error::timeout || error == net::error::eof ||
        error == net::error::connection_reset) {
      return do_close();
    }
    if (error == http::error::body_limit) {
      return do_write(plain_error(http::status::payload_too_large, 11, "request bodies are not accepted here"));
    }
    if (error == http::error::header_limit) {
      return do_write(plain_error(http::status::request_header_fields_too_large, 11,
                                  "request line and headers exceed the size limit"));
    }
    if (error) {
      return do_write(plain_error(http::status::bad_request, 11, "malformed HTTP request"));
    }
    handle(parser_->release());
  }

  void handle(http_request&& request) {
    ++activity_->requests_in_flight;
    answering_ = true;
    const bool keep_alive = request.keep_alive();
    const unsigned version = request.version();
    auto self = shared_from_this();
    (*handler_)(std::move(request), [self, keep_alive, version](http_response response) {
      response.version(version);
      response.keep_alive(keep_alive && response.keep_alive());
      net::post(self->stream_.get_executor(), [self, response = std::move(response)]() mutable {
        self->do_write(std::move(response));
      });
    });
  }

  void do_write(http_response&& response) {
    response_ = std::move(response);
    stream_.expires_after(limits_.request_timeout);
    http::async_write(stream_, *response_, beast::bind_front_handler(&session::on_write, shared_from_this()));
  }

  void on_write(beast::error_code error, std::size_t) {
    if (answering_) {
      answering_ = false;
      --activity_->requests_in_flight;
    }
    if (error) return do_close();
    const bool keep_alive = response_->keep_alive() && !activity_->stopping;
    response_.reset();
    if (!keep_alive) return do_close();
    do_read();
  }

  void do_close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::shared_ptr<const request_handler> handler_;
  const connection_limits limits_;
  std::shared_ptr<server_activity> activity_;
  bool answering_ = false;  // a request was handed to the handler and its response is not yet written
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http_response> response_;
};

}  // namespace

class http_server::listener : public std::enable_shared_from_this<listener> {
 public:
  listener(net::io_context& io, const listen_address& address, request_handler handler, connection_limits limits)
      : io_(io),
        acceptor_(net::make_strand(io)),
        handler_(std::make_shared<const request_handler>(std::move(handler))),
        limits_(limits) {
    tcp::resolver resolver(io);
    const tcp::endpoint endpoint =
        resolver.resolve(address.host, std::to_string(address.port), tcp::resolver::passive)->endpoint();
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(net::socket_base::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen(net::socket_base::max_listen_connections);
  }

  void start() { do_accept(); }

  void stop() {
    activity_->stopping = true;
    net::post(acceptor_.get_executor(), [self = shared_from_this()] {
      beast::error_code ignored;
      self->acceptor_.close(ignored);
    });
  }

  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  std::size_t requests_in_flight() const { return activity_->requests_in_flight; }

 private:
  void do_accept() {
    acceptor_.async_accept(net::make_strand(io_), beast::bind_front_handler(&listener::on_accept, shared_from_this()));
  }

  void on_accept(beast::error_code error, tcp::socket socket) {
    if (error == net::error::operation_aborted) return;
    if (error) {
      spdlog::warn("accept failed: {}", error.message());
    } else if (activity_->connections >= limits_.max_connections) {
      reject_connection(std::move(socket));
    } else {
      std::make_shared<session>(std::move(socket), handler_, limits_, activity_)->start();
    }
    if (acceptor_.is_open()) do_accept();
  }

  // Answers 503 without reading the request, and closes: the server is at
  // its connection limit. Logged once per power of two, not per connection.
  void reject_connection(tcp::socket socket) {
    const auto rejected = ++rejected_connections_;
    if ((rejected & (rejected - 1)) == 0) {
      spdlog::warn("connection limit of {} reached; {} connections rejected so far", limits_.max_connections, rejected);
    }
    static const std::string reply =
        "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Type: application/json\r\n"
        "Connection: close\r\nContent-Length: 45\r\n\r\n{\"error\":\"too many connections\",\"status\":503}";
    auto shared_socket = std::make_shared<tcp::socket>(std::move(socket));
    net::async_write(*shared_socket, net::buffer(reply), [shared_socket](beast::error_code, std::size_t) {
      beast::error_code ignored;
      shared_socket->shutdown(tcp::socket::shutdown_both, ignored);
    });
  }

  std::uint64_t rejected_connections_ = 0;
  net::io_context& io_;
  tcp::acceptor acceptor_;
  std::shared_ptr<const request_handler> handler_;
  connection_limits limits_;
  std::shared_ptr<server_activity> activity_ = std::make_shared<server_activity>();
};

http_server::http_server(net::io_context& io, const listen_address& address, request_handler handler,
                         connection_limits limits) {
  try {
    listener_ = std::make_shared<listener>(io, address, std::move(handler), limits);
  } catch (const boost::system::system_error& error) {
    throw std::runtime_error("cannot listen on " + address.host + ":" + std::to_string(address.port) + ": " +
                             error.code().message());
  }
  listener_->start();
}

http_server::~http_server() { stop(); }

std::uint16_t http_server::port() const { return listener_->port(); }

void http_server::stop() {
  if (listener_) listener_->stop();
}

std::size_t http_server::requests_in_flight() const { return listener_->requests_in_flight(); }

}  // namespace tuilerie
