// TimedStorage: a Storage that measures how long the one it wraps takes to persist, so that a node loop
// held up for long (node/node_runner.h, TurnTiming) can say whether the disk held it. For the loop
// thread only, like the Storage it wraps.
#pragma once

#include <chrono>
#include <memory>
#include <utility>

#include "consensus/storage.h"

namespace synod::node {

class TimedStorage final : public Storage {
 public:
  explicit TimedStorage(Storage& inner) : inner_(inner) {}

  Status persist(const Ready& ready) override {
    auto start = std::chrono::steady_clock::now();
    Status status = inner_.persist(ready);
    persisting_ += std::chrono::steady_clock::now() - start;
    return status;
  }
  Status save_snapshot(SnapshotPtr snapshot) override { return inner_.save_snapshot(std::move(snapshot)); }
  Result<std::unique_ptr<SnapshotSink>> begin_snapshot(const SnapshotMeta& meta) override {
    return inner_.begin_snapshot(meta);
  }
  Index reloadable_snapshot_index() const override { return inner_.reloadable_snapshot_index(); }
  Result<SnapshotPtr> reload_snapshot(const SnapshotMeta& meta) override {
    return inner_.reload_snapshot(meta);
  }

  // The time spent in persist() since the last call.
  std::chrono::nanoseconds take_persist_time() { return std::exchange(persisting_, {}); }

 private:
  Storage& inner_;
  std::chrono::nanoseconds persisting_{0};
};

}  // namespace synod::node
