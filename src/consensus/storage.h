// Storage: where the node makes a Ready durable (step 1 of the contract in consensus/ready.h). The
// write-ahead log implements it for the server; an in-memory store implements it for the simulator.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "base/status.h"
#include "consensus/ready.h"
#include "consensus/types.h"

namespace synod {

// A snapshot written as the state machine encodes it (Node::maybe_snapshot), so that memory never holds
// the whole encoding of a large store. Destroying a sink before finish() abandons the snapshot.
class SnapshotSink {
 public:
  virtual ~SnapshotSink() = default;
  // The next bytes of the snapshot's data.
  virtual Status append(std::string bytes) = 0;
  // Bytes taken but not yet written out: while the disk is behind, the node encodes no more.
  virtual size_t backlog_bytes() const { return 0; }
  // Every byte was appended: make the snapshot durable, in place of save_snapshot(). Once it is,
  // reloadable_snapshot_index() reaches its index: at once, or (for storage that writes in the
  // background) at a later persist().
  virtual Status finish() = 0;
};

class Storage {
 public:
  virtual ~Storage() = default;

  // Makes the snapshot (replacing every stored entry), then the entries (replacing a conflicting
  // suffix), then the hard state durable. An error means the disk failed: the node must stop and
  // recover from what is on disk, never retry (a failed fsync may have dropped the dirty pages).
  virtual Status persist(const Ready& ready) = 0;

  // The application snapshotted its state machine at snapshot->meta.index: keep the snapshot; the
  // entries it covers may go.
  virtual Status save_snapshot(SnapshotPtr snapshot) = 0;
  // The same, streamed: the state machine's snapshot at `meta` arrives a slice at a time. The default
  // gathers it in memory and calls save_snapshot(). An error means the disk failed.
  virtual Result<std::unique_ptr<SnapshotSink>> begin_snapshot(const SnapshotMeta& meta);

  // The index of the newest snapshot that is durable here and that reload_snapshot() can read back; 0
  // if none (or if this storage cannot read snapshots back, so the engine must keep their bytes).
  virtual Index reloadable_snapshot_index() const { return 0; }
  // Reads back the bytes of the durable snapshot at `meta`, to refill a detached snapshot
  // (consensus/types.h) before it goes to a follower. An error means the disk failed or the file is
  // damaged.
  virtual Result<SnapshotPtr> reload_snapshot(const SnapshotMeta& meta) {
    (void)meta;
    return Status(ErrorCode::kNotFound, "this storage keeps no snapshots to read back");
  }
};

}  // namespace synod
