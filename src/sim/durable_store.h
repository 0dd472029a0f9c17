// DurableStore: an in-memory stand-in for a node's disk, fed by the Ready contract (consensus/ready.h).
// What it holds is exactly what a crashed node gets back on restart.
#pragma once

#include "consensus/ready.h"
#include "consensus/types.h"

namespace synod::sim {

class DurableStore {
 public:
  // Step 1 of handling a Ready: the snapshot, then the entries (replacing a conflicting suffix), then
  // the hard state.
  void persist(const Ready& ready);
  // The application snapshotted and the engine compacted: keep the snapshot, drop the entries it covers.
  void save_snapshot(SnapshotPtr snapshot);

  const DurableState& state() const { return state_; }

 private:
  DurableState state_;
};

}  // namespace synod::sim
