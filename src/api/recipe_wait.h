// PredecessorWait: a contender's wait for its turn. The contender whose key was created at revision R
// under `prefix` holds the lock (or leads) once no key under the prefix has a create revision below R.
// Keys created later never jump ahead (their revisions are higher), so it is enough to wait for the
// contender just ahead (the highest create revision below R) to be deleted, then look again; a waiter
// is woken by that one delete, not by every change of the queue (no herd).
//
// No polling: each look is a query on the node loop thread (Backend::read), and when someone is ahead it
// registers a WatchHub watcher on that key in the same query, so no delete applied in between is missed
// (the hub and the store change only on the loop thread). The watcher asks for deletes only. A watcher
// the hub switches to catching up (a restore from a snapshot) or cancels just triggers another look.
//
// Looks are serializable reads of this member's applied state. That is safe: the keys ahead can only
// disappear, so "none ahead" stays true once seen; and the contender's own key is checked in the same
// look (a key lost to its lease's expiry ends the wait with `expired`).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "api/backend.h"
#include "kv/mvcc_store.h"
#include "kv/watch_hub.h"

namespace synod::api::recipe {

class PredecessorWait final : public std::enable_shared_from_this<PredecessorWait> {
 public:
  // The store's revision when no contender was left ahead, or why the wait failed.
  using Done = std::function<void(Result<int64_t>)>;

  // Starts waiting for the contender whose key `key` was created at `create_revision`. `done` runs once
  // (on the loop thread, or the caller's if the node has stopped) unless cancel() comes first.
  static std::shared_ptr<PredecessorWait> start(Backend& backend, const kv::MvccStore& store,
                                                std::string prefix, std::string key, int64_t create_revision,
                                                Status expired, Done done);
  PredecessorWait(Backend& backend, const kv::MvccStore& store, std::string prefix, std::string key,
                  int64_t create_revision, Status expired, Done done);
  ~PredecessorWait();
  PredecessorWait(const PredecessorWait&) = delete;
  PredecessorWait& operator=(const PredecessorWait&) = delete;

  // Any thread. Stops the wait; `done` is then never called. False if `done` was already called (or is
  // being called).
  bool cancel();

 private:
  enum class Outcome { kWaiting, kHeld, kExpired, kFailed };

  // Queues a look on the loop thread.
  void look();
  // On the loop thread: decides the outcome and, when someone is ahead, registers the watcher.
  void probe();
  void probed(const Status& status);
  void on_wake(uint64_t generation);

  Backend& backend_;
  const kv::MvccStore& store_;
  const std::string prefix_;
  const std::string key_;
  const int64_t create_revision_;
  const Status expired_;
  Done done_;

  std::mutex mutex_;
  bool settled_ = false;     // done_ called or cancelled
  uint64_t generation_ = 0;  // numbers watchers, so a wake from a removed one is ignored
  kv::WatchHub::WatcherPtr watcher_;
  Outcome outcome_ = Outcome::kWaiting;
  int64_t held_revision_ = 0;
  Status failure_;
};

}  // namespace synod::api::recipe
