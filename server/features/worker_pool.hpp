// A small fixed pool of threads with a bounded queue, for the GDAL reads of
// feature requests, which must not run on the HTTP I/O threads.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace tuilerie {

class worker_pool {
 public:
  // A job receives the index of the worker thread running it (0 to
  // threads - 1), so that it can use that thread's own GDAL handles.
  using job = std::function<void(std::size_t worker)>;

  worker_pool(unsigned threads, std::size_t max_queued);
  // Runs the jobs already queued, then joins the threads.
  ~worker_pool();
  worker_pool(const worker_pool&) = delete;
  worker_pool& operator=(const worker_pool&) = delete;

  // Queues a job. Returns false when max_queued jobs are already waiting, so
  // that the caller sends a 503 rather than letting the queue grow.
  bool try_post(job work);

  unsigned threads() const { return static_cast<unsigned>(threads_.size()); }

 private:
  void run(std::size_t worker);

  std::size_t max_queued_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<job> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace tuilerie
