// Render threads and their per-thread Mapnik maps.
#include "render/render_pool.hpp"

#include "render/mapnik_setup.hpp"

#include <mapnik/map.hpp>
#include <spdlog/spdlog.h>

namespace tuilerie {

render_context::render_context(const style_files& styles) : styles_(styles) {}

render_context::~render_context() = default;

mapnik::Map& render_context::map(const std::string& tileset) {
  auto found = maps_.find(tileset);
  if (found == maps_.end()) {
    found = maps_.emplace(tileset, load_style(styles_.at(tileset))).first;
  }
  return *found->second;
}

render_pool::render_pool(render_pool_options options) : options_(std::move(options)) {
  threads_.reserve(options_.threads);
  for (unsigned i = 0; i < options_.threads; ++i) {
    threads_.emplace_back([this] { run_worker(); });
  }
}

render_pool::~render_pool() { stop(); }

bool render_pool::try_submit(job work) {
  {
    const std::lock_guard lock(mutex_);
    if (stopping_ || queue_.size() >= options_.max_queue) return false;
    queue_.push_back(std::move(work));
  }
  wake_.notify_one();
  return true;
}

void render_pool::stop() {
  {
    const std::lock_guard lock(mutex_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
  threads_.clear();
}

std::size_t render_pool::queued() const {
  const std::lock_guard lock(mutex_);
  return queue_.size();
}

unsigned render_pool::busy() const {
  const std::lock_guard lock(mutex_);
  return busy_;
}

void render_pool::run_worker() {
  render_context context(options_.styles);
  while (true) {
    job work;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;
      work = std::move(queue_.front());
      queue_.pop_front();
      ++busy_;
    }
    try {
      work(context);
    } catch (const std::exception& error) {
      // Jobs report their own errors; reaching this is a bug in the job.
      spdlog::error("render job threw instead of reporting its error: {}", error.what());
    }
    const std::lock_guard lock(mutex_);
    --busy_;
  }
}

}  // namespace tuilerie
