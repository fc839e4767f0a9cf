// Starts a real tuilerie server on an ephemeral 127.0.0.1 port for a test,
// and a small blocking HTTP client to talk to it.
#pragma once

#include <boost/beast/http.hpp>

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <sys/types.h>
#include <vector>

namespace tuilerie::testing {

struct http_reply {
  unsigned status = 0;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;

  std::string header(const std::string& name) const;
};

// A tuilerie serve process. The destructor sends SIGTERM and waits for it.
class server_process {
 public:
  // Starts build/.../tuilerie serve with the config; the cache goes into a
  // fresh temporary directory unless cache_dir is given. Throws
  // std::runtime_error when the server does not print its address in time.
  explicit server_process(const std::filesystem::path& config_file, std::filesystem::path cache_dir = {},
                          std::vector<std::string> extra_arguments = {});
  ~server_process();
  server_process(const server_process&) = delete;
  server_process& operator=(const server_process&) = delete;

  std::uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }
  const std::filesystem::path& cache_dir() const { return cache_dir_; }
  // Whether the process is still running.
  bool alive() const;
  // Sends SIGTERM and waits; returns the exit status (or -signal).
  int stop();

  // Sends one request on a new connection and reads the reply.
  http_reply get(const std::string& target, const std::map<std::string, std::string>& headers = {},
                 boost::beast::http::verb method = boost::beast::http::verb::get) const;

 private:
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
  std::filesystem::path cache_dir_;
  bool owns_cache_dir_ = false;
};

// The tuilerie binary of this build.
std::filesystem::path tuilerie_binary();

// Reads a Prometheus counter or gauge value (without labels) from /metrics text.
double metric_value(const std::string& metrics_text, const std::string& name);

// Reads the value of the first sample of a metric whose labels contain the
// given text, for example labels = "tileset=\"communes\"". Returns 0 when
// no such sample exists yet (Prometheus omits counters never incremented).
double labelled_metric_value(const std::string& metrics_text, const std::string& name, const std::string& labels);

// Sends raw bytes on a new connection and returns everything the server sends
// back before closing or the timeout.
std::string raw_exchange(std::uint16_t port, const std::string& bytes,
                         std::chrono::milliseconds timeout = std::chrono::milliseconds(3000));

}  // namespace tuilerie::testing
