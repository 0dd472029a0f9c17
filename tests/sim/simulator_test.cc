// The deterministic simulator: one seed replays byte for byte, fault mixes keep every invariant, a
// healed cluster always makes progress, and an injected bug is caught by a short sweep.
#include "sim/simulator.h"

#include <gtest/gtest.h>

#include "check/invariants.h"
#include "raft/config.h"
#include "sim/raft_engine.h"

namespace synod::sim {
namespace {

SimulatorOptions short_run(uint64_t seed, const std::string& faults) {
  SimulatorOptions options;
  options.seed = seed;
  options.faults = FaultMix::parse(faults).value();
  options.fault_duration_us = 3'000'000;
  options.liveness_duration_us = 20'000'000;
  return options;
}

SimulatorResult run(const SimulatorOptions& options, const raft::Config& config = {}) {
  Simulator simulator(options, raft_engine_factory(config));
  check::InvariantChecker checker;
  simulator.set_observer(&checker);
  return simulator.run();
}

TEST(Simulator, sameSeedReplaysTheSameTraceByteForByte) {
  SimulatorResult first = run(short_run(42, "partition,crash,pause,skew,drop,dup"));
  SimulatorResult second = run(short_run(42, "partition,crash,pause,skew,drop,dup"));
  EXPECT_GT(first.events, 1000U);
  EXPECT_EQ(first.trace_hash, second.trace_hash);
  EXPECT_EQ(first.events, second.events);
  EXPECT_EQ(first.committed, second.committed);
  SimulatorResult other = run(short_run(43, "partition,crash,pause,skew,drop,dup"));
  EXPECT_NE(first.trace_hash, other.trace_hash) << "the seed must matter";
}

TEST(Simulator, faultMixParsesAndRefusesUnknownFaults) {
  Result<FaultMix> mix = FaultMix::parse("partition,dup");
  ASSERT_TRUE(mix.is_ok());
  EXPECT_TRUE(mix.value().partitions);
  EXPECT_TRUE(mix.value().duplicates);
  EXPECT_FALSE(mix.value().crashes);
  EXPECT_EQ(mix.value().to_string(), "partition,dup");
  Result<FaultMix> bad = FaultMix::parse("partition,meteor");
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.status().message().find("meteor"), std::string::npos);
}

class SimulatorSweep : public ::testing::TestWithParam<const char*> {};

TEST_P(SimulatorSweep, everySeedIsSafeAndLive) {
  for (uint64_t seed = 1; seed <= 12; ++seed) {
    SimulatorResult result = run(short_run(seed, GetParam()));
    EXPECT_TRUE(result.safe && result.live) << "seed " << seed << ": " << result.violation;
    EXPECT_GT(result.committed, 0U) << "seed " << seed;
  }
}

INSTANTIATE_TEST_SUITE_P(FaultMixes, SimulatorSweep,
                         ::testing::Values("partition", "crash", "drop,dup", "pause,skew",
                                           "partition,crash,pause,skew,drop,dup"));

#if SYNOD_BUG_INJECTION
TEST(Simulator, sweepCatchesACoreThatVotesForStaleLogs) {
  raft::Config config;
  config.pre_vote = false;
  config.bugs.skip_up_to_date_check = true;
  uint64_t caught_at = 0;
  for (uint64_t seed = 1; seed <= 60 && caught_at == 0; ++seed) {
    SimulatorResult result = run(short_run(seed, "partition,crash"), config);
    if (!result.safe) caught_at = seed;
  }
  EXPECT_NE(caught_at, 0U) << "60 seeds of partitions and crashes never exposed the bug";
}
#endif

}  // namespace
}  // namespace synod::sim
