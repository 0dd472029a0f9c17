// The model checker (check/model_checker.h) on bounds small enough for the debug build: the unmodified
// cores (Raft, Multi-Paxos, single-decree Paxos) exhaust them with no violation, the same with and without
// symmetry reduction (which must only merge, never lose, behaviour), the quick injected bugs are found with a
// shortest trace that replays to the same violation, and replay files round-trip and refuse what they cannot
// run. The larger bounds and the deeper bugs run in ctest as synod-mc invocations
// (tests/check/CMakeLists.txt).
#include "check/model_checker.h"

#include <string>

#include <gtest/gtest.h>

#include "check/mc_invariants.h"
#include "consensus/state_encoder.h"

namespace synod::check {
namespace {

McOptions small(McEngine engine) {
  McOptions options;
  options.setup.engine = engine;
  options.bounds.max_term = 2;
  options.bounds.max_log = 1;
  options.bounds.max_in_flight = 2;
  options.bounds.proposals = 0;
  options.bounds.restarts = 0;
  options.bounds.duplicates = 0;
  return options;
}

TEST(ModelChecker, raftExhaustsASmallSpaceWithoutViolation) {
  McResult result = model_check(small(McEngine::kRaft));
  EXPECT_TRUE(result.ok()) << result.violation;
  EXPECT_TRUE(result.exhausted);
  EXPECT_GT(result.distinct_states, 1000U);
  EXPECT_GT(result.pruned, 0U) << "the bounds were reached";
}

TEST(ModelChecker, multiPaxosExhaustsASmallSpaceWithoutViolation) {
  McOptions options = small(McEngine::kMultiPaxos);
  options.bounds.max_term = 1;
  options.bounds.proposals = 1;
  McResult result = model_check(options);
  EXPECT_TRUE(result.ok()) << result.violation;
  EXPECT_TRUE(result.exhausted);
  EXPECT_GT(result.distinct_states, 100U);
}

TEST(ModelChecker, singleDecreePaxosExhaustsASmallSpaceWithoutViolation) {
  McOptions options = small(McEngine::kSingleDecree);
  options.bounds.max_term = 1;
  options.bounds.proposals = 2;
  McResult result = model_check(options);
  EXPECT_TRUE(result.ok()) << result.violation;
  EXPECT_TRUE(result.exhausted);
  EXPECT_GT(result.distinct_states, 1000U);
  EXPECT_GT(result.pruned, 0U) << "the bounds were reached";
}

// Time mode global: equal-rate clocks, check-quorum and lease reads on. Leases are safe under the
// assumption they rest on, so a read is never answered stale in the whole bounded space.
TEST(ModelChecker, timedRaftWithLeaseReadsExhaustsASmallSpaceWithoutViolation) {
  McOptions options = small(McEngine::kRaft);
  options.setup.timed = true;
  // Seed 3 draws one node the shortest election timeout: with seed 1 all three campaign in the same tick
  // and the messages in flight pass their bound at once.
  options.setup.seed = 3;
  options.bounds.reads = 1;
  options.bounds.max_ticks = 4;
  McResult result = model_check(options);
  EXPECT_TRUE(result.ok()) << result.violation;
  EXPECT_TRUE(result.exhausted);
  EXPECT_GT(result.distinct_states, 100U);
}

TEST(ModelChecker, timeModeGlobalIsRefusedWhereItIsNotBuilt) {
  McSetup setup;
  setup.timed = true;
  EXPECT_TRUE(setup.validate().is_ok());
  setup.engine = McEngine::kMultiPaxos;
  EXPECT_FALSE(setup.validate().is_ok());
  setup.engine = McEngine::kSingleDecree;
  EXPECT_FALSE(setup.validate().is_ok());
}

TEST(ModelChecker, symmetryMergesStatesButFindsTheSameSpace) {
  McOptions with = small(McEngine::kRaft);
  with.bounds.max_term = 1;
  McOptions without = with;
  without.symmetry = false;
  McResult reduced = model_check(with);
  McResult full = model_check(without);
  ASSERT_TRUE(reduced.exhausted && full.exhausted);
  EXPECT_LT(reduced.distinct_states, full.distinct_states);
  // Every state of the full space is a renaming of one in the reduced space, and each orbit has at most
  // 3! = 6 members.
  EXPECT_GE(reduced.distinct_states * 6, full.distinct_states);
  EXPECT_EQ(reduced.max_depth, full.max_depth);
}

TEST(ModelChecker, runsAreDeterministic) {
  McOptions options = small(McEngine::kRaft);
  options.bounds.max_term = 1;
  McResult a = model_check(options);
  McResult b = model_check(options);
  EXPECT_EQ(a.distinct_states, b.distinct_states);
  EXPECT_EQ(a.transitions, b.transitions);
}

TEST(ModelChecker, depthFirstExhaustsTheSameSpace) {
  McOptions options = small(McEngine::kRaft);
  options.bounds.max_term = 1;
  McResult bfs = model_check(options);
  options.depth_first = true;
  McResult dfs = model_check(options);
  ASSERT_TRUE(bfs.exhausted && dfs.exhausted);
  EXPECT_EQ(bfs.distinct_states, dfs.distinct_states);
}

TEST(ModelChecker, aStateLimitStopsTheSearchAndSaysSo) {
  McOptions options = small(McEngine::kRaft);
  options.max_states = 50;
  McResult result = model_check(options);
  EXPECT_FALSE(result.exhausted);
  EXPECT_EQ(result.distinct_states, 50U);
}

#if SYNOD_BUG_INJECTION
// A bug found, with the length of its shortest trace; the trace replays to the same violation.
void expect_found(McOptions options, const std::string& violation_prefix, size_t steps) {
  McResult result = model_check(options);
  ASSERT_FALSE(result.ok()) << "bug " << options.setup.bug << " not found in " << result.distinct_states
                            << " states";
  EXPECT_EQ(result.violation.rfind(violation_prefix, 0), 0U) << result.violation;
  EXPECT_EQ(result.counterexample.steps.size(), steps) << result.counterexample.to_text();
  Result<McTrace> reparsed = McTrace::parse(result.counterexample.to_text(result.violation));
  ASSERT_TRUE(reparsed.is_ok()) << reparsed.status().to_string();
  std::string account;
  EXPECT_EQ(replay(reparsed.value(), &account), result.violation) << account;
}

TEST(ModelChecker, findsTwoLeadersInOneTermWhenAVoterForgetsItsVote) {
  McOptions options = small(McEngine::kRaft);
  options.setup.bug = "grant-two-votes-per-term";
  expect_found(options, "election safety", 9);
}

TEST(ModelChecker, findsALeaderWithoutACommittedEntryWhenVotesSkipTheLogCheck) {
  McOptions options = small(McEngine::kRaft);
  options.setup.bug = "skip-up-to-date-check";
  options.bounds.max_log = 2;
  options.bounds.max_in_flight = 3;
  expect_found(options, "leader completeness", 10);
}

TEST(ModelChecker, findsTwoSingleDecreeValuesChosenWhenAProposerIgnoresAcceptedValues) {
  McOptions options = small(McEngine::kSingleDecree);
  options.setup.bug = "ignore-accepted-values";
  options.bounds.max_term = 1;
  options.bounds.proposals = 2;
  expect_found(options, "single-decree safety: chosen both", 12);
}
#endif

TEST(ModelChecker, aTraceRoundTripsThroughItsReplayFile) {
  McTrace trace;
  trace.setup.engine = McEngine::kMultiPaxos;
  trace.setup.nodes = 3;
  trace.setup.seed = 9;
  trace.setup.pre_vote = true;
  trace.steps = {{McStep::Kind::kTimeout, 1, 0},   {McStep::Kind::kDeliver, 0, 0},
                 {McStep::Kind::kPropose, 1, 1},   {McStep::Kind::kRead, 1, 2},
                 {McStep::Kind::kDuplicate, 2, 0}, {McStep::Kind::kDrop, 1, 0},
                 {McStep::Kind::kRestart, 3, 0}};
  Result<McTrace> parsed = McTrace::parse(trace.to_text("a comment\nover two lines"));
  ASSERT_TRUE(parsed.is_ok()) << parsed.status().to_string();
  EXPECT_EQ(parsed.value().to_text(), trace.to_text());
  McTrace timed;
  timed.setup.timed = true;
  timed.steps = {{McStep::Kind::kTick, 0, 0}, {McStep::Kind::kRead, 2, 1}};
  parsed = McTrace::parse(timed.to_text());
  ASSERT_TRUE(parsed.is_ok()) << parsed.status().to_string();
  EXPECT_EQ(parsed.value().to_text(), timed.to_text());
  EXPECT_TRUE(parsed.value().setup.timed);
  trace.setup.engine = McEngine::kSingleDecree;
  parsed = McTrace::parse(trace.to_text());
  ASSERT_TRUE(parsed.is_ok()) << parsed.status().to_string();
  EXPECT_EQ(parsed.value().setup.engine, McEngine::kSingleDecree);
}

TEST(ModelChecker, aSingleDecreeReadIsNotAStep) {
  McTrace trace;
  trace.setup.engine = McEngine::kSingleDecree;
  trace.steps = {{McStep::Kind::kPropose, 1, 1}, {McStep::Kind::kRead, 1, 1}};
  std::string account;
  EXPECT_NE(replay(trace, &account).find("step 2 (read 1 1) does not apply"), std::string::npos) << account;
}

TEST(ModelChecker, aBadReplayFileIsRefusedWithItsLine) {
  for (const char* text : {"engine zab\n", "nodes many\n", "step fly 1\n", "step deliver\n",
                           "step propose 1\n", "nodes 0\n", "bug no-such-bug\n", "step deliver 99999999999\n",
                           "what\n", "time sometimes\n", "engine paxos\ntime global\n"}) {
    Result<McTrace> parsed = McTrace::parse(text);
    EXPECT_FALSE(parsed.is_ok()) << text;
  }
  Result<McTrace> parsed = McTrace::parse("engine raft\nnodes 3\nstep fly 1\n");
  ASSERT_FALSE(parsed.is_ok());
  EXPECT_NE(parsed.status().to_string().find("line 3"), std::string::npos) << parsed.status().to_string();
}

TEST(ModelChecker, aStepThatDoesNotFitTheStateIsReportedNotRun) {
  McTrace trace;
  trace.steps = {{McStep::Kind::kDeliver, 5, 0}};
  std::string account;
  std::string violation = replay(trace, &account);
  EXPECT_NE(violation.find("does not apply"), std::string::npos) << violation;
}

TEST(StateEncoder, renamesIdsAndOrdersRecordsByTheirNewIds) {
  StateEncoder plain;
  plain.sorted_by_node({1, 2}, [&](NodeId id) { plain.u64(id * 10); });
  StateEncoder swapped(std::vector<NodeId>{0, 2, 1});
  swapped.sorted_by_node({1, 2}, [&](NodeId id) { swapped.u64(id * 10); });
  EXPECT_NE(plain.data(), swapped.data());
  StateEncoder swapped_back(std::vector<NodeId>{0, 2, 1});
  swapped_back.sorted_by_node({2, 1}, [&](NodeId id) { swapped_back.u64(id * 10); });
  EXPECT_EQ(swapped.data(), swapped_back.data()) << "the input order does not matter";
  StateEncoder a(std::vector<NodeId>{0, 2, 1});
  a.node(1);
  StateEncoder b;
  b.node(2);
  EXPECT_EQ(a.data(), b.data());
}

}  // namespace
}  // namespace synod::check
