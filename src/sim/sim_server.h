// SimServer: one Synod server inside the simulator: the real node glue (node/node.h) around an engine,
// the real replicated map (kv/map_store.h), and a DurableStore standing in for its disk. A crash
// destroys everything but the store; a restart rebuilds the engine, the map and the node from it.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "kv/map_store.h"
#include "node/node.h"
#include "sim/durable_store.h"
#include "sim/sim_node.h"

namespace synod::sim {

struct SimServer {
  NodeId id = kNoNode;
  DurableStore store;  // survives crashes
  std::unique_ptr<kv::MapStore> map;
  std::unique_ptr<node::Node> node;
  uint64_t incarnation = 0;

  bool up() const { return node != nullptr; }
  // A first start or a restart from `store`. `options` gives everything but id, voters and incarnation.
  void start(const EngineFactory& factory, const std::vector<NodeId>& voters, uint64_t seed,
             node::NodeOptions options, node::Outbox outbox);
  void crash();
};

}  // namespace synod::sim
