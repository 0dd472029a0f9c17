#include "sim/raft_engine.h"

#include "raft/raft.h"

namespace synod::sim {

EngineFactory raft_engine_factory(const raft::Config& base) {
  return [base](NodeId id, const std::vector<NodeId>& voters, uint64_t seed,
                const DurableState& durable) -> Result<std::unique_ptr<Engine>> {
    raft::Config config = base;
    config.id = id;
    config.voters = voters;
    config.seed = seed;
    Result<std::unique_ptr<raft::Raft>> created = raft::Raft::create(config, durable);
    if (!created.is_ok()) return created.status();
    return std::unique_ptr<Engine>(std::move(created).value());
  };
}

}  // namespace synod::sim
