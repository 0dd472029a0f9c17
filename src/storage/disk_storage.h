// DiskStorage: a node's durable state on a FileSystem: the write-ahead log in DIR/wal and snapshot
// files in DIR/snap. It implements the Storage seam the node glue persists through, and on open it
// recovers the DurableState a core restarts from.
//
// Snapshots: the newest two are kept, and the log keeps every entry after the older of them, so a
// damaged newest snapshot can fall back to the older one with the log covering the gap. When the
// log does not cover it, open() refuses to start rather than start with a hole.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "consensus/storage.h"
#include "storage/file_system.h"
#include "storage/snapshot_store.h"
#include "storage/wal.h"

namespace synod::storage {

struct DiskStorageOptions {
  std::string dir;
  uint64_t cluster_id = 0;
  NodeId node_id = kNoNode;
  uint64_t segment_bytes = uint64_t{64} << 20U;
  size_t snapshots_kept = 2;
  // Recover and report without changing anything (synodctl wal verify); every write is refused.
  bool read_only = false;
  // A snapshot's file is written and synced on a thread of its own: the sink of begin_snapshot() only
  // queues each slice, and save_snapshot() returns at once. The log's marker (which lets older
  // segments go) is written by the first persist() after the file is durable. The node loop then
  // never stalls for the seconds a large store's snapshot takes to reach the disk.
  // Needs a FileSystem that may be used from two threads (PosixFileSystem); off for the fault-injecting
  // one of the tests.
  bool background_snapshots = false;
  std::function<void(uint64_t bytes, std::chrono::nanoseconds took)> on_sync = nullptr;  // see WalOptions
  // Multi-Paxos: a snapshot the log does not continue replaces only the entries it covers (see
  // WalOptions::keep_entries_after_snapshot), also when recovery adopts a snapshot file whose marker
  // a crash cut off.
  bool keep_entries_after_snapshot = false;
#if SYNOD_BUG_INJECTION
  bool bug_skip_sync = false;  // test-only: see WalOptions
#endif
};

class DiskStorage final : public Storage {
 public:
  // Recovers what the node made durable into `state`; `notes` says what recovery repaired (for the
  // log). Fails with kCorruption (naming the file, offset and the way out) on damage it must not
  // paper over.
  static Result<std::unique_ptr<DiskStorage>> open(FileSystem& fs, const DiskStorageOptions& options,
                                                   DurableState& state, std::vector<std::string>& notes);

  ~DiskStorage() override;
  DiskStorage(const DiskStorage&) = delete;
  DiskStorage& operator=(const DiskStorage&) = delete;

  Status persist(const Ready& ready) override;
  Status save_snapshot(SnapshotPtr snapshot) override;
  // One snapshot at a time: beginning one first settles the one before (waiting for its file), and
  // abandons it if its sink never finished.
  Result<std::unique_ptr<SnapshotSink>> begin_snapshot(const SnapshotMeta& meta) override;
  Index reloadable_snapshot_index() const override { return marked_snapshot_index_; }
  Result<SnapshotPtr> reload_snapshot(const SnapshotMeta& meta) override;

  Wal& wal() { return *wal_; }
  // A read-only open learns these from the log's first segment.
  uint64_t cluster_id() const { return options_.cluster_id; }
  NodeId node_id() const { return options_.node_id; }

 private:
  // A snapshot file being written on the writer thread: the slices its sink queued, and the result.
  struct Stream {
    explicit Stream(SnapshotMeta snapshot_meta) : meta(std::move(snapshot_meta)) {}
    const SnapshotMeta meta;
    std::mutex mutex;
    std::condition_variable wake;
    std::deque<std::string> queue;  // the rest, guarded by mutex
    size_t queued_bytes = 0;
    bool finished = false;         // every slice was queued
    bool abandoned = false;        // the sink went away unfinished, or the storage gave up on it
    std::optional<Status> result;  // set by the writer thread as it stops
    Index oldest_kept = 0;         // with an ok result: the oldest snapshot file left
  };
  class DirectSink;
  class BackgroundSink;

  DiskStorage(FileSystem& fs, DiskStorageOptions options);
  Status keep_snapshot(const Snapshot& snapshot);
  // The second half of keeping a snapshot, once its file is durable: the log's marker, and old segments go.
  // `oldest_kept`: the older files are already gone (the writer thread removes them) and this is the
  // oldest left; else they go here.
  Status mark_snapshot(const SnapshotMeta& meta, std::optional<Index> oldest_kept);
  // The writer thread's loop: the file, then the removal of files older than the `keep` newest.
  static void write_stream(SnapshotStore& snapshots, size_t keep, Stream& stream);
  // Settles a background snapshot write: waits for it if `wait` (abandoning it if it is unfinished),
  // else only if it is done already.
  Status settle_background(bool wait);

  FileSystem& fs_;
  DiskStorageOptions options_;
  std::unique_ptr<Wal> wal_;
  SnapshotStore snapshots_;
  // The newest snapshot whose file is durable and marked in the log (or that recovery started from).
  Index marked_snapshot_index_ = 0;
  Status failure_;
  // The snapshot being written in the background, shared with its sink and the writer thread.
  std::shared_ptr<Stream> background_;
  std::thread writer_;
};

}  // namespace synod::storage
