// WatchHub: where the MVCC store's writes meet the watchers of one member (etcd's watchable store, in
// Synod's own design). The store reports each applied write on the node loop thread (WriteObserver);
// watch streams (api/watch_stream.h) add and remove watchers and take what is waiting for them on gRPC
// threads. Everything is under one mutex, held only for short, bounded work.
//
// A watcher is either synced or catching up:
//  - Synced: it gets every write as it is applied. on_write() builds the write's events once
//    (kv/watch_history.h), shares them among the watchers they concern and appends a pointer to each
//    one's pending list, then wakes those watchers' streams. The loop thread never waits for a
//    stream, and never serializes anything for one.
//  - Catching up: it is fed from the store's history instead, in windows of `catch_up_revisions`
//    revisions, by catch_up(), which its stream runs as a query on the loop thread once it has sent
//    everything it had; reaching the store's revision makes it synced again (nothing can be applied in
//    between: both run on the loop thread). A watcher starts catching up when it asks for an old
//    start revision, when its pending events exceed `max_pending_events` (its client reads too slowly;
//    its memory stays bounded), and after a restore from a snapshot. If the history it needs was
//    compacted (it needs a revision below the compact revision; as in etcd, a watch from the compact
//    revision itself is served, though a delete at exactly that revision is gone from the history) it
//    is canceled with the compact revision, as etcd does; if it does not gain on the store's revision
//    over `gain_check_batches` windows it is canceled with a reason (its client reads slower than the
//    store is written: it would never be synced again). A client that reads nothing at all is the
//    stream's to notice (api/watch_stream.h: its write stalls, and the stream is canceled).
//
// Matching: watchers of a single key are in a hash map by key; watchers of a range (prefix, from-key)
// are in a list checked one by one. A write of k keys costs O(k) lookups plus O(k * R) range checks for
// R range watchers, plus building its events once if any watcher matches; a member can hold thousands
// of single-key watchers at the cost of a lookup. Each watcher costs its key(s), about 200 bytes, and
// a pointer per pending write.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "kv/mvcc_key_index.h"
#include "kv/mvcc_store.h"
#include "kv/watch_history.h"

namespace synod::kv {

inline constexpr std::string_view kWatchCompactedReason = "mvcc: required revision has been compacted";
inline constexpr std::string_view kWatchTooSlowReason =
    "synod: watcher fell too far behind the store's revision and was canceled";

struct WatchHubOptions {
  // Events a synced watcher may have waiting; one more write and it is switched to catching up.
  size_t max_pending_events = 4096;
  // Revisions one catch-up step reads from the history.
  int64_t catch_up_revisions = 1000;
  // A catching-up watcher must gain on the store: every this many windows its distance to the store's
  // revision is compared with the distance at the last comparison, and one that did not shrink is
  // canceled with kWatchTooSlowReason (0: never). A watcher replaying a long history from an old
  // revision is not canceled as long as it gains; one whose client reads slower than the store is
  // written is, after at most twice this many windows.
  size_t gain_check_batches = 64;
};

struct WatchSpec {
  KeyRange range;
  // The first revision wanted; 0 (or anything past the store's revision) means from the next write.
  int64_t start_revision = 0;
  bool no_put = false;
  bool no_delete = false;
  bool prev_kv = false;

  // Whether the watcher wants `event` (its key in range, its type not filtered out).
  bool wants(const mvccpb::Event& event) const;
};

// What a stream takes from one of its watchers.
struct WatchDelivery {
  // Its events, per revision, oldest first; prev_kv only if asked for.
  std::vector<EventBatch> batches;
  // Every event of this watcher up to this revision has now been taken: the revision a progress
  // notification may report.
  int64_t revision = 0;
  bool synced = false;
  // Catching up with nothing left pending: the stream should run catch_up() on the loop thread.
  bool needs_catch_up = false;
  bool canceled = false;
  int64_t compact_revision = 0;  // set when canceled by compaction
  std::string cancel_reason;
};

class WatchHub final : public WriteObserver {
 public:
  class Watcher;
  using WatcherPtr = std::shared_ptr<Watcher>;
  // Called without the hub's lock, on whichever thread made the watcher ready (the loop thread, mostly):
  // must be quick and must not block.
  using Wake = std::function<void()>;

  // `revision` is the store's at the moment the hub is attached to it (set_write_observer).
  explicit WatchHub(int64_t revision, WatchHubOptions options = {});
  WatchHub(const WatchHub&) = delete;
  WatchHub& operator=(const WatchHub&) = delete;

  struct Added {
    WatcherPtr watcher;
    int64_t revision = 0;  // the store's revision when the watcher was added (its created header)
  };
  // Any thread. The new watcher is synced, or catching up if it asks for a revision already applied.
  Added add(WatchSpec spec, Wake wake);
  // Any thread. The watcher gets nothing more.
  void remove(const WatcherPtr& watcher);
  // Any thread: moves out what is pending for `watcher`, filtered for it.
  WatchDelivery take(Watcher& watcher);

  // The node loop thread only (inside a query): feeds a catching-up watcher the next window of history
  // from `store`, or cancels it.
  void catch_up(Watcher& watcher, const MvccStore& store);

  // WriteObserver, on the node loop thread.
  void on_write(const MvccStore& store, int64_t revision, const std::vector<std::string>& keys) override;
  void on_restore(const MvccStore& store) override;

  // The newest revision the hub has seen applied.
  int64_t revision() const;
  size_t watcher_count() const;

 private:
  void index(const WatcherPtr& watcher);
  void unindex(const WatcherPtr& watcher);
  void cancel_locked(Watcher& watcher, int64_t compact_revision, std::string_view reason);
  template <typename Visit>
  void for_each_watcher(Visit&& visit);

  const WatchHubOptions options_;
  mutable std::mutex mutex_;
  int64_t revision_;
  uint64_t write_stamp_ =
      0;  // numbers on_write calls, so a watcher matched by several keys gets a write once
  std::unordered_map<std::string, std::vector<WatcherPtr>> single_;  // single-key watchers by key
  std::vector<WatcherPtr> ranges_;                                   // range watchers
  size_t count_ = 0;
};

}  // namespace synod::kv
