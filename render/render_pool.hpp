// A pool of render threads, each with its own Mapnik maps.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <cstddef>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace mapnik {
class Map;
}

namespace tuilerie {

class mercator_copies;

// The styles a pool renders, by tileset name.
using style_files = std::map<std::string, std::filesystem::path>;

// The styles with a generation number each, bumped when a style or its data
// changed, so that render threads reload their copy before the next render.
class style_registry {
 public:
  explicit style_registry(style_files styles);

  const std::filesystem::path& style(const std::string& tileset) const { return styles_.at(tileset); }
  const style_files& styles() const { return styles_; }
  std::uint64_t generation(const std::string& tileset) const;
  void bump(const std::string& tileset);

 private:
  const style_files styles_;
  mutable std::mutex mutex_;
  std::map<std::string, std::uint64_t> generations_;
};

// What a job sees on its render thread. A mapnik::Map is not safe to render
// from two threads at once, so every thread loads its own copy of each style,
// on first use and again after its generation changed.
class render_context {
 public:
  // copies, when given, replaces layers in another SRS by their Web Mercator
  // copies (use_mercator_copies).
  explicit render_context(style_registry& styles, mercator_copies* copies = nullptr);
  ~render_context();
  render_context(const render_context&) = delete;
  render_context& operator=(const render_context&) = delete;

  // The thread's map of a tileset. Throws style_error if the style cannot be
  // loaded and std::out_of_range for an unknown tileset. When a reload
  // fails, the previous map is kept and the error logged.
  mapnik::Map& map(const std::string& tileset);

 private:
  struct loaded_map {
    std::unique_ptr<mapnik::Map> map;
    std::uint64_t generation = 0;
  };

  style_registry& styles_;
  mercator_copies* copies_;
  std::map<std::string, loaded_map> maps_;
};

struct render_pool_options {
  unsigned threads = 2;
  // Jobs waiting beyond this are rejected, so a burst of cold tiles gets 503
  // quickly instead of queueing for minutes.
  std::size_t max_queue = 256;
  // Where Web Mercator copies of layers in another SRS are kept; null renders
  // every layer from its source.
  mercator_copies* copies = nullptr;
};

// Runs render jobs on dedicated threads so that Mapnik never blocks the
// HTTP I/O threads. Jobs must not throw: they report errors through their
// own completion callbacks.
class render_pool {
 public:
  using job = std::function<void(render_context&)>;

  render_pool(style_registry& styles, render_pool_options options);
  ~render_pool();
  render_pool(const render_pool&) = delete;
  render_pool& operator=(const render_pool&) = delete;

  // Queues a job; returns false when the queue is full or the pool stopped.
  bool try_submit(job work);

  // Stops taking jobs, finishes the queued ones and joins the threads.
  void stop();

  std::size_t queued() const;
  unsigned busy() const;
  unsigned threads() const { return static_cast<unsigned>(threads_.size()); }

 private:
  void run_worker();

  style_registry& styles_;
  const render_pool_options options_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<job> queue_;
  unsigned busy_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace tuilerie
