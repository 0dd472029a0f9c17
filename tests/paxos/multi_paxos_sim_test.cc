// Multi-Paxos in the deterministic simulator, exactly as Raft runs there (the real node glue, the
// replicated map, the real storage on a faulty disk): every fault mix keeps the invariants (in their
// Multi-Paxos form) and every client history linearizable.
#include <string>

#include <gtest/gtest.h>

#include "check/sim_run.h"
#include "paxos/multi_config.h"
#include "sim/paxos_engine.h"
#include "sim/simulator.h"

namespace synod::paxos {
namespace {

sim::SimulatorOptions short_run(uint64_t seed, const std::string& faults) {
  sim::SimulatorOptions options;
  options.seed = seed;
  options.faults = sim::FaultMix::parse(faults).value();
  options.fault_duration_us = 3'000'000;
  options.liveness_duration_us = 20'000'000;
  options.keep_entries_after_snapshot = true;
  return options;
}

check::SimRun run(const sim::SimulatorOptions& options, const MultiPaxosConfig& config = {}) {
  return check::run_checked(options, sim::multi_paxos_engine_factory(config), {},
                            check::Protocol::kMultiPaxos);
}

class MultiPaxosSweep : public ::testing::TestWithParam<const char*> {};

TEST_P(MultiPaxosSweep, everySeedIsSafeLiveAndLinearizable) {
  for (uint64_t seed = 1; seed <= 12; ++seed) {
    check::SimRun result = run(short_run(seed, GetParam()));
    EXPECT_TRUE(result.ok()) << "seed " << seed << ": " << result.failure;
    EXPECT_GT(result.result.committed, 0U) << "seed " << seed;
    EXPECT_GT(result.result.ops_ok, 0U) << "seed " << seed;
  }
}

INSTANTIATE_TEST_SUITE_P(FaultMixes, MultiPaxosSweep,
                         ::testing::Values("partition", "crash", "drop,dup", "pause,skew", "crash,disk",
                                           "partition,crash,pause,skew,drop,dup,disk"));

// The injected protocol bugs need a particular interleaving: a late accept from a superseded leader, a
// slot holding different values at two ballots, or a hole, at the moment a new leader recovers. Random
// faults reach them rarely (with flow control towards silent followers, accept-below-promise failed 1 of
// 300 seeds across three fault mixes: synod-sim --engine paxos --bug accept-below-promise --seeds 1-100),
// so each is caught by a scenario test that builds that state on purpose (multi_paxos_test.cc:
// anAcceptorThatAcceptsBelowItsPromiseIsCaught, aLeaderThatIgnoresTheHighestAcceptedValueIsCaught,
// aLeaderThatSkipsHoleFillingNeverChoosesPastTheHole).

}  // namespace
}  // namespace synod::paxos
