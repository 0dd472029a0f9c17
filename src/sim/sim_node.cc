#include "sim/sim_node.h"

#include "base/assert.h"

namespace synod::sim {

void SimNode::start(const EngineFactory& factory, const std::vector<NodeId>& voters, uint64_t seed) {
  Result<std::unique_ptr<Engine>> created = factory(id, voters, seed, store.state());
  SYNOD_ASSERT_MSG(created.is_ok(), created.status().to_string().c_str());
  engine = std::move(created).value();
  state_machine = KvStateMachine();
  if (const SnapshotPtr& snapshot = store.state().snapshot)
    SYNOD_ASSERT(state_machine.restore(snapshot->data));
  read_states.clear();
  ++incarnation;
}

std::unique_ptr<SimNode> SimNode::clone() const {
  auto copy = std::make_unique<SimNode>();
  copy->id = id;
  copy->engine = engine ? engine->clone() : nullptr;
  copy->store = store;
  copy->state_machine = state_machine;
  copy->read_states = read_states;
  copy->incarnation = incarnation;
  return copy;
}

void SimNode::crash() {
  engine.reset();
  read_states.clear();
}

void SimNode::handle_ready(const std::function<void(Message&&)>& send, ClusterObserver* observer) {
  while (engine->has_ready()) {
    Ready ready = engine->ready();
    SYNOD_ASSERT(store.persist(ready).is_ok());
    for (Message& message : ready.messages) send(std::move(message));
    if (ready.snapshot) {
      SYNOD_ASSERT(state_machine.restore(ready.snapshot->data));
      SYNOD_ASSERT(state_machine.applied_index() == ready.snapshot->meta.index);
    }
    for (const Entry& entry : ready.committed) {
      state_machine.apply(entry);
      if (observer != nullptr) observer->on_applied(id, entry.index, state_machine.chain_hash());
    }
    read_states.insert(read_states.end(), ready.read_states.begin(), ready.read_states.end());
    engine->advance();
  }
}

}  // namespace synod::sim
