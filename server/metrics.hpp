// Counters exported at /metrics in the Prometheus text format.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace tuilerie {

// Render durations are counted in these buckets, in seconds.
inline constexpr std::array<double, 10> render_seconds_buckets{0.005, 0.01, 0.025, 0.05, 0.1,
                                                               0.25,  0.5,  1,     2.5,  5};

// Process-wide counters. Lock-free where hot (cache hits), a mutex for the
// labelled request counts.
class metrics {
 public:
  void count_request(const std::string& route, const std::string& tileset, unsigned status);
  void observe_render(const std::string& tileset, double seconds);

  std::atomic<std::uint64_t> cache_hits{0};
  std::atomic<std::uint64_t> cache_misses{0};
  std::atomic<std::uint64_t> cache_write_failures{0};
  std::atomic<std::uint64_t> cache_read_failures{0};
  std::atomic<std::uint64_t> coalesced_waits{0};
  std::atomic<std::uint64_t> render_failures{0};
  std::atomic<std::uint64_t> render_rejected{0};
  // True while tiles go to a temporary cache because the configured one did not open.
  std::atomic<bool> cache_fallback{false};

  // Appends every metric of this object in the Prometheus text format.
  void write_prometheus(std::string& out) const;

 private:
  struct histogram {
    std::array<std::uint64_t, render_seconds_buckets.size()> buckets{};
    std::uint64_t count = 0;
    double sum = 0;
  };

  mutable std::mutex mutex_;
  std::map<std::tuple<std::string, std::string, unsigned>, std::uint64_t> requests_;
  std::map<std::string, histogram> renders_;
};

}  // namespace tuilerie
