#include "sim/sim_server.h"

#include "base/assert.h"

namespace synod::sim {

void SimServer::start(const EngineFactory& factory, const std::vector<NodeId>& voters, uint64_t seed,
                      node::NodeOptions options, node::Outbox outbox) {
  Result<std::unique_ptr<Engine>> created = factory(id, voters, seed, store.state());
  SYNOD_ASSERT_MSG(created.is_ok(), created.status().to_string().c_str());
  map = std::make_unique<kv::MapStore>();
  if (const SnapshotPtr& snapshot = store.state().snapshot) {
    Status restored = map->restore(snapshot->data);
    SYNOD_ASSERT_MSG(restored.is_ok(), restored.to_string().c_str());
  }
  ++incarnation;
  options.id = id;
  options.voters = voters;
  options.incarnation = incarnation;
  node = std::make_unique<node::Node>(std::move(options), std::move(created).value(), *map, store,
                                      std::move(outbox));
}

void SimServer::crash() {
  node.reset();
  map.reset();
}

}  // namespace synod::sim
