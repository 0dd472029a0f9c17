// Single-decree Paxos end to end: the seeds' scenarios, malformed input, and randomized runs with
// every fault the cluster harness has (loss, duplication, reordering, partitions, crash-restarts),
// where at most one value may ever be chosen and every node learns it once the faults stop. The
// injected bugs must break that within the same runs.
#include "paxos/single_decree.h"

#include <algorithm>

#include <gtest/gtest.h>

#include "sim/paxos_cluster.h"

namespace synod::paxos {
namespace {

using sim::PaxosCluster;

// Ticks and delivers until every node learned, or `rounds` run out.
void settle(PaxosCluster& c, int rounds = 200) {
  for (int i = 0; i < rounds && !c.everyone_learned(); ++i) {
    c.tick_all();
    c.deliver_all();
  }
}

TEST(PaxosSingleDecree, aLoneProposerDecidesItsValueEverywhere) {
  PaxosCluster c(3, 1);
  c.propose(1, "blue");
  settle(c);
  ASSERT_TRUE(c.everyone_learned());
  for (NodeId id : c.ids()) EXPECT_EQ(c.node(id).query(), "blue");
  EXPECT_FALSE(c.violation()) << *c.violation();
}

// Delivers the messages for which `keep` holds and drops every other one, until none is in flight.
template <typename Keep>
void deliver_only(PaxosCluster& c, Keep keep) {
  while (!c.network().empty()) {
    if (keep(c.network().front())) {
      c.deliver(0);
    } else {
      c.drop(0);
    }
  }
}

bool phase_traffic(const Message& m) {
  return m.type == MessageType::kPrepare || m.type == MessageType::kPromise || m.type == MessageType::kAccept;
}

// Nodes 1-3 accept "blue" at node 1's ballot, so it is chosen, but no acceptance and no decision
// reaches anyone: nobody has learned it. Node 1 then crashes for good.
void choose_blue_silently(PaxosCluster& c) {
  c.partition({1, 2, 3});
  c.propose(1, "blue");
  deliver_only(c, phase_traffic);
  ASSERT_EQ(c.chosen(), "blue");
  for (NodeId id : c.ids()) ASSERT_FALSE(c.node(id).query().has_value()) << "node " << id;
  c.crash(1);
  c.heal();
}

// Seed 002: once a majority accepted a value, every later ballot finds it in some promise and keeps it.
TEST(PaxosSingleDecree, aValueChosenByAMajoritySurvivesLaterProposers) {
  PaxosCluster c(5, 1);
  choose_blue_silently(c);
  // Node 5 proposes red and node 4 green; any majority of 2-5 includes 2 or 3, whose promise reports
  // blue, so blue is what they put to phase 2.
  c.propose(5, "red");
  c.propose(4, "green");
  for (int i = 0; i < 200 && !(c.node(4).query() && c.node(5).query()); ++i) {
    c.tick_all();
    c.deliver_all();
  }
  EXPECT_EQ(c.node(5).query(), "blue");
  EXPECT_EQ(c.node(4).query(), "blue");
  EXPECT_FALSE(c.violation()) << *c.violation();
}

#if SYNOD_BUG_INJECTION
TEST(PaxosSingleDecree, aProposerThatIgnoresAcceptedValuesChoosesASecondValue) {
  paxos::SingleDecreeConfig base;
  base.proposer_bugs.ignore_accepted_values = true;
  PaxosCluster c(5, 1, base);
  choose_blue_silently(c);
  c.propose(5, "red");
  for (int i = 0; i < 200 && !c.violation(); ++i) {
    c.tick_all();
    c.deliver_all();
  }
  ASSERT_TRUE(c.violation().has_value());
  // Red is accepted by a majority (chosen a second time) and learned; whichever the checker sees first.
  EXPECT_NE(c.violation()->find("red"), std::string::npos) << *c.violation();
  EXPECT_NE(c.violation()->find("blue"), std::string::npos) << *c.violation();
}
#endif

// A proposer that crashes after its value was chosen, before telling anyone, leaves nobody waiting:
// an acceptor that accepted and then hears nothing finishes the value itself.
TEST(PaxosSingleDecree, aValueChosenWithoutItsProposerIsStillLearned) {
  PaxosCluster c(5, 1);
  choose_blue_silently(c);
  for (int i = 0; i < 300 && !(c.node(2).query() && c.node(5).query()); ++i) {
    c.tick_all();
    c.deliver_all();
  }
  for (NodeId id : {2, 3, 4, 5}) EXPECT_EQ(c.node(id).query(), "blue") << "node " << id;
  EXPECT_FALSE(c.violation()) << *c.violation();
}

TEST(PaxosSingleDecree, aMinorityCannotDecide) {
  PaxosCluster c(5, 1);
  c.partition({4, 5});
  c.propose(4, "red");
  c.propose(5, "green");
  for (int i = 0; i < 300; ++i) {
    c.tick_all();
    c.deliver_all();
  }
  EXPECT_FALSE(c.chosen().has_value());
  for (NodeId id : c.ids()) EXPECT_FALSE(c.node(id).query().has_value()) << "node " << id;
  // The majority side decides on its own, and the minority learns it after the partition heals.
  c.propose(1, "blue");
  for (int i = 0; i < 50 && !c.node(3).query(); ++i) {
    c.tick_all();
    c.deliver_all();
  }
  EXPECT_EQ(c.node(3).query(), "blue");
  c.heal();
  settle(c);
  EXPECT_TRUE(c.everyone_learned());
  EXPECT_EQ(c.node(4).query(), "blue");
  EXPECT_FALSE(c.violation()) << *c.violation();
}

TEST(PaxosSingleDecree, duellingProposersSettleOnOneValue) {
  PaxosCluster c(3, 7);
  c.propose(1, "blue");
  c.propose(2, "red");
  c.propose(3, "green");
  settle(c, 500);
  ASSERT_TRUE(c.everyone_learned());
  EXPECT_FALSE(c.violation()) << *c.violation();
  std::string decided = *c.node(1).query();
  EXPECT_TRUE(decided == "blue" || decided == "red" || decided == "green") << decided;
}

TEST(PaxosSingleDecree, aRestartedAcceptorKeepsItsPromise) {
  PaxosCluster c(3, 1);
  c.partition({2, 3});
  c.propose(3, "red");
  deliver_only(c, [](const Message& m) { return m.type == MessageType::kPrepare; });
  ASSERT_EQ(c.node(2).durable().acceptor.promised, (paxos::Ballot{1, 3}));
  c.crash(2);
  c.restart(2);
  EXPECT_EQ(c.node(2).durable().acceptor.promised, (paxos::Ballot{1, 3}));
  // Node 1's first ballot, (1,1), is below that promise: the restarted node 2 refuses it.
  c.partition({1, 2});
  c.propose(1, "blue");
  auto prepare_to_2 = std::find_if(c.network().begin(), c.network().end(), [](const Message& m) {
    return m.type == MessageType::kPrepare && m.to == 2;
  });
  ASSERT_NE(prepare_to_2, c.network().end());
  EXPECT_EQ(prepare_to_2->ballot, (paxos::Ballot{1, 1}));
  c.deliver(static_cast<size_t>(prepare_to_2 - c.network().begin()));
  bool refused = std::any_of(c.network().begin(), c.network().end(), [](const Message& m) {
    return m.from == 2 && m.to == 1 && m.type == MessageType::kReject && m.promised == paxos::Ballot{1, 3};
  });
  EXPECT_TRUE(refused) << "node 2 forgot its promise across the restart";
}

TEST(PaxosSingleDecree, aRestartedProposerNeverReusesABallot) {
  PaxosCluster c(3, 1);
  c.partition({1});  // its prepares go nowhere
  c.propose(1, "blue");
  uint64_t used = c.node(1).proposer().ballot().round;
  ASSERT_GT(used, 0U);
  c.crash(1);
  c.restart(1);
  c.propose(1, "red");
  EXPECT_GT(c.node(1).proposer().ballot().round, used);
}

// ---- Bad input ------------------------------------------------------------------------------------

Message from(NodeId sender, MessageType type, Ballot ballot) {
  Message m;
  m.type = type;
  m.from = sender;
  m.to = 1;
  m.ballot = ballot;
  return m;
}

TEST(PaxosSingleDecree, malformedMessagesAreRefusedAndChangeNothing) {
  PaxosCluster c(3, 1);
  SingleDecree& node = c.node(1);
  SingleDecreeDurable before = node.durable();
  std::vector<Message> bad;
  bad.push_back(from(9, MessageType::kPrepare, {1, 9}));    // not a peer
  bad.push_back(from(1, MessageType::kPrepare, {1, 1}));    // from itself
  bad.push_back(from(2, MessageType::kPrepare, {1, 3}));    // someone else's ballot
  bad.push_back(from(2, MessageType::kPrepare, {0, 2}));    // the null ballot
  bad.push_back(from(2, MessageType::kAccept, {1, 2}));     // accept without a value
  bad.push_back(from(2, MessageType::kPromise, {1, 2}));    // answers a ballot not of node 1
  bad.push_back(from(2, MessageType::kDecided, {}));        // decision without a value
  Message refusal = from(2, MessageType::kReject, {1, 1});  // refusal without a higher promise
  bad.push_back(refusal);
  Message odd_promise = from(2, MessageType::kPromise, {1, 1});
  odd_promise.accepted_ballot = {2, 3};  // above the ballot promised, and no value
  bad.push_back(odd_promise);
  Message wrong_to = from(2, MessageType::kPrepare, {1, 2});
  wrong_to.to = 3;
  bad.push_back(wrong_to);
  Message unknown = from(2, MessageType::kPrepare, {1, 2});
  unknown.type = static_cast<MessageType>(99);
  bad.push_back(unknown);
  Message above = from(2, MessageType::kPromise, {1, 1});
  above.accepted_ballot = {2, 3};  // above the ballot promised
  above.value = "v";
  bad.push_back(above);
  bad.push_back(from(2, MessageType::kPrepare, {SingleDecreeConfig::kMaxRound, 2}));  // would overflow
  bad.push_back(from(2, MessageType::kLearned, {5, 2}));                              // a stray ballot
  Message stray = from(2, MessageType::kPrepare, {1, 2});
  stray.promised = {7, 3};  // a field prepares do not carry
  bad.push_back(stray);
  Message half = from(2, MessageType::kPrepare, {1, 2});
  half.accepted_ballot = {0, 3};  // half null
  bad.push_back(half);
  Message huge = from(2, MessageType::kAccept, {1, 2});
  huge.value = std::string((size_t{1} << 20U) + 1, 'x');
  bad.push_back(huge);
  for (const Message& m : bad) {
    Status status = node.step(m);
    EXPECT_EQ(status.code(), ErrorCode::kDropped) << m.describe();
  }
  EXPECT_EQ(node.durable(), before);
  EXPECT_FALSE(node.has_ready());
  EXPECT_EQ(node.propose(std::string((size_t{1} << 20U) + 1, 'x')).code(), ErrorCode::kTooLarge);
}

TEST(PaxosSingleDecree, aContradictingDecisionIsRefused) {
  PaxosCluster c(3, 1);
  c.propose(1, "blue");
  settle(c);
  Message lie = from(2, MessageType::kDecided, {});
  lie.value = "red";
  EXPECT_EQ(c.node(1).step(lie).code(), ErrorCode::kCorruption);
  EXPECT_EQ(c.node(1).query(), "blue");
}

TEST(PaxosSingleDecree, aBadConfigurationIsRefused) {
  SingleDecreeConfig config;
  config.id = 4;
  config.nodes = {1, 2, 3};
  EXPECT_FALSE(SingleDecree::create(config, {}).is_ok());
  config.nodes = {1, 2, 2, 4};
  EXPECT_FALSE(SingleDecree::create(config, {}).is_ok());
  config.nodes = {1, 2, 4};
  config.backoff_ticks = 0;
  EXPECT_FALSE(SingleDecree::create(config, {}).is_ok());
}

// ---- Randomized runs --------------------------------------------------------------------------------

struct Outcome {
  bool violated = false;
  bool all_learned = false;
  std::string why;
};

// `steps` random events (deliver any message, drop, duplicate, tick, propose, crash, restart,
// partition), then the faults stop and the cluster must converge.
Outcome run_random(uint64_t seed, SingleDecreeConfig base = {}, int nodes = 5, int steps = 3000) {
  PaxosCluster c(nodes, seed, base);
  c.set_crash_before_send(2);
  Random& r = c.random();
  const char* colours[] = {"red", "green", "blue", "cyan", "magenta", "yellow"};
  for (int step = 0; step < steps && !c.violation(); ++step) {
    NodeId someone = c.ids()[r.uniform(c.ids().size())];
    uint64_t roll = r.uniform(100);
    if (roll < 45 && !c.network().empty()) {
      c.deliver(r.uniform(c.network().size()));
    } else if (roll < 55 && !c.network().empty()) {
      c.drop(r.uniform(c.network().size()));
    } else if (roll < 60 && !c.network().empty()) {
      c.duplicate(r.uniform(c.network().size()));
    } else if (roll < 85) {
      c.tick(someone);
    } else if (roll < 92) {
      c.propose(someone, colours[r.uniform(6)]);
    } else if (roll < 95) {
      if (c.crashed(someone)) {
        c.restart(someone);
      } else {
        c.crash(someone);
      }
    } else if (roll < 97) {
      std::set<NodeId> side;
      for (NodeId id : c.ids()) {
        if (r.chance(1, 2)) side.insert(id);
      }
      c.partition(side);
    } else {
      c.heal();
    }
  }
  Outcome out;
  if (!c.violation()) {
    c.heal();
    c.set_crash_before_send(0);
    for (NodeId id : c.ids()) {
      if (c.crashed(id)) c.restart(id);
    }
    c.propose(1, "final");  // liveness: someone proposes once the faults stop
    settle(c, 1000);
  }
  out.violated = c.violation().has_value();
  out.why = c.violation().value_or("");
  out.all_learned = c.everyone_learned();
  return out;
}

TEST(PaxosSingleDecree, randomFaultsNeverChooseTwoValuesAndEveryoneLearnsAfterwards) {
  for (uint64_t seed = 1; seed <= 300; ++seed) {
    Outcome out = run_random(seed);
    ASSERT_FALSE(out.violated) << "seed " << seed << ": " << out.why;
    ASSERT_TRUE(out.all_learned) << "seed " << seed << ": not everyone learned once the faults stopped";
  }
}

// What synod-paxos-demo runs: several proposers at once, lost and copied messages, acceptors crashing
// and restarting; exactly one value is decided and every node learns it.
TEST(PaxosSingleDecree, theDemoRunDecidesOneValueEverywhereUnderFaults) {
  for (uint64_t seed = 1; seed <= 200; ++seed) {
    sim::PaxosRunReport report = sim::run_paxos(
        5, 3, sim::PaxosFaults{.drop_percent = 20, .duplicate_percent = 10, .crash_percent = 3}, seed,
        nullptr);
    ASSERT_FALSE(report.violation) << "seed " << seed << ": " << *report.violation;
    ASSERT_TRUE(report.everyone_learned) << "seed " << seed << " after " << report.ticks << " ticks";
    ASSERT_TRUE(report.decided == "blue" || report.decided == "red" || report.decided == "green")
        << "seed " << seed << ": " << report.decided.value_or("(none)");
  }
}

#if SYNOD_BUG_INJECTION
// Each injected bug must be caught by the same randomized runs (the first seed that shows it is named
// in the failure message of the run above if it ever leaked into the real code).
int seeds_until_violation(const SingleDecreeConfig& base) {
  for (int seed = 1; seed <= 300; ++seed) {
    if (run_random(static_cast<uint64_t>(seed), base).violated) return seed;
  }
  return 0;
}

TEST(PaxosSingleDecree, theRandomRunsCatchAnAcceptorThatAcceptsBelowItsPromise) {
  SingleDecreeConfig base;
  base.acceptor_bugs.accept_below_promise = true;
  EXPECT_GT(seeds_until_violation(base), 0) << "no seed in 1-300 chose two values";
}

TEST(PaxosSingleDecree, theRandomRunsCatchAProposerThatIgnoresAcceptedValues) {
  SingleDecreeConfig base;
  base.proposer_bugs.ignore_accepted_values = true;
  EXPECT_GT(seeds_until_violation(base), 0) << "no seed in 1-300 chose two values";
}
#endif

}  // namespace
}  // namespace synod::paxos
