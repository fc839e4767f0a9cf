// Render threads and their per-thread Mapnik maps.
#include "render/render_pool.hpp"

#include "render/mapnik_setup.hpp"
#include "render/shapefile_encoding.hpp"
#include "render/style_sources.hpp"

#include <mapnik/map.hpp>
#include <spdlog/spdlog.h>

namespace tuilerie {

style_registry::style_registry(style_files styles) : styles_(std::move(styles)) {
  for (const auto& [tileset, path] : styles_) generations_[tileset] = 1;
}

std::uint64_t style_registry::generation(const std::string& tileset) const {
  const std::lock_guard lock(mutex_);
  return generations_.at(tileset);
}

void style_registry::bump(const std::string& tileset) {
  const std::lock_guard lock(mutex_);
  ++generations_.at(tileset);
}

render_context::render_context(style_registry& styles, mercator_copies* copies)
    : styles_(styles), copies_(copies) {}

render_context::~render_context() = default;

mapnik::Map& render_context::map(const std::string& tileset) {
  const std::uint64_t generation = styles_.generation(tileset);
  auto found = maps_.find(tileset);
  if (found != maps_.end() && found->second.generation == generation) return *found->second.map;
  try {
    auto map = load_style(styles_.style(tileset));
    apply_shapefile_encodings(*map);
    if (copies_) use_mercator_copies(*map, *copies_);
    maps_[tileset] = {std::move(map), generation};
  } catch (const style_error& error) {
    if (found == maps_.end()) throw;
    spdlog::error("reloading tileset {} failed, keeping the previous style: {}", tileset, error.what());
    found->second.generation = generation;
  }
  return *maps_.at(tileset).map;
}

render_pool::render_pool(style_registry& styles, render_pool_options options)
    : styles_(styles), options_(std::move(options)) {
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
  render_context context(styles_, options_.copies);
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
