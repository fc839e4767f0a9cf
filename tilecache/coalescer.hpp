// Request coalescing: concurrent requests for one key share a single render.
#pragma once

#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

namespace tuilerie {

// Lets concurrent requests for the same key (a metatile, say) wait for one
// piece of work instead of each doing it. The first caller of join() for a key
// does the work and passes its outcome to complete(), which calls every
// waiter, the first caller's included. A failure is a Result that carries the
// error, so waiters receive it at once. complete() removes the key, so the
// next join() starts the work again and a failed render is retried by the next
// request rather than cached.
//
// Thread-safe. Waiters run on the thread that calls complete(), outside the
// lock, so a waiter may call join() again.
template <class Key, class Result, class Hash = std::hash<Key>>
class coalescer {
 public:
  using waiter = std::function<void(const Result&)>;

  // Registers on_result for the key's outcome. Returns true when the caller
  // is the first for this key: it must then do the work and call complete()
  // exactly once, even when the work fails, or the waiters wait forever.
  bool join(const Key& key, waiter on_result) {
    std::lock_guard lock(mutex_);
    auto [entry, first] = pending_.try_emplace(key);
    entry->second.push_back(std::move(on_result));
    return first;
  }

  // Calls every waiter registered for the key once with the result and removes
  // the key. Returns the number of waiters called, 0 for a key not in flight.
  // If waiters throw, the others are still called, and the first exception is
  // rethrown at the end.
  std::size_t complete(const Key& key, const Result& result) {
    std::vector<waiter> waiters;
    {
      std::lock_guard lock(mutex_);
      auto node = pending_.extract(key);
      if (node.empty()) return 0;
      waiters = std::move(node.mapped());
    }

    std::exception_ptr first_error;
    for (const auto& on_result : waiters) {
      try {
        on_result(result);
      } catch (...) {
        if (!first_error) first_error = std::current_exception();
      }
    }
    if (first_error) std::rethrow_exception(first_error);
    return waiters.size();
  }

  // The number of keys whose work is running, for metrics.
  std::size_t in_flight() const {
    std::lock_guard lock(mutex_);
    return pending_.size();
  }

 private:
  mutable std::mutex mutex_;
  std::unordered_map<Key, std::vector<waiter>, Hash> pending_;
};

}  // namespace tuilerie
