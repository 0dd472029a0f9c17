// A Backend for tests without consensus: one worker thread stands in for the node loop, applying each
// proposal to an MvccStore as the next log entry and running each query, in order. Errors can be
// injected to see how the services report them.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

#include "api/backend.h"
#include "kv/mvcc_store.h"
#include "kv/watch_hub.h"

namespace synod::api::test {

inline constexpr uint64_t kClusterId = 0x1234;
inline constexpr uint64_t kMemberId = 0x8e9e05c52164694d;
inline constexpr uint64_t kTerm = 7;

class FakeBackend final : public Backend {
 public:
  explicit FakeBackend(kv::MvccStore& store, kv::WatchHubOptions watch_options = {})
      : store_(store), hub_(store.revision(), watch_options), thread_([this] { run(); }) {
    store_.set_write_observer(&hub_);
  }
  ~FakeBackend() override {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
  }

  void propose(std::string command, Done done) override {
    post([this, command = std::move(command), done = std::move(done)] {
      if (std::optional<Status> failure = take_failure()) return done(*failure);
      Entry entry{kTerm, store_.applied_index() + 1, EntryType::kNormal, command};
      ++proposals_;
      done(store_.apply(entry, command));
    });
  }
  void read(Query query, bool linearizable, Done done) override {
    post([this, query = std::move(query), linearizable, done = std::move(done)] {
      if (linearizable) ++linearizable_reads_;
      if (std::optional<Status> failure = take_failure()) return done(*failure);
      done(query());
    });
  }
  HeaderInfo header() const override { return {kClusterId, kMemberId, kTerm}; }
  std::vector<MemberInfo> members() const override {
    return {{kMemberId, "synod-1", {"http://127.0.0.1:2380"}, {"http://127.0.0.1:2379"}, false},
            {0x2, "", {"http://127.0.0.2:2380"}, {}, true}};
  }
  RaftInfo raft() const override { return {kMemberId, kTerm, 42, 41, false}; }
  kv::WatchHub& watch_hub() override { return hub_; }
  // Records the target; fails like the node would with what fail_next() set.
  void transfer_leader(uint64_t to, Done done) override {
    post([this, to, done = std::move(done)] {
      if (std::optional<Status> failure = take_failure()) return done(*failure);
      transferred_to_ = to;
      done(std::string());
    });
  }
  uint64_t transferred_to() const { return transferred_to_; }

  // The next request (proposal or read) fails with `status` instead of running.
  void fail_next(Status status) {
    std::lock_guard lock(mutex_);
    failure_ = std::move(status);
  }
  // Counters, read on the worker thread's schedule: call after the requests completed.
  int proposals() const { return proposals_; }
  int linearizable_reads() const { return linearizable_reads_; }

 private:
  std::atomic<uint64_t> transferred_to_{0};
  void post(std::function<void()> task) {
    {
      std::lock_guard lock(mutex_);
      tasks_.push_back(std::move(task));
    }
    wake_.notify_one();
  }
  std::optional<Status> take_failure() {
    std::lock_guard lock(mutex_);
    std::optional<Status> failure = std::move(failure_);
    failure_.reset();
    return failure;
  }
  void run() {
    std::unique_lock lock(mutex_);
    while (true) {
      wake_.wait(lock, [&] { return stopping_ || !tasks_.empty(); });
      if (tasks_.empty()) return;
      std::function<void()> task = std::move(tasks_.front());
      tasks_.pop_front();
      lock.unlock();
      task();
      lock.lock();
    }
  }

  kv::MvccStore& store_;
  kv::WatchHub hub_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> tasks_;
  std::optional<Status> failure_;
  bool stopping_ = false;
  std::atomic<int> proposals_ = 0;
  std::atomic<int> linearizable_reads_ = 0;
  std::thread thread_;  // last: starts once everything above is ready
};

}  // namespace synod::api::test
