// A real server process on loopback, and a blocking Beast client for tests.
#include "server_process.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>

#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <regex>
#include <sstream>
#include <stdexcept>

namespace tuilerie::testing {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

namespace {

constexpr auto start_timeout = std::chrono::seconds(60);

std::filesystem::path make_temporary_directory() {
  std::string pattern = (std::filesystem::temp_directory_path() / "tuilerie-test-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  return pattern;
}

// Reads the child's standard output until the "listening on" line.
std::uint16_t read_port(int fd, pid_t pid) {
  const auto deadline = std::chrono::steady_clock::now() + start_timeout;
  std::string output;
  const std::regex listening(R"(listening on http://[^:]+:(\d+)/)");
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd descriptor{fd, POLLIN, 0};
    if (poll(&descriptor, 1, 200) > 0) {
      char buffer[512];
      const auto count = read(fd, buffer, sizeof buffer);
      if (count <= 0) break;
      output.append(buffer, static_cast<std::size_t>(count));
      std::smatch match;
      if (std::regex_search(output, match, listening)) return static_cast<std::uint16_t>(std::stoi(match[1]));
    }
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) break;
  }
  throw std::runtime_error("tuilerie did not start; it printed: " + output);
}

}  // namespace

std::string http_reply::header(const std::string& name) const {
  const auto found = headers.find(name);
  return found == headers.end() ? std::string{} : found->second;
}

std::filesystem::path tuilerie_binary() { return std::filesystem::path(TUILERIE_BINARY_DIR) / "tuilerie"; }

server_process::server_process(const std::filesystem::path& config_file, std::filesystem::path cache_dir,
                               std::vector<std::string> extra_arguments) {
  if (cache_dir.empty()) {
    cache_dir_ = make_temporary_directory();
    owns_cache_dir_ = true;
  } else {
    cache_dir_ = std::move(cache_dir);
  }
  std::vector<std::string> arguments{tuilerie_binary().string(), "serve",     "--config", config_file.string(),
                                     "--listen",                 "127.0.0.1:0", "--cache", cache_dir_.string(),
                                     "--log-level",              "warn"};
  arguments.insert(arguments.end(), extra_arguments.begin(), extra_arguments.end());

  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) throw std::runtime_error("pipe failed");
  const pid_t test_pid = getpid();
  pid_ = fork();
  if (pid_ == 0) {
    // A test that crashes must not leave its server running: the server would hold ctest's output
    // pipe open, and ctest would wait for it until its timeout.
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != test_pid) _exit(127);  // the test died before prctl took effect
    dup2(pipe_fds[1], STDOUT_FILENO);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    std::vector<char*> argv;
    for (auto& argument : arguments) argv.push_back(argument.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(pipe_fds[1]);
  try {
    port_ = read_port(pipe_fds[0], pid_);
  } catch (...) {
    close(pipe_fds[0]);
    stop();
    throw;
  }
  // Keep reading nothing more: the server prints one line only. Closing the
  // pipe is safe because later writes to standard output would only fail.
  close(pipe_fds[0]);
}

server_process::~server_process() {
  stop();
  if (owns_cache_dir_) {
    std::error_code ignored;
    std::filesystem::remove_all(cache_dir_, ignored);
  }
}

bool server_process::alive() const { return pid_ > 0 && kill(pid_, 0) == 0 && waitpid(pid_, nullptr, WNOHANG) == 0; }

int server_process::stop() {
  if (pid_ <= 0) return 0;
  kill(pid_, SIGTERM);
  int status = 0;
  for (int i = 0; i < 200; ++i) {
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
    }
    usleep(50'000);
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return -SIGKILL;
}

http_reply server_process::get(const std::string& target, const std::map<std::string, std::string>& headers,
                               http::verb method) const {
  net::io_context io;
  tcp::resolver resolver(io);
  beast::tcp_stream stream(io);
  stream.expires_after(std::chrono::seconds(60));
  stream.connect(resolver.resolve("127.0.0.1", std::to_string(port_)));

  http::request<http::empty_body> request{method, target, 11};
  request.set(http::field::host, "127.0.0.1:" + std::to_string(port_));
  for (const auto& [name, value] : headers) request.set(name, value);
  http::write(stream, request);

  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  parser.skip(method == http::verb::head);
  http::read(stream, buffer, parser);
  const auto& response = parser.get();

  http_reply reply;
  reply.status = response.result_int();
  for (const auto& field : response) {
    std::string name(field.name_string());
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    auto& value = reply.headers[name];
    value += value.empty() ? std::string(field.value()) : ", " + std::string(field.value());
  }
  reply.body = response.body();
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  return reply;
}

double metric_value(const std::string& metrics_text, const std::string& name) {
  std::istringstream lines(metrics_text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind(name + " ", 0) == 0) return std::stod(line.substr(name.size() + 1));
  }
  throw std::runtime_error("metric " + name + " not found");
}

double labelled_metric_value(const std::string& metrics_text, const std::string& name, const std::string& labels) {
  std::istringstream lines(metrics_text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind(name + "{", 0) != 0) continue;
    const auto close = line.find('}');
    if (close == std::string::npos || line.substr(0, close).find(labels) == std::string::npos) continue;
    return std::stod(line.substr(close + 2));
  }
  return 0;
}

std::string raw_exchange(std::uint16_t port, const std::string& bytes, std::chrono::milliseconds timeout) {
  net::io_context io;
  tcp::socket socket(io);
  socket.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  // The server may answer and close before reading everything (an oversized
  // header, say), so a failed write is expected and the reply still read.
  boost::system::error_code ignored;
  net::write(socket, net::buffer(bytes), ignored);
  socket.shutdown(tcp::socket::shutdown_send, ignored);
  std::string received;
  const int fd = socket.native_handle();
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd descriptor{fd, POLLIN, 0};
    if (poll(&descriptor, 1, 100) <= 0) continue;
    char buffer[4096];
    const auto count = ::read(fd, buffer, sizeof buffer);
    if (count <= 0) break;
    received.append(buffer, static_cast<std::size_t>(count));
  }
  return received;
}

}  // namespace tuilerie::testing
