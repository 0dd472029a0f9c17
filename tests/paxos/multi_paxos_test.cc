// The Multi-Paxos core (paxos/multi_paxos.h) on the hand-driven cluster, with the invariant checker in
// its Multi-Paxos mode watching every event: a leader's slots are chosen in order; a new leader
// recovers what a majority may have chosen, fills holes with no-ops and keeps a value chosen by a
// majority whatever it would have proposed itself; a minority decides nothing; promises survive a
// restart; reads, leader transfer and snapshot catch-up work; bad input is refused without a change.
#include "paxos/multi_paxos.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "check/invariants.h"
#include "paxos/multi_ballot.h"
#include "sim/cluster.h"
#include "sim/paxos_engine.h"

namespace synod::paxos {
namespace {

using sim::Cluster;

// Scenarios elect whom they choose right after a crash, so acceptors do not wait out a leader they heard
// from lately (check_quorum off); the simulator sweeps run with it on.
MultiPaxosConfig scenario_config() {
  MultiPaxosConfig config;
  config.check_quorum = false;
  return config;
}

struct Harness {
  explicit Harness(std::vector<NodeId> ids = {1, 2, 3}, MultiPaxosConfig config = scenario_config())
      : cluster(std::move(ids), sim::multi_paxos_engine_factory(config), 7) {
    cluster.set_observer(&checker);
  }
  ~Harness() {
    checker.check_all(cluster);
    if (!expect_violation) {
      EXPECT_TRUE(checker.ok()) << checker.violation();
    }
  }
  MultiPaxos& core(NodeId id) { return dynamic_cast<MultiPaxos&>(cluster.engine(id)); }
  // The values applied at `id`, in slot order (no-ops as "-").
  std::vector<std::string> applied(NodeId id) {
    std::vector<std::string> out;
    const MultiPaxos& engine = core(id);
    for (Index slot = engine.log().first_index(); slot <= engine.log().commit(); ++slot) {
      const Entry* entry = engine.log().at(slot);
      out.push_back(entry->type == EntryType::kNoop ? "-" : entry->data);
    }
    return out;
  }
  // Ticks `id` alone (delivering everything) until it leads: a first try may fail on a ballot it had not
  // seen, which the refusals teach it.
  std::optional<NodeId> elect(NodeId id) {
    for (int i = 0; i < 500 && cluster.leader() != id; ++i) {
      cluster.tick(id);
      cluster.deliver_all();
    }
    return cluster.leader();
  }
  void propose(NodeId at, const std::string& value) { ASSERT_TRUE(cluster.propose(at, value).is_ok()); }
  // Drops every message in flight that matches.
  void drop_if(const std::function<bool(const Message&)>& match) {
    for (size_t i = cluster.in_flight().size(); i-- > 0;) {
      if (match(cluster.in_flight()[i])) cluster.drop(i);
    }
  }
  // Delivers the first message in flight that matches; false if none does.
  bool deliver_if(const std::function<bool(const Message&)>& match) {
    for (size_t i = 0; i < cluster.in_flight().size(); ++i) {
      if (match(cluster.in_flight()[i])) {
        (void)cluster.deliver(i);
        return true;
      }
    }
    return false;
  }

