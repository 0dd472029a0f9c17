// Raft's safety properties over random schedules of 3- and 5-node clusters (issue 3): election safety,
// log matching, leader completeness, state machine safety, monotonic commit (InvariantChecker, after
// every step), read safety, and liveness once the faults stop. 10,000 schedules in all.
#include <iostream>

#include <gtest/gtest.h>
#include <rapidcheck.h>

#include "schedule.h"
#include "schedule_gen.h"

namespace synod::test {
namespace {

// Runs `cases` random schedules; returns the RapidCheck result.
rc::detail::TestResult check_schedules(size_t nodes, int cases, uint64_t seed, raft::Config base,
                                       bool vary_config, bool lockstep_clocks = false) {
  rc::detail::TestParams params;
  params.seed = seed;
  params.maxSuccess = cases;
  params.maxSize = 100;
  rc::detail::TestMetadata metadata;
  metadata.id = "raft-" + std::to_string(nodes) + "-nodes";
  auto property = [=](bool pre_vote, bool check_quorum) {
    const auto cluster_seed = *rc::gen::resize(100, rc::gen::arbitrary<uint64_t>());
    std::vector<Action> actions = *schedule_gen(100, 400);
    ScheduleOptions options;
    options.nodes = nodes;
    options.seed = cluster_seed;
    options.config = base;
    options.lockstep_clocks = lockstep_clocks;
    if (vary_config) {
      options.config.pre_vote = pre_vote;
      options.config.check_quorum = check_quorum;
    }
    ScheduleOutcome outcome = run_schedule(actions, options);
    RC_CLASSIFY(outcome.leaders_seen == 0, "no leader during the faults");
    RC_CLASSIFY(outcome.leaders_seen >= 3, "3+ leaders during the faults");
    RC_CLASSIFY(outcome.entries_committed >= 10, "10+ entries committed");
    RC_CLASSIFY(outcome.reads_served >= 3, "3+ reads served");
    if (!outcome.safe || !outcome.live) RC_FAIL(outcome.violation);
  };
  return rc::detail::checkTestable(property, metadata, params);
}

raft::Config property_config() {
  raft::Config config;
  // Short timeouts so that a few hundred random actions see many elections.
  config.election_tick = 4;
  config.heartbeat_tick = 1;
  // Small messages and windows exercise batching, flow control and probing.
  config.max_bytes_per_message = 64;
  config.max_inflight_messages = 4;
  return config;
}

void expect_success(const rc::detail::TestResult& result, int cases) {
  rc::detail::printResultMessage(result, std::cout);
  std::cout << '\n';
  ASSERT_TRUE(result.is<rc::detail::SuccessResult>());
  EXPECT_EQ(result.get<rc::detail::SuccessResult>().numSuccess, cases);
}

TEST(RaftSafetyProperty, holdsOnFiveThousandRandomSchedulesOfThreeNodes) {
  expect_success(check_schedules(3, 5000, 3003, property_config(), true), 5000);
}

TEST(RaftSafetyProperty, holdsOnFiveThousandRandomSchedulesOfFiveNodes) {
  expect_success(check_schedules(5, 5000, 5005, property_config(), true), 5000);
}

// Lease reads are linearizable only if clocks advance at the same rate, so these schedules tick every
// node together; everything else (drops, partitions, crashes, transfers) stays random.
TEST(RaftSafetyProperty, leaseReadsStayLinearizableWithEqualRateClocks) {
  raft::Config config = property_config();
  config.read_only = raft::ReadOnlyOption::kLeaseBased;
  config.check_quorum = true;
  expect_success(check_schedules(3, 2000, 7007, config, false, true), 2000);
}

}  // namespace
}  // namespace synod::test
