// Prometheus text rendering of Tuilerie's counters.
#include "server/metrics.hpp"

#include <fmt/format.h>

#include <tuple>

namespace tuilerie {

void metrics::count_request(const std::string& route, const std::string& tileset, unsigned status) {
  const std::lock_guard lock(mutex_);
  ++requests_[{route, tileset, status}];
}

void metrics::observe_render(const std::string& tileset, double seconds) {
  const std::lock_guard lock(mutex_);
  histogram& entry = renders_[tileset];
  for (std::size_t i = 0; i < render_seconds_buckets.size(); ++i) {
    if (seconds <= render_seconds_buckets[i]) ++entry.buckets[i];
  }
  ++entry.count;
  entry.sum += seconds;
}

void metrics::write_prometheus(std::string& out) const {
  auto counter = [&out](const char* name, const char* help, std::uint64_t value) {
    out += fmt::format("# HELP {0} {1}\n# TYPE {0} counter\n{0} {2}\n", name, help, value);
  };
  counter("tuilerie_cache_hits_total", "Tiles served from the LMDB cache.", cache_hits.load());
  counter("tuilerie_cache_misses_total", "Tile requests not found fresh in the cache.", cache_misses.load());
  counter("tuilerie_cache_write_failures_total", "Rendered batches that could not be stored.",
          cache_write_failures.load());
  counter("tuilerie_cache_read_failures_total", "Cache reads that failed and were rendered instead.",
          cache_read_failures.load());
  counter("tuilerie_coalesced_waits_total", "Requests that waited for a render already under way.",
          coalesced_waits.load());
  counter("tuilerie_render_failures_total", "Renders that failed.", render_failures.load());
  counter("tuilerie_render_rejected_total", "Renders refused because the render queue was full.",
          render_rejected.load());
  out += fmt::format("# HELP tuilerie_cache_fallback 1 while tiles go to a temporary cache because the configured "
                     "one did not open.\n# TYPE tuilerie_cache_fallback gauge\ntuilerie_cache_fallback {}\n",
                     cache_fallback.load() ? 1 : 0);

  const std::lock_guard lock(mutex_);
  out += "# HELP tuilerie_http_requests_total HTTP requests by route, tileset and status.\n"
         "# TYPE tuilerie_http_requests_total counter\n";
  for (const auto& [labels, count] : requests_) {
    const auto& [route, tileset, status] = labels;
    out += fmt::format("tuilerie_http_requests_total{{route=\"{}\",tileset=\"{}\",status=\"{}\"}} {}\n", route,
                       tileset, status, count);
  }
  out += "# HELP tuilerie_render_seconds Time to render and encode one metatile or vector tile.\n"
         "# TYPE tuilerie_render_seconds histogram\n";
  for (const auto& [tileset, entry] : renders_) {
    for (std::size_t i = 0; i < render_seconds_buckets.size(); ++i) {
      out += fmt::format("tuilerie_render_seconds_bucket{{tileset=\"{}\",le=\"{}\"}} {}\n", tileset,
                         render_seconds_buckets[i], entry.buckets[i]);
    }
    out += fmt::format("tuilerie_render_seconds_bucket{{tileset=\"{}\",le=\"+Inf\"}} {}\n", tileset, entry.count);
    out += fmt::format("tuilerie_render_seconds_sum{{tileset=\"{}\"}} {}\n", tileset, entry.sum);
    out += fmt::format("tuilerie_render_seconds_count{{tileset=\"{}\"}} {}\n", tileset, entry.count);
  }
}

}  // namespace tuilerie
