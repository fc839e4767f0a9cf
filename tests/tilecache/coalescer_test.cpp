// The request coalescer: one first caller per key, every waiter called once, failures shared.
#include "tilecache/coalescer.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <latch>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace tuilerie {
namespace {

// A render outcome: the tile bytes, or an error for every waiter.
struct render_result {
  std::shared_ptr<const std::string> tile;
  std::string error;
};

using render_coalescer = coalescer<std::string, render_result>;

constexpr int thread_count = 8;

// Runs thread_count threads that join one key at once. The first completes
// with `outcome` only after every thread has joined, so all of them share one
// render. Returns the results the waiters received.
std::vector<render_result> join_from_threads(render_coalescer& renders, const render_result& outcome,
                                             int& first_count) {
  std::latch start(thread_count);
  std::latch joined(thread_count);
  std::mutex results_mutex;
  std::vector<render_result> results;
  std::atomic<int> firsts{0};

  std::vector<std::thread> threads;
  for (int i = 0; i < thread_count; ++i) {
    threads.emplace_back([&] {
      start.arrive_and_wait();
      const bool first = renders.join("flood/12/2068/1424", [&](const render_result& result) {
        std::lock_guard lock(results_mutex);
        results.push_back(result);
      });
      joined.count_down();
      if (first) {
        ++firsts;
        joined.wait();
        renders.complete("flood/12/2068/1424", outcome);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  first_count = firsts.load();
  return results;
}

TEST(Coalescer, ConcurrentJoinsShareOneRender) {
  render_coalescer renders;
  const render_result outcome{std::make_shared<const std::string>("tile bytes"), ""};
  int first_count = 0;
  const auto results = join_from_threads(renders, outcome, first_count);

  EXPECT_EQ(first_count, 1);
  ASSERT_EQ(results.size(), static_cast<std::size_t>(thread_count));
  for (const auto& result : results) {
    EXPECT_EQ(result.tile, outcome.tile);  // the same object, not a copy
    EXPECT_TRUE(result.error.empty());
  }
  EXPECT_EQ(renders.in_flight(), 0u);
}

TEST(Coalescer, FailureReachesEveryWaiter) {
  render_coalescer renders;
  const render_result failure{nullptr, "render failed: datasource timed out"};
  int first_count = 0;
  const auto results = join_from_threads(renders, failure, first_count);

  EXPECT_EQ(first_count, 1);
  ASSERT_EQ(results.size(), static_cast<std::size_t>(thread_count));
  for (const auto& result : results) {
    EXPECT_EQ(result.tile, nullptr);
    EXPECT_EQ(result.error, "render failed: datasource timed out");
  }
  EXPECT_EQ(renders.in_flight(), 0u);
}

TEST(Coalescer, JoinAfterCompleteStartsAgain) {
  render_coalescer renders;
  int calls = 0;
  const auto count_call = [&](const render_result&) { ++calls; };

  EXPECT_TRUE(renders.join("a", count_call));
  EXPECT_FALSE(renders.join("a", count_call));
  EXPECT_EQ(renders.in_flight(), 1u);
  EXPECT_EQ(renders.complete("a", render_result{nullptr, "failed"}), 2u);
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(renders.in_flight(), 0u);

  EXPECT_TRUE(renders.join("a", count_call));
  EXPECT_EQ(renders.in_flight(), 1u);
  EXPECT_EQ(renders.complete("a", render_result{}), 1u);
  EXPECT_EQ(calls, 3);
}

TEST(Coalescer, KeysAreIndependent) {
  render_coalescer renders;
  std::string seen_a;
  std::string seen_b;
  EXPECT_TRUE(renders.join("a", [&](const render_result& result) { seen_a = *result.tile; }));
  EXPECT_TRUE(renders.join("b", [&](const render_result& result) { seen_b = *result.tile; }));
  EXPECT_EQ(renders.in_flight(), 2u);

  renders.complete("b", render_result{std::make_shared<const std::string>("B"), ""});
  EXPECT_EQ(seen_b, "B");
  EXPECT_TRUE(seen_a.empty());
  EXPECT_EQ(renders.in_flight(), 1u);
}

TEST(Coalescer, CompleteOfUnknownKeyCallsNobody) {
  render_coalescer renders;
  EXPECT_EQ(renders.complete("never joined", render_result{}), 0u);
}

TEST(Coalescer, WaiterMayJoinAgainFromComplete) {
  // Waiters run outside the lock, so a waiter that retries does not deadlock
  // and starts a new render.
  render_coalescer renders;
  bool retry_was_first = false;
  renders.join("a", [&](const render_result&) { retry_was_first = renders.join("a", [](const render_result&) {}); });
  renders.complete("a", render_result{nullptr, "failed"});
  EXPECT_TRUE(retry_was_first);
  EXPECT_EQ(renders.in_flight(), 1u);
}

TEST(Coalescer, ThrowingWaiterDoesNotSkipOthers) {
  render_coalescer renders;
  int calls = 0;
  renders.join("a", [&](const render_result&) {
    ++calls;
    throw std::runtime_error("client gone");
  });
  renders.join("a", [&](const render_result&) { ++calls; });
  EXPECT_THROW(renders.complete("a", render_result{}), std::runtime_error);
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(renders.in_flight(), 0u);
}

}  // namespace
}  // namespace tuilerie
