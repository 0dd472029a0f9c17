// SimNode: one node of an in-memory harness (the hand-driven Cluster, the seeded Simulator): its
// engine, what it made durable, its state machine, and the code that handles a Ready in the order the
// contract in consensus/ready.h asks. A crash keeps only the DurableStore.
//
// The durable side is the seam the storage issue plugs into: a fault-injecting file system will make a
// crash lose writes that were not yet synced; DurableStore is today's always-synced stand-in.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "base/status.h"
#include "consensus/engine.h"
#include "sim/cluster_view.h"
#include "sim/durable_store.h"
#include "sim/state_machine.h"

namespace synod::sim {

// Builds an engine for `id`; `seed` differs per node and per restart.
using EngineFactory = std::function<Result<std::unique_ptr<Engine>>(
    NodeId id, const std::vector<NodeId>& voters, uint64_t seed, const DurableState& durable)>;

struct SimNode {
  NodeId id = kNoNode;
  std::unique_ptr<Engine> engine;  // null while crashed
  DurableStore store;
  KvStateMachine state_machine;
  std::vector<ReadState> read_states;
  uint64_t incarnation = 0;

  bool up() const { return engine != nullptr; }
  // A deep copy (the engine cloned), for the model checker.
  std::unique_ptr<SimNode> clone() const;
  // Builds the engine from what the node made durable: a first start or a restart.
  void start(const EngineFactory& factory, const std::vector<NodeId>& voters, uint64_t seed);
  void crash();
  // Handles every pending Ready: persist, send (through `send`), apply, serve reads, advance.
  void handle_ready(const std::function<void(Message&&)>& send, ClusterObserver* observer);
};

}  // namespace synod::sim
