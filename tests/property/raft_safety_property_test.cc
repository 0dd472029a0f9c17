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

void expect_success(const rc::detail::TestResult& result, int cases) {
  rc::detail::printResultMessage(result, std::cout);
  std::cout << '\n';
  ASSERT_TRUE(result.is<rc::detail::SuccessResult>());
  EXPECT_EQ(result.get<rc::detail::SuccessResult>().numSuccess, cases);
}

ScheduleCheck schedules(size_t nodes, int cases, uint64_t seed) {
  ScheduleCheck check;
  check.options.nodes = nodes;
  check.options.config = schedule_config();
  check.cases = cases;
  check.seed = seed;
  check.vary_election_options = true;
  return check;
}

TEST(RaftSafetyProperty, holdsOnFiveThousandRandomSchedulesOfThreeNodes) {
  expect_success(check_random_schedules(schedules(3, 5000, 3003)), 5000);
}

TEST(RaftSafetyProperty, holdsOnFiveThousandRandomSchedulesOfFiveNodes) {
  expect_success(check_random_schedules(schedules(5, 5000, 5005)), 5000);
}

// Lease reads are linearizable only if clocks advance at the same rate, so these schedules tick every
// node together; everything else (drops, partitions, crashes, transfers) stays random.
TEST(RaftSafetyProperty, leaseReadsStayLinearizableWithEqualRateClocks) {
  ScheduleCheck check = schedules(3, 2000, 7007);
  check.vary_election_options = false;
  check.options.config.read_only = raft::ReadOnlyOption::kLeaseBased;
  check.options.lockstep_clocks = true;
  expect_success(check_random_schedules(check), 2000);
}

}  // namespace
}  // namespace synod::test