  check::InvariantChecker checker{40, check::Protocol::kMultiPaxos};
  Cluster cluster;
  bool expect_violation = false;  // an injected bug's test
};

bool is_accept_of(const Message& m, Index slot) {
  if (m.type != MessageType::kAccept) return false;
  for (const Entry& entry : m.entries) {
    if (entry.index == slot) return true;
  }
  return false;
}

TEST(MultiPaxos, aLeaderChoosesProposalsInSlotOrderOnEveryNode) {
  Harness h;
  ASSERT_EQ(h.cluster.campaign(1), 1U);
  EXPECT_EQ(ballot_node(h.core(1).ballot()), 1U);
  for (const char* value : {"a", "b", "c"}) h.propose(1, value);
  h.cluster.deliver_all();
  h.cluster.tick_all();
  h.cluster.deliver_all();
  for (NodeId id : {1, 2, 3}) {
    EXPECT_EQ(h.applied(id), (std::vector<std::string>{"a", "b", "c"})) << "node " << id;
  }
  // A follower forwards to the leader.
  h.propose(3, "d");
  h.cluster.deliver_all();
  h.cluster.tick_all();
  h.cluster.deliver_all();
  EXPECT_EQ(h.applied(2), (std::vector<std::string>{"a", "b", "c", "d"}));
}

TEST(MultiPaxos, aMinorityDecidesNothing) {
  Harness h;
  ASSERT_EQ(h.cluster.campaign(1), 1U);
  h.cluster.isolate(1);
  h.propose(1, "lost");
  for (int i = 0; i < 5; ++i) {
    h.cluster.tick(1);
    h.cluster.deliver_all();
  }
  EXPECT_EQ(h.core(1).log().commit(), 0U);
  EXPECT_EQ(h.core(1).log().last_index(), 1U);
}

// Slot 2's accept is lost everywhere and slot 3's reaches node 2 only; the leader dies. The next leader
// must find slot 3's value, and fill slot 2 (which nobody accepted) with a no-op, or slot 3 and
// everything after it could never be chosen.
void leave_a_hole(Harness& h) {
  ASSERT_EQ(h.cluster.campaign(1), 1U);
  h.propose(1, "a");
  h.cluster.deliver_all();
  h.propose(1, "b");
  h.drop_if([](const Message& m) { return is_accept_of(m, 2); });
  h.propose(1, "c");
  ASSERT_TRUE(h.deliver_if([](const Message& m) { return is_accept_of(m, 3) && m.to == 2; }));
  h.drop_if([](const Message& m) { return m.type == MessageType::kAccept; });
  h.cluster.crash(1);
  h.cluster.deliver_all();
}

TEST(MultiPaxos, aNewLeaderRecoversAcceptedSlotsAndFillsHolesWithNoops) {
  Harness h;
  leave_a_hole(h);
  ASSERT_EQ(h.core(2).log().accepted_ballot(2), 0U) << "slot 2 is a hole at node 2";
  ASSERT_NE(h.core(2).log().accepted_ballot(3), 0U);
  ASSERT_EQ(h.cluster.campaign(3), 3U);
  EXPECT_EQ(h.core(3).recovered_through(), 3U);
  h.propose(3, "d");
  h.cluster.deliver_all();
  h.cluster.tick_all();
  h.cluster.deliver_all();
  std::vector<std::string> expected{"a", "-", "c", "d"};
  EXPECT_EQ(h.applied(3), expected);
  EXPECT_EQ(h.applied(2), expected);
  h.cluster.restart(1);
  for (int i = 0; i < 3; ++i) {
    h.cluster.tick_all();
    h.cluster.deliver_all();
  }
  EXPECT_EQ(h.applied(1), expected) << "the old leader learns the recovered slots too";
}

#if SYNOD_BUG_INJECTION
TEST(MultiPaxos, aLeaderThatSkipsHoleFillingNeverChoosesPastTheHole) {
  MultiPaxosConfig config = scenario_config();
  config.bugs.skip_hole_filling = true;
  Harness h({1, 2, 3}, config);
  leave_a_hole(h);
  ASSERT_EQ(h.cluster.campaign(3), 3U);
  h.propose(3, "d");
  for (int i = 0; i < 20; ++i) {
    h.cluster.tick_all();
    h.cluster.deliver_all();
  }
  EXPECT_EQ(h.core(3).log().commit(), 1U) << "slot 2 stays empty, so nothing after it is chosen";
}
#endif

// Seed 004's scenario: a value accepted by a majority is chosen even if nobody learned it; whoever leads
// next must propose it again, not its own.
TEST(MultiPaxos, aValueChosenByAMajoritySurvivesEveryLaterLeader) {
  Harness h({1, 2, 3, 4, 5});
  ASSERT_EQ(h.cluster.campaign(1), 1U);
  h.propose(1, "chosen");
  // Only nodes 2 and 3 get the accept (with node 1: a majority of 5); every answer is lost.
  ASSERT_TRUE(h.deliver_if([](const Message& m) { return is_accept_of(m, 1) && m.to == 2; }));
  ASSERT_TRUE(h.deliver_if([](const Message& m) { return is_accept_of(m, 1) && m.to == 3; }));
  h.drop_if([](const Message&) { return true; });
  h.cluster.crash(1);
  // Node 5 leads with promises from 3, 4 and 5 (node 2 unreachable): node 3's report must win.
  h.cluster.isolate(2);
  ASSERT_EQ(h.cluster.campaign(5), 5U);
  h.propose(5, "mine");
  for (int i = 0; i < 3; ++i) {
    h.cluster.tick_all();
    h.cluster.deliver_all();
  }
  EXPECT_EQ(h.applied(5), (std::vector<std::string>{"chosen", "mine"}));
  EXPECT_EQ(h.applied(4), (std::vector<std::string>{"chosen", "mine"}));
}

// A node cut off from the others keeps timing out, but asks before it raises its promise (kPreVote):
// coming back, it must not refuse the working leader's accepts and depose it.
// Slot 1 holds two different values at two ballots: "x" at ballot b1 on nodes 1 and 2 (never chosen),
// then "y" at the higher b2 on nodes 3, 4 and 5 (chosen). A third leader whose promises come from 2, 3
// and 4 sees both; only the higher ballot's value may be proposed again.
void two_ballots_in_one_slot(Harness& h) {
  ASSERT_EQ(h.cluster.campaign(1), 1U);
  h.propose(1, "x");
  ASSERT_TRUE(h.deliver_if([](const Message& m) { return is_accept_of(m, 1) && m.to == 2; }));
  h.drop_if([](const Message&) { return true; });
  h.cluster.crash(1);
  h.cluster.isolate(2);
  ASSERT_EQ(h.cluster.campaign(5), 5U);
  h.propose(5, "y");
  h.cluster.deliver_all();
  h.cluster.tick(5);
  h.cluster.deliver_all();
  ASSERT_EQ(h.applied(5), (std::vector<std::string>{"y"}));
  h.cluster.heal();
  h.cluster.crash(5);
  ASSERT_EQ(h.elect(2), 2U);
  for (int i = 0; i < 3; ++i) {
    h.cluster.tick_all();
    h.cluster.deliver_all();
  }
}

TEST(MultiPaxos, aNewLeaderProposesTheHighestBallotsValueOfASlot) {
  Harness h({1, 2, 3, 4, 5});
  two_ballots_in_one_slot(h);
  EXPECT_EQ(h.applied(2), (std::vector<std::string>{"y"}));
  EXPECT_EQ(h.applied(3), (std::vector<std::string>{"y"}));
}

#if SYNOD_BUG_INJECTION
TEST(MultiPaxos, aLeaderThatIgnoresTheHighestAcceptedValueIsCaught) {
  MultiPaxosConfig config = scenario_config();
  config.bugs.ignore_highest_accepted = true;
  Harness h({1, 2, 3, 4, 5}, config);
  h.expect_violation = true;
  two_ballots_in_one_slot(h);
  h.checker.check_all(h.cluster);
  ASSERT_FALSE(h.checker.ok()) << "the chosen y was replaced and nobody noticed";
  std::cout << h.checker.violation().substr(0, 160) << '\n';
}
#endif

// Node 1 leads at ballot b1 and sends its accept of "x" for slot 1; it is slow to arrive. Meanwhile node 2
// wins phase 1 at b2 with node 3's promise alone (node 1 never hears of it; neither reports slot 1), and
// gets "y" chosen for slot 1 by nodes 2 and 3. Then node 1's old accept reaches node 3, which promised
// b2: a correct acceptor refuses it; one that takes it gives node 1 a majority for "x" in a slot already
// chosen.
void a_late_accept_from_a_superseded_leader(Harness& h) {
  ASSERT_EQ(h.cluster.campaign(1), 1U);
  h.propose(1, "x");
  auto old_accept = [](const Message& m) { return m.from == 1 && m.type == MessageType::kAccept; };
  // Node 2 times out; everything but node 1's accepts is delivered, and nothing reaches node 1.
  for (int i = 0; i < 100 && h.cluster.leader() != 2; ++i) {
    h.cluster.tick(2);
    h.drop_if([](const Message& m) { return m.to == 1; });
    while (h.deliver_if([&](const Message& m) { return !old_accept(m) && m.to != 1; })) {
      h.drop_if([](const Message& m) { return m.to == 1; });
    }
  }
  ASSERT_EQ(h.cluster.leader(), 2U);
  h.propose(2, "y");
  while (h.deliver_if([&](const Message& m) { return !old_accept(m) && m.to != 1; })) {
    h.drop_if([](const Message& m) { return m.to == 1; });
  }
  ASSERT_EQ(h.core(2).log().commit(), 1U) << "nodes 2 and 3 chose slot 1";
  ASSERT_EQ(h.applied(2), (std::vector<std::string>{"y"}));
  ASSERT_EQ(h.core(3).log().commit(), 0U) << "node 3 has not learned it yet";
  // Now the late accept arrives at node 3, and node 3's answer at node 1.
  ASSERT_TRUE(h.deliver_if([&](const Message& m) { return old_accept(m) && m.to == 3; }));
  ASSERT_TRUE(h.deliver_if([](const Message& m) { return m.from == 3 && m.to == 1; }));
  h.cluster.deliver_all();
}

TEST(MultiPaxos, anAcceptorRefusesAnAcceptBelowItsPromise) {
  Harness h;
  a_late_accept_from_a_superseded_leader(h);
  EXPECT_EQ(h.core(1).log().commit(), 0U) << "node 1 never had a majority for x";
  EXPECT_EQ(h.core(1).status().role, Role::kFollower) << "the refusal told node 1 of the higher ballot";
}

#if SYNOD_BUG_INJECTION
TEST(MultiPaxos, anAcceptorThatAcceptsBelowItsPromiseIsCaught) {
  MultiPaxosConfig config = scenario_config();
  config.bugs.accept_below_promise = true;
  Harness h({1, 2, 3}, config);
  h.expect_violation = true;
  a_late_accept_from_a_superseded_leader(h);
  h.checker.check_all(h.cluster);
  ASSERT_FALSE(h.checker.ok()) << "x and y were both chosen for slot 1 and nobody noticed";
  std::cout << h.checker.violation().substr(0, 160) << '\n';
}
#endif

TEST(MultiPaxos, aNodeBackFromAPartitionDoesNotDeposeTheLeader) {
  Harness h({1, 2, 3}, MultiPaxosConfig{});  // check_quorum on, as a server runs
  ASSERT_TRUE(h.cluster.run_until([&] { return h.cluster.leader().has_value(); }, 200));
  NodeId leader = *h.cluster.leader();
  NodeId cut = leader == 3 ? 2 : 3;
  Term ballot = h.core(leader).ballot();
  h.cluster.isolate(cut);
  for (int i = 0; i < 100; ++i) {
    h.cluster.tick_all();
    h.cluster.deliver_all();
  }
  EXPECT_LE(h.core(cut).promised(), ballot) << "no majority answered, so it promised nothing new";
  h.cluster.heal();
  h.propose(leader, "after");
  for (int i = 0; i < 10; ++i) {
    h.cluster.tick_all();
    h.cluster.deliver_all();
  }
  EXPECT_EQ(h.cluster.leader(), leader);
  EXPECT_EQ(h.core(leader).ballot(), ballot);
  EXPECT_EQ(h.applied(cut).back(), "after");
}

TEST(MultiPaxos, aRestartedAcceptorKeepsItsPromise) {
  Harness h;
  ASSERT_EQ(h.cluster.campaign(2), 2U);
  Term promised = h.core(1).promised();
  EXPECT_EQ(ballot_node(promised), 2U);
  h.cluster.crash(1);
  h.cluster.restart(1);
  EXPECT_EQ(h.core(1).promised(), promised);
  // A prepare below it is refused, with the promise in the answer.
  Message prepare;
  prepare.type = MessageType::kPrepare;
  prepare.from = 3;
  prepare.to = 1;
  prepare.term = make_ballot(ballot_round(promised) - 1, 3);
  prepare.index = 1;
  ASSERT_TRUE(h.core(1).step(prepare).is_ok());
  Ready ready = h.core(1).ready();
  ASSERT_EQ(ready.messages.size(), 1U);
  EXPECT_TRUE(ready.messages[0].reject);
  EXPECT_EQ(ready.messages[0].term, promised);
  EXPECT_FALSE(ready.hard_state.has_value()) << "a refusal changes nothing durable";
  h.core(1).advance();
}

TEST(MultiPaxos, readsAreServedAfterAQuorumConfirmsTheLeader) {
  Harness h;
  ASSERT_EQ(h.cluster.campaign(1), 1U);
  h.propose(1, "x");
  h.cluster.deliver_all();
  ASSERT_TRUE(h.cluster.read_index(1, "r1").is_ok());
  ASSERT_TRUE(h.cluster.read_index(2, "r2").is_ok());
  h.cluster.deliver_all();
  ASSERT_EQ(h.cluster.read_states(1).size(), 1U);
  EXPECT_EQ(h.cluster.read_states(1)[0].context, "r1");
  EXPECT_EQ(h.cluster.read_states(1)[0].index, 1U);
  ASSERT_EQ(h.cluster.read_states(2).size(), 1U);
  EXPECT_EQ(h.cluster.read_states(2)[0].context, "r2");
  // A leader cut off from the others cannot confirm a read.
  h.cluster.isolate(1);
  ASSERT_TRUE(h.cluster.read_index(1, "r3").is_ok());
  h.cluster.deliver_all();
  EXPECT_EQ(h.cluster.read_states(1).size(), 1U);
}

// The optional leader lease: while a majority took the leader's heartbeats within an election timeout,
// a read is answered at once, with no heartbeat round; cut off, the lease runs out and reads wait.
TEST(MultiPaxos, leaseReadsNeedNoRoundTripWhileTheLeaseHoldsAndStopWhenItRunsOut) {
  MultiPaxosConfig config;
  config.lease_reads = true;
  Harness h({1, 2, 3}, config);
  ASSERT_TRUE(h.cluster.run_until([&] { return h.cluster.leader().has_value(); }, 200));
  NodeId leader = *h.cluster.leader();
  h.propose(leader, "x");
  h.cluster.deliver_all();
  h.cluster.tick(leader);  // a heartbeat round, acknowledged
  h.cluster.deliver_all();
  ASSERT_TRUE(h.cluster.read_index(leader, "lease").is_ok());
  ASSERT_EQ(h.cluster.read_states(leader).size(), 1U) << "answered before any message moved";
  EXPECT_EQ(h.cluster.read_states(leader)[0].index, h.core(leader).log().commit());
  h.cluster.isolate(leader);
  for (int i = 0; i < h.core(leader).config().election_tick; ++i) h.cluster.tick(leader);
  ASSERT_TRUE(h.cluster.read_index(leader, "expired").is_ok());
  h.cluster.deliver_all();
  EXPECT_EQ(h.cluster.read_states(leader).size(), 1U) << "no lease and no quorum: no answer";
}

TEST(MultiPaxos, leadershipTransfersToACaughtUpFollower) {
  Harness h;
  ASSERT_EQ(h.cluster.campaign(1), 1U);
  h.propose(1, "x");
  h.cluster.deliver_all();
  ASSERT_TRUE(h.cluster.transfer_leader(1, 3).is_ok());
  h.cluster.deliver_all();
  EXPECT_EQ(h.core(3).status().role, Role::kLeader);
  EXPECT_EQ(h.core(1).status().role, Role::kFollower);
  h.propose(3, "y");
  h.cluster.deliver_all();
  h.cluster.tick_all();
  h.cluster.deliver_all();
  EXPECT_EQ(h.applied(1), (std::vector<std::string>{"x", "y"}));
}

TEST(MultiPaxos, aFollowerBehindTheLeadersSnapshotCatchesUpFromIt) {
  Harness h;
  ASSERT_EQ(h.cluster.campaign(1), 1U);
  h.cluster.isolate(3);
  for (int i = 0; i < 6; ++i) h.propose(1, "v" + std::to_string(i));
  h.cluster.deliver_all();
  h.cluster.tick_all();
  h.cluster.deliver_all();
  ASSERT_TRUE(h.cluster.compact(1).is_ok());
  EXPECT_GE(h.core(1).log().snapshot_index(), 6U);
  h.cluster.heal();
  for (int i = 0; i < 3; ++i) {
    h.cluster.tick_all();
    h.cluster.deliver_all();
  }
  EXPECT_EQ(h.core(3).log().snapshot_index(), h.core(1).log().snapshot_index());
  EXPECT_EQ(h.core(3).log().commit(), h.core(1).log().commit());
  EXPECT_EQ(h.cluster.state_machine(3).chain_hash(), h.cluster.state_machine(1).chain_hash());
}

TEST(MultiPaxos, badInputIsRefusedAndChangesNothing) {
  Harness h;
  ASSERT_EQ(h.cluster.campaign(1), 1U);
  MultiPaxos& core = h.core(2);
  Term promised = core.promised();
  uint64_t version = core.log().version();
  auto accept = [&](Term ballot) {
    Message m;
    m.type = MessageType::kAccept;
    m.from = 1;
    m.to = 2;
    m.term = ballot;
    m.entries.push_back(Entry{ballot, 5, EntryType::kNormal, "x"});
    return m;
  };
  std::vector<Message> bad;
  bad.push_back(accept(make_ballot(9, 3)));  // a ballot that is not the sender's
  Message vacant = accept(make_ballot(9, 1));
  vacant.entries[0].type = EntryType::kVacant;
  bad.push_back(vacant);
  Message disorder = accept(make_ballot(9, 1));
  disorder.entries.push_back(Entry{0, 4, EntryType::kNormal, "y"});
  bad.push_back(disorder);
  Message raft_append = accept(make_ballot(9, 1));
  raft_append.type = MessageType::kAppend;
  bad.push_back(raft_append);
  Message stranger = accept(make_ballot(9, 1));
  stranger.from = 9;
  bad.push_back(stranger);
  Message empty = accept(make_ballot(9, 1));
  empty.entries.clear();
  bad.push_back(empty);
  bad.push_back(accept(0));
  uint64_t dropped = core.status().counters.messages_dropped_invalid;
  for (const Message& m : bad) {
    EXPECT_EQ(core.step(m).code(), ErrorCode::kDropped) << m.describe();
  }
  EXPECT_EQ(core.status().counters.messages_dropped_invalid, dropped + bad.size());
  EXPECT_EQ(core.promised(), promised);
  EXPECT_EQ(core.log().version(), version);
}

// A promise that claims slots chosen without carrying their values is not counted: taking it would
// make this node choose slots it holds nothing for.
TEST(MultiPaxos, aPromiseClaimingChosenSlotsWithoutTheirValuesIsNotCounted) {
  Harness forged;
  MultiPaxos& candidate = forged.core(1);
  // Node 1 times out and asks; the answers to its pre-vote make it a candidate, whose prepares stay in
  // flight.
  for (int i = 0; i < 100 && candidate.status().role != Role::kCandidate; ++i) {
    forged.cluster.tick(1);
    for (size_t k = forged.cluster.in_flight().size(); k-- > 0;) {
      if (forged.cluster.in_flight()[k].type == MessageType::kPreVote) (void)forged.cluster.deliver(k);
    }
    for (size_t k = forged.cluster.in_flight().size(); k-- > 0;) {
      if (forged.cluster.in_flight()[k].type == MessageType::kPreVoteResponse)
        (void)forged.cluster.deliver(k);
    }
  }
  ASSERT_EQ(candidate.status().role, Role::kCandidate);
  Message promise;
  promise.type = MessageType::kPromise;
  promise.from = 2;
  promise.to = 1;
  promise.term = candidate.ballot();
  promise.commit = 500;
  uint64_t dropped = candidate.status().counters.messages_dropped_invalid;
  EXPECT_TRUE(candidate.step(promise).is_ok());
  EXPECT_EQ(candidate.status().role, Role::kCandidate) << "the forged promise made no quorum";
  EXPECT_EQ(candidate.status().counters.messages_dropped_invalid, dropped + 1);
  EXPECT_EQ(candidate.log().commit(), 0U);
  forged.cluster.deliver_all();  // the real promises elect it, with nothing chosen
  EXPECT_EQ(candidate.status().role, Role::kLeader);
  EXPECT_EQ(candidate.log().commit(), 0U);
}

TEST(MultiPaxos, aBadConfigurationOrDurableStateIsRefused) {
  MultiPaxosConfig config;
  config.id = 1;
  config.voters = {1, 70000};
  EXPECT_FALSE(MultiPaxos::create(config).is_ok());
  config.voters = {1, 2, 3};
  DurableState durable;
  durable.entries.push_back(Entry{make_ballot(1, 1), 2, EntryType::kNormal, "gap before me"});
  EXPECT_EQ(MultiPaxos::create(config, durable).status().code(), ErrorCode::kCorruption);
  durable.entries = {Entry{0, 1, EntryType::kVacant, {}}};
  durable.hard_state.commit = 1;
  EXPECT_EQ(MultiPaxos::create(config, durable).status().code(), ErrorCode::kCorruption)
      << "a vacant slot cannot be chosen";
}

}  // namespace
}  // namespace synod::paxos
