#include "api/recipe_wait.h"

#include <optional>
#include <utility>

#include "api/recipe_keys.h"

namespace synod::api::recipe {

std::shared_ptr<PredecessorWait> PredecessorWait::start(Backend& backend, const kv::MvccStore& store,
                                                        std::string prefix, std::string key,
                                                        int64_t create_revision, Status expired, Done done) {
  auto wait = std::make_shared<PredecessorWait>(backend, store, std::move(prefix), std::move(key),
                                                create_revision, std::move(expired), std::move(done));
  wait->look();
  return wait;
}

PredecessorWait::PredecessorWait(Backend& backend, const kv::MvccStore& store, std::string prefix,
                                 std::string key, int64_t create_revision, Status expired, Done done)
    : backend_(backend),
      store_(store),
      prefix_(std::move(prefix)),
      key_(std::move(key)),
      create_revision_(create_revision),
      expired_(std::move(expired)),
      done_(std::move(done)) {}

PredecessorWait::~PredecessorWait() {
  if (watcher_) backend_.watch_hub().remove(watcher_);
}

bool PredecessorWait::cancel() {
  kv::WatchHub::WatcherPtr watcher;
  {
    std::lock_guard lock(mutex_);
    if (settled_) return false;
    settled_ = true;
    ++generation_;
    watcher = std::move(watcher_);
    watcher_.reset();
  }
  if (watcher) backend_.watch_hub().remove(watcher);
  return true;
}

void PredecessorWait::look() {
  std::shared_ptr<PredecessorWait> self = shared_from_this();
  backend_.read(
      [self] {
        self->probe();
        return std::string();
      },
      /*linearizable=*/false, [self](Result<std::string> result) { self->probed(result.status()); });
}

void PredecessorWait::probe() {
  std::lock_guard lock(mutex_);
  if (settled_) return;
  Result<etcdserverpb::RangeResponse> ahead = store_.range(last_created_up_to(prefix_, create_revision_ - 1));
  if (!ahead.is_ok()) {
    outcome_ = Outcome::kFailed;
    failure_ = ahead.status();
    return;
  }
  if (ahead.value().kvs_size() > 0) {
    kv::WatchSpec spec;
    spec.range = kv::KeyRange::of(ahead.value().kvs(0).key(), "");
    spec.no_put = true;  // a put (a proclaim, a re-lock) does not move the queue
    uint64_t generation = ++generation_;
    std::weak_ptr<PredecessorWait> weak = weak_from_this();
    // From the next write: this runs on the loop thread, so nothing is applied before the watcher exists.
    watcher_ = backend_.watch_hub()
                   .add(std::move(spec),
                        [weak, generation] {
                          if (std::shared_ptr<PredecessorWait> self = weak.lock()) self->on_wake(generation);
                        })
                   .watcher;
    outcome_ = Outcome::kWaiting;
    return;
  }
  etcdserverpb::RangeRequest mine;
  mine.set_key(key_);
  Result<etcdserverpb::RangeResponse> own = store_.range(mine);
  if (own.is_ok() && own.value().kvs_size() == 1 &&
      own.value().kvs(0).create_revision() == create_revision_) {
    outcome_ = Outcome::kHeld;
    held_revision_ = store_.revision();
  } else {
    outcome_ = Outcome::kExpired;
  }
}

void PredecessorWait::probed(const Status& status) {
  std::optional<Result<int64_t>> result;
  {
    std::lock_guard lock(mutex_);
    if (settled_) return;
    if (!status.is_ok()) {
      result.emplace(status);
    } else {
      switch (outcome_) {
        case Outcome::kWaiting: return;
        case Outcome::kHeld: result.emplace(held_revision_); break;
        case Outcome::kExpired: result.emplace(expired_); break;
        case Outcome::kFailed: result.emplace(failure_); break;
      }
    }
    settled_ = true;
  }
  done_(std::move(*result));
}

void PredecessorWait::on_wake(uint64_t generation) {
  kv::WatchHub::WatcherPtr watcher;
  {
    std::lock_guard lock(mutex_);
    if (settled_ || generation != generation_ || !watcher_) return;
    watcher = watcher_;
  }
  kv::WatchDelivery delivery = backend_.watch_hub().take(*watcher);
  if (delivery.batches.empty() && !delivery.needs_catch_up && !delivery.canceled) return;
  {
    std::lock_guard lock(mutex_);
    if (settled_ || generation != generation_) return;
    ++generation_;
    watcher_.reset();
  }
  backend_.watch_hub().remove(watcher);
  look();
}

}  // namespace synod::api::recipe
