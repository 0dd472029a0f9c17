// Every check must prove it can fail: each test-only injected bug of the Raft core (compiled only with
// SYNOD_BUG_INJECTION, never in release builds) must be caught by the same random-schedule properties
// that the unmodified core passes.
#include <iostream>
#include <string>

#include <gtest/gtest.h>
#include <rapidcheck.h>

#include "schedule.h"
#include "schedule_gen.h"

#if !SYNOD_BUG_INJECTION
#error "injected-bug tests are built only with SYNOD_BUG_INJECTION"
#endif

namespace synod::test {
namespace {

constexpr int kMaxSchedules = 4000;

struct Caught {
  bool caught = false;
  int schedules_before = 0;
  std::string violation;
};

// Runs random schedules with `config` until one breaks a safety property.
Caught hunt(size_t nodes, const raft::Config& config, uint64_t seed, bool lockstep_clocks = false) {
  ScheduleCheck check;
  check.options.nodes = nodes;
  check.options.config = config;
  check.options.lockstep_clocks = lockstep_clocks;
  check.cases = kMaxSchedules;
  check.seed = seed;
  check.safety_only = true;
  check.shrink = false;  // we only need to know that it is caught, and how
  rc::detail::TestResult result = check_random_schedules(check);
  Caught caught;
  if (result.is<rc::detail::FailureResult>()) {
    const auto& failure = result.get<rc::detail::FailureResult>();
    caught.caught = true;
    caught.schedules_before = failure.numSuccess;
    // RapidCheck prefixes the failing assertion: keep only our message.
    size_t ours = failure.description.find("SAFETY");
    caught.violation = ours == std::string::npos ? failure.description : failure.description.substr(ours);
  }
  return caught;
}

void expect_caught(const Caught& caught, const std::string& property_name) {
  ASSERT_TRUE(caught.caught) << "no schedule out of " << kMaxSchedules << " exposed the injected bug";
  std::cout << "caught after " << caught.schedules_before << " clean schedules:\n"
            << caught.violation.substr(0, caught.violation.find('\n')) << '\n';
  EXPECT_NE(caught.violation.find("SAFETY"), std::string::npos);
  if (!property_name.empty()) {
    EXPECT_NE(caught.violation.find(property_name), std::string::npos) << caught.violation;
  }
}

TEST(InjectedBug, grantingTwoVotesPerTermBreaksElectionSafety) {
  raft::Config config = schedule_config();
  config.pre_vote = false;  // pre-vote filters many duelling candidates; the bug is in the real vote
  config.check_quorum = false;
  config.bugs.grant_two_votes_per_term = true;
  expect_caught(hunt(3, config, 11), "");
}

TEST(InjectedBug, skippingTheUpToDateCheckLosesCommittedEntries) {
  raft::Config config = schedule_config();
  config.pre_vote = false;
  config.bugs.skip_up_to_date_check = true;
  expect_caught(hunt(3, config, 12), "");
}

// The third bug, a leader committing an old-term entry by counting replicas, needs the paper's Figure 8
// sequence (an old entry on a majority, the new leader's own entry lost, the leader crashing, a
// candidate with a newer last term winning). Random schedules did not reach it in 30,000 tries, so it
// is proven caught by the deterministic Figure 8 scenario instead:
// Figure8.checkerCatchesALeaderThatCommitsOldTermEntriesByCounting in tests/scenario/figure8_test.cc.

TEST(InjectedBug, answeringReadIndexWithoutConfirmingLeadershipServesStaleReads) {
  raft::Config config = schedule_config();
  config.bugs.read_without_quorum_check = true;
  expect_caught(hunt(3, config, 14), "linearizable read");
}

TEST(InjectedBug, leaseReadsWithoutABoundServeStaleReadsEvenWithEqualRateClocks) {
  raft::Config config = schedule_config();
  config.read_only = raft::ReadOnlyOption::kLeaseBased;
  config.bugs.unbounded_lease = true;
  expect_caught(hunt(3, config, 15, true), "linearizable read");
}

}  // namespace
}  // namespace synod::test
