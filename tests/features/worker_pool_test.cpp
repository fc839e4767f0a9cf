// The feature API's worker pool: jobs run off the caller's thread, and a full queue is refused.
#include "server/features/worker_pool.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <set>

namespace tuilerie {
namespace {

using namespace std::chrono_literals;

TEST(WorkerPool, RunsJobsOnItsThreadsWithTheirIndex) {
  std::mutex mutex;
  std::set<std::size_t> workers;
  std::atomic<int> done{0};
  {
    worker_pool pool(2, 16);
    for (int i = 0; i < 8; ++i) {
      ASSERT_TRUE(pool.try_post([&](std::size_t worker) {
        EXPECT_LT(worker, 2u);
        const std::lock_guard lock(mutex);
        workers.insert(worker);
        ++done;
      }));
    }
  }  // the destructor runs every queued job before joining
  EXPECT_EQ(done.load(), 8);
  EXPECT_FALSE(workers.empty());
}

TEST(WorkerPool, RefusesJobsBeyondQueueLimit) {
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<void> started;
  worker_pool pool(1, 2);
  ASSERT_TRUE(pool.try_post([&](std::size_t) {
    started.set_value();
    released.wait();
  }));
  ASSERT_EQ(started.get_future().wait_for(10s), std::future_status::ready);
  // The only thread is busy: two jobs may wait, the third is refused.
  EXPECT_TRUE(pool.try_post([](std::size_t) {}));
  EXPECT_TRUE(pool.try_post([](std::size_t) {}));
  EXPECT_FALSE(pool.try_post([](std::size_t) {}));
  release.set_value();
}

TEST(WorkerPool, JobsRunOffTheCallingThread) {
  worker_pool pool(1, 4);
  std::promise<std::thread::id> ran_on;
  ASSERT_TRUE(pool.try_post([&](std::size_t) { ran_on.set_value(std::this_thread::get_id()); }));
  auto future = ran_on.get_future();
  ASSERT_EQ(future.wait_for(10s), std::future_status::ready);
  EXPECT_NE(future.get(), std::this_thread::get_id());
}

}  // namespace
}  // namespace tuilerie
