// The factory that puts the Raft core into a Cluster (and, later, the simulator).
#pragma once

#include "raft/config.h"
#include "sim/cluster.h"

namespace synod::sim {

// Every node gets `base` with its own id, the cluster's voters and its own seed.
EngineFactory raft_engine_factory(const raft::Config& base);

}  // namespace synod::sim
