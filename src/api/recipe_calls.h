// OpenCalls: the calls of the Lock and Election services that may wait indefinitely (Lock, Campaign,
// Observe). A stopping server closes them (they never end by themselves, and the gRPC server would
// otherwise wait out its shutdown deadline for them), as the Watch service closes its streams.
#pragma once

#include <memory>
#include <mutex>
#include <vector>

namespace synod::api::recipe {

class Closable {
 public:
  virtual ~Closable() = default;
  // Ends the call with etcd's "server stopped"; any thread.
  virtual void close() = 0;
};

class OpenCalls {
 public:
  // Any thread, quick. Calls are held weakly; finished ones are dropped as the list grows.
  void add(std::weak_ptr<Closable> call) {
    std::lock_guard lock(mutex_);
    if (calls_.size() >= prune_at_) {
      std::erase_if(calls_, [](const std::weak_ptr<Closable>& open) { return open.expired(); });
      prune_at_ = std::max<size_t>(16, 2 * calls_.size());
    }
    calls_.push_back(std::move(call));
  }
  void close_all() {
    std::vector<std::weak_ptr<Closable>> calls;
    {
      std::lock_guard lock(mutex_);
      calls.swap(calls_);
    }
    for (const std::weak_ptr<Closable>& open : calls) {
      if (std::shared_ptr<Closable> call = open.lock()) call->close();
    }
  }

 private:
  std::mutex mutex_;
  std::vector<std::weak_ptr<Closable>> calls_;
  size_t prune_at_ = 16;
};

}  // namespace synod::api::recipe
