// The factory that puts the Multi-Paxos core into a Cluster or the simulator, as raft_engine.h does Raft.
#pragma once

#include "paxos/multi_config.h"
#include "sim/cluster.h"

namespace synod::sim {

// Every node gets `base` with its own id, the cluster's voters and its own seed.
EngineFactory multi_paxos_engine_factory(const paxos::MultiPaxosConfig& base);

}  // namespace synod::sim
