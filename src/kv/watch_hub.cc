#include "kv/watch_hub.h"

#include <algorithm>
#include <cstdint>
#include <utility>

namespace synod::kv {

class WatchHub::Watcher {
 public:
  enum class State { kSynced, kCatchingUp, kCanceled, kRemoved };

  Watcher(WatchSpec spec, Wake wake) : spec(std::move(spec)), wake(std::move(wake)) {}

  void start_catching_up(int64_t from) {
    state = State::kCatchingUp;
    next_revision = from;
    batches_since_check = 0;
    distance_at_check = INT64_MAX;
  }

  // Fixed at creation: read without the hub's lock.
  const WatchSpec spec;
  const Wake wake;

  // The rest is under the hub's lock.
  State state = State::kSynced;
  int64_t min_revision = 0;   // synced: writes before this revision are not for this watcher
  int64_t next_revision = 0;  // catching up: the first revision not yet pending
  std::vector<std::shared_ptr<const EventBatch>> pending;
  size_t pending_events = 0;  // events in `pending` this watcher wants
  // Catching up: windows since the last gain check, and the distance to the store's revision then.
  size_t batches_since_check = 0;
  int64_t distance_at_check = INT64_MAX;
  uint64_t stamp = 0;  // the last on_write that matched it
  int64_t compact_revision = 0;
  std::string cancel_reason;
};

namespace {

size_t wanted_events(const WatchSpec& spec, const EventBatch& batch) {
  return static_cast<size_t>(std::count_if(batch.events.begin(), batch.events.end(),
                                           [&](const mvccpb::Event& event) { return spec.wants(event); }));
}

}  // namespace

bool WatchSpec::wants(const mvccpb::Event& event) const {
  if (event.type() == mvccpb::Event::PUT ? no_put : no_delete) return false;
  return range.contains(event.kv().key());
}

WatchHub::WatchHub(int64_t revision, WatchHubOptions options) : options_(options), revision_(revision) {}

WatchHub::Added WatchHub::add(WatchSpec spec, Wake wake) {
  auto watcher = std::make_shared<Watcher>(std::move(spec), std::move(wake));
  std::lock_guard lock(mutex_);
  int64_t start = watcher->spec.start_revision;
  if (start <= 0 || start > revision_) {
    watcher->state = Watcher::State::kSynced;
    watcher->min_revision = std::max(start, revision_ + 1);
  } else {
    watcher->start_catching_up(start);
  }
  index(watcher);
  return {watcher, revision_};
}

void WatchHub::remove(const WatcherPtr& watcher) {
  std::lock_guard lock(mutex_);
  if (watcher->state == Watcher::State::kRemoved) return;
  unindex(watcher);
  watcher->state = Watcher::State::kRemoved;
  watcher->pending.clear();
  watcher->pending_events = 0;
}

WatchDelivery WatchHub::take(Watcher& watcher) {
  WatchDelivery delivery;
  std::vector<std::shared_ptr<const EventBatch>> pending;
  {
    std::lock_guard lock(mutex_);
    pending.swap(watcher.pending);
    watcher.pending_events = 0;
    switch (watcher.state) {
      case Watcher::State::kSynced:
        delivery.synced = true;
        delivery.revision = revision_;
        break;
      case Watcher::State::kCatchingUp:
        delivery.needs_catch_up = true;
        delivery.revision = watcher.next_revision - 1;
        break;
      case Watcher::State::kCanceled:
        delivery.canceled = true;
        delivery.compact_revision = watcher.compact_revision;
        delivery.cancel_reason = watcher.cancel_reason;
        delivery.revision = revision_;
        break;
      case Watcher::State::kRemoved: break;
    }
  }
  // Filtering and copying happen outside the lock: the batches are shared and never change.
  const WatchSpec& spec = watcher.spec;
  for (const std::shared_ptr<const EventBatch>& batch : pending) {
    EventBatch mine{batch->revision, {}};
    for (const mvccpb::Event& event : batch->events) {
      if (!spec.wants(event)) continue;
      mine.events.push_back(event);
      if (!spec.prev_kv) mine.events.back().clear_prev_kv();
    }
    if (!mine.events.empty()) delivery.batches.push_back(std::move(mine));
  }
  return delivery;
}

void WatchHub::catch_up(Watcher& watcher, const MvccStore& store) {
  int64_t from = 0;
  {
    std::lock_guard lock(mutex_);
    // Only once what it had is taken, so a watcher holds at most one window at a time.
    if (watcher.state != Watcher::State::kCatchingUp || !watcher.pending.empty()) return;
    from = watcher.next_revision;
    if (from < store.compact_revision()) {
      cancel_locked(watcher, store.compact_revision(), kWatchCompactedReason);
      from = 0;
    }
  }
  if (from == 0) {
    watcher.wake();
    return;
  }
  // The store is only read here, on the loop thread; the hub's lock is not needed for it.
  int64_t upto = std::min(store.revision(), from - 1 + options_.catch_up_revisions);
  std::vector<EventBatch> batches = history_events(store.index(), watcher.spec.range, from - 1, upto);
  {
    std::lock_guard lock(mutex_);
    if (watcher.state != Watcher::State::kCatchingUp) return;
    for (EventBatch& batch : batches) {
      size_t wanted = wanted_events(watcher.spec, batch);
      if (wanted == 0) continue;
      watcher.pending.push_back(std::make_shared<const EventBatch>(std::move(batch)));
      watcher.pending_events += wanted;
    }
    watcher.next_revision = upto + 1;
    if (upto >= store.revision()) {
      // Nothing can be applied between this and the next on_write: both run on the loop thread.
      watcher.state = Watcher::State::kSynced;
      watcher.min_revision = std::max(watcher.min_revision, upto + 1);
    } else if (options_.gain_check_batches != 0 &&
               ++watcher.batches_since_check >= options_.gain_check_batches) {
      int64_t distance = store.revision() - upto;
      if (distance >= watcher.distance_at_check) {
        cancel_locked(watcher, 0, kWatchTooSlowReason);
      } else {
        watcher.distance_at_check = distance;
        watcher.batches_since_check = 0;
      }
    }
  }
  watcher.wake();
}

void WatchHub::on_write(const MvccStore& store, int64_t revision, const std::vector<std::string>& keys) {
  std::vector<WatcherPtr> woken;
  {
    // One critical section: a stream that sees the new revision (take(), add()) must also see this
    // write's events pending, or know they are not for it.
    std::lock_guard lock(mutex_);
    revision_ = revision;
    if (count_ == 0) return;
    ++write_stamp_;
    std::vector<WatcherPtr> matched;
    auto consider = [&](const WatcherPtr& watcher) {
      if (watcher->stamp == write_stamp_) return;
      watcher->stamp = write_stamp_;
      if (watcher->state == Watcher::State::kSynced && revision >= watcher->min_revision) {
        matched.push_back(watcher);
      }
    };
    for (const std::string& key : keys) {
      if (auto found = single_.find(key); found != single_.end()) {
        for (const WatcherPtr& watcher : found->second) consider(watcher);
      }
      for (const WatcherPtr& watcher : ranges_) {
        if (watcher->spec.range.contains(key)) consider(watcher);
      }
    }
    if (matched.empty()) return;
    // Built once and shared by every watcher it concerns.
    auto batch = std::make_shared<const EventBatch>(write_events(store.index(), revision, keys));
    for (WatcherPtr& watcher : matched) {
      size_t wanted = wanted_events(watcher->spec, *batch);
      if (wanted == 0) continue;
      if (watcher->pending_events + wanted > options_.max_pending_events) {
        // Too slow to keep up live: it reads this write and the rest from the history later.
        watcher->start_catching_up(revision);
      } else {
        watcher->pending.push_back(batch);
        watcher->pending_events += wanted;
      }
      woken.push_back(std::move(watcher));
    }
  }
  for (const WatcherPtr& watcher : woken) watcher->wake();
}

void WatchHub::on_restore(const MvccStore& store) {
  std::vector<WatcherPtr> woken;
  {
    std::lock_guard lock(mutex_);
    int64_t before = revision_;
    revision_ = store.revision();
    // The snapshot replaced the history between the old revision and the new one: every synced watcher
    // reads that part from the store's history (or learns it was compacted).
    for_each_watcher([&](const WatcherPtr& watcher) {
      if (watcher->state != Watcher::State::kSynced) return;
      watcher->start_catching_up(std::max(before + 1, watcher->min_revision));
      woken.push_back(watcher);
    });
  }
  for (const WatcherPtr& watcher : woken) watcher->wake();
}

int64_t WatchHub::revision() const {
  std::lock_guard lock(mutex_);
  return revision_;
}

size_t WatchHub::watcher_count() const {
  std::lock_guard lock(mutex_);
  return count_;
}

void WatchHub::index(const WatcherPtr& watcher) {
  if (watcher->spec.range.kind == KeyRange::Kind::kSingle) {
    single_[watcher->spec.range.begin].push_back(watcher);
  } else {
    ranges_.push_back(watcher);
  }
  ++count_;
}

void WatchHub::unindex(const WatcherPtr& watcher) {
  auto drop = [&](std::vector<WatcherPtr>& list) {
    auto found = std::find(list.begin(), list.end(), watcher);
    if (found == list.end()) return;
    *found = std::move(list.back());
    list.pop_back();
  };
  if (watcher->spec.range.kind == KeyRange::Kind::kSingle) {
    auto found = single_.find(watcher->spec.range.begin);
    if (found == single_.end()) return;
    drop(found->second);
    if (found->second.empty()) single_.erase(found);
  } else {
    drop(ranges_);
  }
  --count_;
}

void WatchHub::cancel_locked(Watcher& watcher, int64_t compact_revision, std::string_view reason) {
  watcher.state = Watcher::State::kCanceled;
  watcher.compact_revision = compact_revision;
  watcher.cancel_reason = std::string(reason);
}

template <typename Visit>
void WatchHub::for_each_watcher(Visit&& visit) {
  for (auto& [key, watchers] : single_) {
    for (const WatcherPtr& watcher : watchers) visit(watcher);
  }
  for (const WatcherPtr& watcher : ranges_) visit(watcher);
}

}  // namespace synod::kv
