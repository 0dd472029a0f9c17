// The deterministic simulator: one seed replays byte for byte (trace and history), fault mixes keep
// every invariant and every client history linearizable, a healed cluster always makes progress, and
// injected bugs in the core and in the node glue are caught by short sweeps.
#include "sim/simulator.h"

#include <sstream>

#include <gtest/gtest.h>

#include "check/sim_run.h"
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

check::SimRun run(const SimulatorOptions& options, const raft::Config& config = {}) {
  return check::run_checked(options, raft_engine_factory(config));
}

std::string history_text(const check::History& history) {
  std::ostringstream out;
  check::write_history(out, history);
  return out.str();
}

TEST(Simulator, sameSeedReplaysTheSameTraceAndHistoryByteForByte) {
  check::SimRun first = run(short_run(42, "partition,crash,pause,skew,drop,dup"));
  check::SimRun second = run(short_run(42, "partition,crash,pause,skew,drop,dup"));
  ASSERT_TRUE(first.ok()) << first.failure;
  EXPECT_GT(first.result.events, 1000U);
  EXPECT_GT(first.result.history.size(), 20U);
  EXPECT_EQ(first.result.trace_hash, second.result.trace_hash);
  EXPECT_EQ(first.result.events, second.result.events);
  EXPECT_EQ(first.result.committed, second.result.committed);
  EXPECT_EQ(history_text(first.result.history), history_text(second.result.history));
  check::SimRun other = run(short_run(43, "partition,crash,pause,skew,drop,dup"));
  EXPECT_NE(first.result.trace_hash, other.result.trace_hash) << "the seed must matter";
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

TEST(Simulator, opsBoundTheWorkloadAndEveryOperationIsRecorded) {
  SimulatorOptions options = short_run(7, "drop,dup");
  options.ops = 150;
  options.fault_duration_us = 600'000'000;
  check::SimRun result = run(options);
  ASSERT_TRUE(result.ok()) << result.failure;
  EXPECT_EQ(result.result.history.size(), 150U);
  EXPECT_LT(result.result.virtual_time_us, 600'000'000U) << "the fault phase ends once the ops are done";
  size_t ok = 0;
  for (const check::Operation& op : result.result.history) ok += op.status == check::OpStatus::kOk ? 1 : 0;
  EXPECT_EQ(ok, result.result.ops_ok);
  EXPECT_GT(ok, 100U) << "with only drops and duplicates most operations should complete";
}

class SimulatorSweep : public ::testing::TestWithParam<const char*> {};

TEST_P(SimulatorSweep, everySeedIsSafeLiveAndLinearizable) {
  for (uint64_t seed = 1; seed <= 12; ++seed) {
    check::SimRun result = run(short_run(seed, GetParam()));
    EXPECT_TRUE(result.ok()) << "seed " << seed << ": " << result.failure;
    EXPECT_GT(result.result.committed, 0U) << "seed " << seed;
    EXPECT_GT(result.result.ops_ok, 0U) << "seed " << seed;
  }
}

INSTANTIATE_TEST_SUITE_P(FaultMixes, SimulatorSweep,
                         ::testing::Values("partition", "crash", "drop,dup", "pause,skew", "crash,disk",
                                           "partition,crash,pause,skew,drop,dup,disk"));

#if SYNOD_BUG_INJECTION
// Returns the first seed in [1, seeds] whose run fails, or 0.
uint64_t first_failing_seed(uint64_t seeds, const std::string& faults, const raft::Config& config,
                            const node::NodeBugs& bugs, std::string* failure) {
  for (uint64_t seed = 1; seed <= seeds; ++seed) {
    SimulatorOptions options = short_run(seed, faults);
    options.bugs = bugs;
    check::SimRun result = run(options, config);
    if (!result.ok()) {
      *failure = result.failure;
      return seed;
    }
  }
  return 0;
}

TEST(Simulator, sweepCatchesACoreThatVotesForStaleLogs) {
  raft::Config config;
  config.pre_vote = false;
  config.bugs.skip_up_to_date_check = true;
  std::string failure;
  EXPECT_NE(first_failing_seed(60, "partition,crash", config, {}, &failure), 0U)
      << "60 seeds of partitions and crashes never exposed the bug";
}

TEST(Simulator, sweepCatchesAWalThatAcknowledgesWritesItNeverSynced) {
  uint64_t caught_at = 0;
  std::string failure;
  for (uint64_t seed = 1; seed <= 40 && caught_at == 0; ++seed) {
    SimulatorOptions options = short_run(seed, "crash");
    options.bug_skip_sync = true;
    check::SimRun result = run(options);
    if (!result.ok()) {
      caught_at = seed;
      failure = result.failure;
    }
  }
  ASSERT_NE(caught_at, 0U) << "40 seeds of crashes never exposed writes lost from the page cache";
  std::cout << "unsynced WAL caught at seed " << caught_at << ": " << failure.substr(0, 200) << '\n';
}

TEST(Simulator, historyCheckCatchesReadsServedFromLocalState) {
  node::NodeBugs bugs;
  bugs.serve_reads_locally = true;
  std::string failure;
  uint64_t seed = first_failing_seed(20, "partition", {}, bugs, &failure);
  ASSERT_NE(seed, 0U) << "20 seeds never exposed a stale local read";
  EXPECT_NE(failure.find("NOT LINEARIZABLE"), std::string::npos) << failure;
  std::cout << "stale local reads caught at seed " << seed << '\n';
}

TEST(Simulator, historyCheckCatchesReadsAnsweredBeforeTheirIndexIsApplied) {
  node::NodeBugs bugs;
  bugs.skip_apply_wait = true;
  std::string failure;
  uint64_t seed = first_failing_seed(40, "partition,drop,dup", {}, bugs, &failure);
  ASSERT_NE(seed, 0U) << "40 seeds never exposed a read served before its index was applied";
  EXPECT_NE(failure.find("NOT LINEARIZABLE"), std::string::npos) << failure;
  std::cout << "reads served before applying their index caught at seed " << seed << '\n';
}
#endif

}  // namespace
}  // namespace synod::sim
