// DurableStore: an in-memory stand-in for a node's disk, fed by the Ready contract (consensus/ready.h).
// What it holds is exactly what a crashed node gets back on restart. The storage issue's WAL, over a
// fault-injecting file system, takes its place to make crashes lose unsynced writes.
#pragma once

#include "consensus/ready.h"
#include "consensus/storage.h"
#include "consensus/types.h"

namespace synod::sim {

class DurableStore final : public Storage {
 public:
  // Step 1 of handling a Ready: the snapshot, then the entries (replacing a conflicting suffix), then
  // the hard state. Never fails: this disk is perfect.
  Status persist(const Ready& ready) override;
  // The application snapshotted and the engine compacted: keep the snapshot, drop the entries it covers.
  Status save_snapshot(SnapshotPtr snapshot) override;
  // The snapshot held here can be read back, so nodes on this store run the same detach-and-refill
  // path as on disk (consensus/types.h).
  Index reloadable_snapshot_index() const override;
  Result<SnapshotPtr> reload_snapshot(const SnapshotMeta& meta) override;

  const DurableState& state() const { return state_; }

 private:
  DurableState state_;
};

}  // namespace synod::sim
