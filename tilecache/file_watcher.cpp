// inotify-based file watching.
#include "tilecache/file_watcher.hpp"

#include <spdlog/spdlog.h>

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace tuilerie {

namespace {

constexpr std::uint32_t watched_events =
    IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | IN_ATTRIB | IN_MODIFY;

}  // namespace

file_watcher::file_watcher(std::vector<std::filesystem::path> files, callback on_change,
                           std::chrono::milliseconds quiet_period)
    : on_change_(std::move(on_change)), quiet_period_(quiet_period) {
  inotify_fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  stop_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (inotify_fd_ < 0 || stop_fd_ < 0) {
    throw std::runtime_error(std::string("cannot start watching data files: ") + std::strerror(errno));
  }
  std::set<std::filesystem::path> directories;
  for (auto& file : files) {
    const auto absolute = std::filesystem::absolute(file).lexically_normal();
    files_.insert(absolute);
    directories.insert(absolute.parent_path());
  }
  for (const auto& directory : directories) {
    const int descriptor = inotify_add_watch(inotify_fd_, directory.c_str(), watched_events);
    if (descriptor < 0) {
      spdlog::warn("cannot watch {} for data changes: {}; edits there need SIGHUP", directory.string(),
                   std::strerror(errno));
      continue;
    }
    directories_[descriptor] = directory;
  }
  thread_ = std::thread([this] { run(); });
}

file_watcher::~file_watcher() {
  const std::uint64_t one = 1;
  [[maybe_unused]] const auto written = write(stop_fd_, &one, sizeof one);
  if (thread_.joinable()) thread_.join();
  close(inotify_fd_);
  close(stop_fd_);
}

void file_watcher::read_events(std::set<std::filesystem::path>& changed) {
  alignas(inotify_event) char buffer[16 * 1024];
  while (true) {
    const auto length = read(inotify_fd_, buffer, sizeof buffer);
    if (length <= 0) return;
    for (char* at = buffer; at < buffer + length;) {
      const auto* event = reinterpret_cast<const inotify_event*>(at);
      at += sizeof(inotify_event) + event->len;
      const auto directory = directories_.find(event->wd);
      if (directory == directories_.end() || event->len == 0) continue;
      const auto path = directory->second / event->name;
      if (files_.contains(path)) changed.insert(path);
    }
  }
}

void file_watcher::run() {
  std::set<std::filesystem::path> changed;
  while (true) {
    pollfd descriptors[2] = {{inotify_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    // While changes are pending, wait only for the quiet period to pass.
    const int timeout = changed.empty() ? -1 : static_cast<int>(quiet_period_.count());
    const int ready = poll(descriptors, 2, timeout);
    if (ready < 0 && errno != EINTR) {
      spdlog::error("watching data files failed: {}; edits now need SIGHUP", std::strerror(errno));
      return;
    }
    if (descriptors[1].revents & POLLIN) return;
    if (ready > 0 && (descriptors[0].revents & POLLIN)) {
      read_events(changed);
      continue;
    }
    if (ready == 0 && !changed.empty()) {
      on_change_(changed);
      changed.clear();
    }
  }
}

}  // namespace tuilerie
