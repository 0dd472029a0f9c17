// Leader completeness across many elections (paper 5.4): every new leader holds every entry committed
// before it, whichever way the old leader went (crash, isolation, or handing over).
#include <map>
#include <set>

#include <gtest/gtest.h>

#include "check/invariants.h"
#include "sim/cluster.h"
#include "sim/raft_engine.h"

namespace synod::sim {
namespace {

TEST(LeaderCompleteness, everyNewLeaderHoldsEveryCommittedEntryOverFortyElections) {
  raft::Config config;
  config.election_tick = 6;
  Cluster cluster({1, 2, 3, 4, 5}, raft_engine_factory(config), 42);
  check::InvariantChecker checker;
  cluster.set_observer(&checker);
  std::map<Index, Entry> committed;
  std::set<Term> terms;
  for (int round = 0; round < 40; ++round) {
    ASSERT_TRUE(cluster.run_until([&] { return cluster.leader().has_value(); }, 500)) << "round " << round;
    NodeId leader = *cluster.leader();
    const Engine& engine = cluster.engine(leader);
    terms.insert(engine.status().term);
    for (const auto& [index, entry] : committed) {
      if (index <= engine.status().snapshot_index) continue;
      ASSERT_EQ(engine.entry_at(index), entry) << "leader " << leader << " lost committed entry " << index;
    }
    for (int k = 0; k < 3; ++k)
      (void)cluster.propose(leader, "set r" + std::to_string(round) + " " + std::to_string(k));
    cluster.deliver_all();
    Index commit = engine.status().commit;
    for (Index index = engine.status().first_index; index <= commit; ++index)
      committed[index] = *engine.entry_at(index);
    // Depose the leader a different way each round.
    switch (round % 3) {
      case 0:
        cluster.crash(leader);
        ASSERT_TRUE(cluster.run_until([&] { return cluster.leader().has_value(); }, 500));
        cluster.restart(leader);
        break;
      case 1:
        cluster.isolate(leader);
        (void)cluster.propose(leader, "lost " + std::to_string(round));  // never commits
        ASSERT_TRUE(cluster.run_until(
            [&] { return cluster.leader().has_value() && cluster.leader() != leader; }, 500));
        cluster.heal();
        break;
      case 2: {
        NodeId next = leader % 5 + 1;
        ASSERT_TRUE(cluster.transfer_leader(leader, next).is_ok());
        cluster.deliver_all();
        break;
      }
    }
  }
  EXPECT_GE(terms.size(), 30U) << "the test must actually change leaders";
  EXPECT_GE(committed.size(), 100U);
  EXPECT_TRUE(checker.ok()) << checker.violation();
}

}  // namespace
}  // namespace synod::sim
