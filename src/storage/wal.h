// Wal: Synod's write-ahead log. It keeps a node's Raft entries, hard state and snapshot markers in
// segment files of checksummed records (storage/record.h, storage/segment.h) and recovers them after a
// crash, refusing to start rather than start with damaged or missing data.
//
// Writing: append() writes one batch (a batch record, the entries, the hard state) with one write and
// one fdatasync. A segment that would overflow is sealed and a new one started: written under a
// temporary name with its header and the current hard state and snapshot marker, synced, renamed,
// and the directory synced. Any failed write or sync is fatal: the Wal refuses everything after it
// (a retried fsync may report success for data the kernel already dropped), and the node must stop
// and recover from what is on disk.
//
// Recovery (open()): segments in sequence order, records in each. Where the records stop, bytes that
// are not zero are either a torn tail or damage:
//   - in the last segment, if nothing after them proves they had been synced, they are the torn tail
//     of the batch being written at the crash: they are truncated, and a note says how many bytes;
//   - anywhere else, or when a later batch record says that offset was already durable, it is
//     corruption: open() fails naming the file, the offset, the last good index and the way out.
// Entries must run without a gap from the snapshot marker (or the first segment's first index).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "consensus/types.h"
#include "storage/file_system.h"
#include "storage/record.h"

namespace synod::storage {

struct WalOptions {
  std::string dir;
  uint64_t cluster_id = 0;
  NodeId node_id = kNoNode;
  uint64_t segment_bytes = uint64_t{64} << 20U;  // preallocated per segment
  // Inspect without changing anything (synodctl wal verify): recovery reports what it would repair,
  // takes the cluster and node id from the first segment, and every write is refused.
  bool read_only = false;
  // Write zeros over a new segment instead of only reserving it (costs one sequential write per
  // segment; makes every later sync cheaper on ext4). Tests on small in-memory disks turn it off.
  bool zero_fill = true;
  // Told how long each batch's write and sync took (for the server's fsync histogram and slow-disk
  // logs). Only a real server sets it: the wall clock never reaches the simulator through here.
  std::function<void(uint64_t bytes, std::chrono::nanoseconds took)> on_sync = nullptr;
  // What a snapshot marker the log does not continue (one installed from the leader) does to the
  // entries after it. Raft (false): they are a stale branch and go with the rest. Multi-Paxos (true):
  // they are slots this acceptor accepted, which it must never forget; only what the snapshot covers
  // goes (paxos/slot_log.h).
  bool keep_entries_after_snapshot = false;
#if SYNOD_BUG_INJECTION
  // Test-only: acknowledge batches without syncing them, to prove crash tests catch a lost write.
  bool bug_skip_sync = false;
#endif
};

// What recovery found.
struct WalContents {
  HardState hard_state;
  SnapshotRecord snapshot;  // the newest snapshot marker (index 0: none)
  // Every entry the log still holds, contiguous. They may start at or before snapshot.index: a log
  // that still covers an older snapshot lets recovery fall back to it if the newest one is damaged.
  std::vector<Entry> entries;
  // What recovery repaired, for the log: "truncated a torn tail of N bytes in FILE at offset X".
  std::vector<std::string> notes;
  uint64_t cluster_id = 0;  // read-only opens: from the first segment's header
  NodeId node_id = kNoNode;
};

class Wal {
 public:
  // Opens the log in options.dir (creating it if empty) and recovers its contents.
  static Result<std::unique_ptr<Wal>> open(FileSystem& fs, const WalOptions& options, WalContents& contents);
  ~Wal();
  Wal(const Wal&) = delete;
  Wal& operator=(const Wal&) = delete;

  // Appends one batch and makes it durable: `entries` (replacing every stored entry from the first
  // one's index on), then `hard_state`. Entries must continue the log or overwrite part of it.
  Status append(const std::vector<Entry>& entries, const std::optional<HardState>& hard_state);
  // Records that a snapshot at (index, term) is durable. If the log does not continue it (no entry
  // that far, or another term there), every stored entry is dropped: an installed snapshot replaces
  // the log. Entries up to it stay until release_through().
  Status append_snapshot(const SnapshotRecord& snapshot);
  // Deletes the oldest segments while every entry in them is at or before `index` (never the one
  // being written), oldest first, syncing the directory after each.
  Status release_through(Index index);

  // Entries in [from, to) that the log holds, read back from disk.
  Result<std::vector<Entry>> read(Index from, Index to);

  Index first_index() const;  // of the entries held (last_index() + 1 if none)
  Index last_index() const;
  size_t segment_count() const { return segments_.size(); }
  // Segment file names, oldest first.
  std::vector<std::string> segment_names() const;
  // The error that stopped the log, or ok.
  const Status& failure() const { return failure_; }

 private:
  struct Segment {
    uint64_t sequence = 0;
    Index first_index = 0;
    std::string name;
    Index max_index = 0;  // the highest entry index written into it (0: none)
  };
  struct Location {
    uint64_t sequence = 0;
    uint64_t offset = 0;
    uint64_t size = 0;
    Term term = 0;
  };
  // Where each held entry is, by index. The entries held are always a run without a gap (appends
  // continue it or cut a suffix and continue from there; snapshots and released segments drop a prefix),
  // so this is an array from first(), not a tree: 32 bytes per entry instead of a map node's 80, and a
  // lookup is an offset. Segments hold their runs in order, so a released segment's entries are a prefix.
  class Locations {
   public:
    bool empty() const { return all_.empty(); }
    Index first() const { return first_; }
    const Location* find(Index index) const {
      return index >= first_ && index - first_ < all_.size() ? &all_[index - first_] : nullptr;
    }
    // Drops the entries at `index` and after.
    void erase_from(Index index);
    // Drops the entries at `index` and before.
    void erase_through(Index index);
    void clear() { all_.clear(); }
    // `index` must continue the run (after erase_from(index), say).
    void push(Index index, const Location& location);
    // Drops the oldest entries while they sit in segment `sequence`.
    void release_segment(uint64_t sequence);

   private:
    Index first_ = 0;
    std::deque<Location> all_;
  };

  Wal(FileSystem& fs, WalOptions options);
  Status recover(WalContents& contents);
  Status recover_segment(Segment& segment, bool last, WalContents& contents);
  Status apply_record(const Record& record, const Segment& segment, uint64_t offset, uint64_t size,
                      WalContents& contents);
  Status start_segment(Index first_index);
  Status write_batch(const std::string& bytes, bool sync);
  Status fail(const Status& status);
  Status corruption(const Segment& segment, uint64_t offset, const std::string& problem) const;
  std::string path(const std::string& name) const { return join_path(options_.dir, name); }
  void encode_batch_header(std::string& out);

  FileSystem& fs_;
  WalOptions options_;
  std::vector<Segment> segments_;
  std::unique_ptr<File> current_;
  uint64_t write_offset_ = 0;
  uint64_t synced_offset_ = 0;
  uint64_t batch_sequence_ = 0;
  HardState hard_state_;
  SnapshotRecord snapshot_;
  Locations index_;                                    // where each held entry is
  std::map<uint64_t, std::unique_ptr<File>> readers_;  // sealed segments opened by read()
  Index recovered_last_ = 0;                           // during recovery: the last good entry so far
  Index last_index_ = 0;
  Status failure_;
};

}  // namespace synod::storage
