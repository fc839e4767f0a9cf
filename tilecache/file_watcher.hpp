// Watches files with inotify and reports which of them changed.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace tuilerie {

// Watches the directories of a set of files, because tools replace files by
// writing a new one and renaming it, which a watch on the old file would miss.
// Changes are reported after a quiet period, so that a program writing a
// GeoPackage in many small writes causes one reload, not hundreds.
class file_watcher {
 public:
  // Called on the watcher's thread with the watched files that changed.
  using callback = std::function<void(const std::set<std::filesystem::path>& changed)>;

  file_watcher(std::vector<std::filesystem::path> files, callback on_change,
               std::chrono::milliseconds quiet_period = std::chrono::milliseconds(300));
  ~file_watcher();
  file_watcher(const file_watcher&) = delete;
  file_watcher& operator=(const file_watcher&) = delete;

 private:
  void run();
  void read_events(std::set<std::filesystem::path>& changed);

  std::set<std::filesystem::path> files_;
  callback on_change_;
  std::chrono::milliseconds quiet_period_;
  int inotify_fd_ = -1;
  int stop_fd_ = -1;  // an eventfd written by the destructor to wake the thread
  std::map<int, std::filesystem::path> directories_;  // watch descriptor to directory
  std::thread thread_;
};

}  // namespace tuilerie
