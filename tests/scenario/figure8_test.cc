// The Raft paper's Figure 8: why a leader may not commit an entry of an earlier term by counting
// replicas. Five servers S1..S5 (ids 1..5), plain Raft (no pre-vote or check-quorum, as in the paper),
// one entry per Append so the schedule can split the old entry from the new leader's no-op.
//
//   (a) S1 leads term 1 and replicates entry 2 (term 1) to S2 only.
//   (b) S1 crashes; S5 wins term 2 with S3, S4, S5 and appends entry 2 (term 2) on itself only.
//   (c) S5 crashes; S1 restarts, wins term 3 and replicates entry 2 (term 1) to S3 and S4: a majority
//       holds it, but it is not of term 3, so it must not commit.
//   (d) S1 crashes; S5 restarts and wins term 4 (its last term 2 beats their 1) and overwrites entry 2.
//       That is safe only because entry 2 never committed.
//   (e) Had S1 replicated its term-3 no-op to a majority first, entries 2 and 3 would be committed and
//       S5 could not win.
#include <algorithm>

#include <gtest/gtest.h>

#include "check/invariants.h"
#include "sim/cluster.h"
#include "sim/raft_engine.h"

namespace synod::sim {
namespace {

raft::Config figure8_config() {
  raft::Config config;
  config.election_tick = 10;
  config.pre_vote = false;
  config.check_quorum = false;
  config.max_bytes_per_message = 1;  // one entry per Append
  return config;
}

bool carries_index(const Message& message, Index index) {
  return std::any_of(message.entries.begin(), message.entries.end(),
                     [&](const Entry& entry) { return entry.index == index; });
}

// Delivers everything in flight, except that Appends from `from` carrying entry `index` are lost
// whenever the receiver would accept them (those it would reject still teach the leader where to
// backtrack to).
void deliver_all_but(Cluster& cluster, NodeId from, Index index) {
  while (!cluster.in_flight().empty()) {
    const Message& next = cluster.in_flight().front();
    bool would_accept = cluster.is_up(next.to) &&
                        cluster.engine(next.to).term_at(next.index) == std::optional<Term>(next.log_term);
    if (next.type == MessageType::kAppend && next.from == from && carries_index(next, index) &&
        would_accept) {
      cluster.drop(0);
    } else {
      (void)cluster.deliver(0);
    }
  }
}

// Ticks `id` alone (delivering as it goes) until it leads; returns its term.
Term win_election(Cluster& cluster, NodeId id) {
  for (int i = 0; i < 500 && cluster.engine(id).status().role != Role::kLeader; ++i) {
    cluster.tick(id);
    // Deliver votes only; the new leader's first Appends stay in flight for the caller to steer.
    while (!cluster.in_flight().empty() && cluster.engine(id).status().role != Role::kLeader) {
      (void)cluster.deliver(0);
    }
  }
  return cluster.engine(id).status().term;
}

struct Figure8 {
  explicit Figure8(raft::Config config) : cluster({1, 2, 3, 4, 5}, raft_engine_factory(config), 8) {
    cluster.set_observer(&checker);
  }

  // Steps (a) to (c). Returns S1's commit index after (c).
  Index run_to_c() {
    // (a)
    EXPECT_EQ(cluster.campaign(1), 1U);
    cluster.deliver_all();
    for (NodeId id : {3, 4, 5}) cluster.cut(1, id);
    EXPECT_EQ(cluster.propose(1, "old").value().index, 2U);
    cluster.deliver_all();
    EXPECT_TRUE(cluster.engine(2).entry_at(2).has_value());
    EXPECT_FALSE(cluster.engine(3).entry_at(2).has_value());
    // (b)
    cluster.crash(1);
    cluster.heal();
    Term s5_term = win_election(cluster, 5);
    EXPECT_EQ(cluster.engine(5).status().role, Role::kLeader);
    cluster.isolate(5);
    cluster.deliver_all();  // S5's Appends are lost
    EXPECT_EQ(cluster.engine(5).term_at(2), s5_term);
    // (c)
    cluster.crash(5);
    cluster.heal();
    cluster.restart(1);
    Term s1_term = win_election(cluster, 1);
    EXPECT_EQ(cluster.engine(1).status().role, Role::kLeader);
    EXPECT_GT(s1_term, s5_term);
    Index noop = cluster.engine(1).status().last_index;
    EXPECT_EQ(noop, 3U);
    deliver_all_but(cluster, 1, noop);
    for (NodeId id : {2, 3, 4}) EXPECT_EQ(cluster.engine(id).term_at(2), std::optional<Term>(1)) << id;
    return cluster.engine(1).status().commit;
  }

  Cluster cluster;
  check::InvariantChecker checker;
};

TEST(Figure8, oldTermEntryOnAMajorityIsNotCommittedByCounting) {
  Figure8 run(figure8_config());
  EXPECT_EQ(run.run_to_c(), 1U) << "entry 2 (term 1) is on 4 of 5 nodes but must wait for a term-3 entry";
  // (d) S1 crashes; S5 comes back and wins, overwriting entry 2. Safe: it was never committed.
  run.cluster.crash(1);
  run.cluster.restart(5);
  win_election(run.cluster, 5);
  ASSERT_EQ(run.cluster.engine(5).status().role, Role::kLeader);
  run.cluster.deliver_all();
  for (NodeId id : {2, 3, 4}) EXPECT_NE(run.cluster.engine(id).term_at(2), std::optional<Term>(1)) << id;
  EXPECT_TRUE(run.checker.ok()) << run.checker.violation();
}

TEST(Figure8, currentTermEntryOnAMajorityCommitsTheOldOneAndBlocksTheStaleCandidate) {
  Figure8 run(figure8_config());
  run.run_to_c();
  // (e) S1's no-op reaches a majority: entries 2 and 3 commit together.
  run.cluster.tick(1);
  run.cluster.deliver_all();
  EXPECT_GE(run.cluster.engine(1).status().commit, 3U);
  run.cluster.crash(1);
  run.cluster.restart(5);
  for (int i = 0; i < 300; ++i) {
    run.cluster.tick(5);
    run.cluster.deliver_all();
  }
  EXPECT_NE(run.cluster.engine(5).status().role, Role::kLeader) << "S5's log is behind the committed entries";
  ASSERT_TRUE(run.cluster.run_until([&] { return run.cluster.leader().has_value(); }, 300));
  NodeId leader = *run.cluster.leader();
  EXPECT_NE(leader, 5U);
  EXPECT_EQ(run.cluster.engine(leader).term_at(2), std::optional<Term>(1));
  EXPECT_TRUE(run.checker.ok()) << run.checker.violation();
}

#if SYNOD_BUG_INJECTION
TEST(Figure8, checkerCatchesALeaderThatCommitsOldTermEntriesByCounting) {
  raft::Config config = figure8_config();
  config.bugs.commit_old_term_by_counting = true;
  Figure8 run(config);
  EXPECT_EQ(run.run_to_c(), 2U) << "the buggy leader commits entry 2 by counting";
  run.cluster.crash(1);
  run.cluster.restart(5);
  win_election(run.cluster, 5);
  run.cluster.deliver_all();
  ASSERT_FALSE(run.checker.ok()) << "a committed entry was overwritten and nothing noticed";
  EXPECT_NE(run.checker.violation().find("leader completeness"), std::string::npos)
      << run.checker.violation();
}
#endif

}  // namespace
}  // namespace synod::sim
