#include "sim/paxos_engine.h"

#include "paxos/multi_paxos.h"

namespace synod::sim {

EngineFactory multi_paxos_engine_factory(const paxos::MultiPaxosConfig& base) {
  return [base](NodeId id, const std::vector<NodeId>& voters, uint64_t seed,
                const DurableState& durable) -> Result<std::unique_ptr<Engine>> {
    paxos::MultiPaxosConfig config = base;
    config.id = id;
    config.voters = voters;
    config.seed = seed;
    Result<std::unique_ptr<paxos::MultiPaxos>> created = paxos::MultiPaxos::create(config, durable);
    if (!created.is_ok()) return created.status();
    return std::unique_ptr<Engine>(std::move(created).value());
  };
}

}  // namespace synod::sim
