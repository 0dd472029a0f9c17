// Storage: where the node makes a Ready durable (step 1 of the contract in consensus/ready.h). The
// write-ahead log implements it for the server; an in-memory store implements it for the simulator.
#pragma once

#include "base/status.h"
#include "consensus/ready.h"
#include "consensus/types.h"

namespace synod {

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
