// Seed 001's worked example (the 5-node key-value store), as scenario tests. The script lives in
// src/sim/worked_example.cc and is shared with synod-demo; here every outcome it checks must hold and
// the safety invariants must hold after every event.
#include "sim/worked_example.h"

#include <sstream>

#include <gtest/gtest.h>

#include "check/invariants.h"

namespace synod::sim {
namespace {

void expect_all_passed(const WorkedExampleReport& report, const check::InvariantChecker& checker) {
  ASSERT_FALSE(report.checks.empty());
  for (const ScenarioCheck& check : report.checks) EXPECT_TRUE(check.passed) << check.what;
  EXPECT_TRUE(checker.ok()) << checker.violation();
  EXPECT_GT(checker.checks(), 100U);
}

TEST(WorkedExample, setXBecomesEntrySevenAndCommitsOnFourOfFive) {
  WorkedExampleReport report;
  check::InvariantChecker checker;
  run_part1_commit_on_four_of_five(nullptr, &checker, 1, report);
  expect_all_passed(report, checker);
}

TEST(WorkedExample, twoOfFiveAcknowledgmentsCommitNothing) {
  WorkedExampleReport report;
  check::InvariantChecker checker;
  run_part2_no_majority(nullptr, &checker, 1, report);
  expect_all_passed(report, checker);
}

TEST(WorkedExample, partitionedLeaderLearnsTermEightThroughB) {
  WorkedExampleReport report;
  check::InvariantChecker checker;
  run_part3_partition(nullptr, &checker, 1, StepDownPath::kThroughB, report);
  expect_all_passed(report, checker);
}

TEST(WorkedExample, partitionedLeaderStepsDownByCheckQuorum) {
  WorkedExampleReport report;
  check::InvariantChecker checker;
  run_part3_partition(nullptr, &checker, 1, StepDownPath::kCheckQuorum, report);
  expect_all_passed(report, checker);
}

TEST(WorkedExample, holdsForManyClusterSeeds) {
  for (uint64_t seed = 1; seed <= 30; ++seed) {
    check::InvariantChecker checker;
    WorkedExampleReport report = run_worked_example(nullptr, &checker, seed);
    EXPECT_TRUE(report.passed()) << "seed " << seed << ": " << report.failures() << " outcomes differ";
    EXPECT_TRUE(checker.ok()) << "seed " << seed << ": " << checker.violation();
  }
}

TEST(WorkedExample, sameSeedGivesByteIdenticalTimeline) {
  std::ostringstream first;
  std::ostringstream second;
  (void)run_worked_example(&first, nullptr, 7);
  (void)run_worked_example(&second, nullptr, 7);
  EXPECT_FALSE(first.str().empty());
  EXPECT_EQ(first.str(), second.str());
}

}  // namespace
}  // namespace synod::sim
