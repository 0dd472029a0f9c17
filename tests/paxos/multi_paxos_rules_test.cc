// The Multi-Paxos core's rules one by one, on a single engine fed messages by hand: the vote rule
// (promise above the promise held, durable before the answer), the accept rule (at or above it, out of
// order, never a chosen slot, within the window), the choice rule (the highest ballot's value; holes
// become no-ops), the commit rule (a majority at the leader's ballot, the leader's own slot only once
// durable) and learning (a follower takes a slot as chosen only where it holds the leader's value).
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "paxos/multi_ballot.h"
#include "paxos/multi_paxos.h"

namespace synod::paxos {
namespace {

std::unique_ptr<MultiPaxos> make_node(NodeId id, std::vector<NodeId> voters = {1, 2, 3},
                                      MultiPaxosConfig config = {}) {
  config.id = id;
  config.voters = std::move(voters);
  config.check_quorum = false;
  return MultiPaxos::create(config).value();
}

Message message(MessageType type, NodeId from, NodeId to, Term ballot) {
  Message m;
  m.type = type;
  m.from = from;
  m.to = to;
  m.term = ballot;
  return m;
}

Message accept(NodeId from, NodeId to, Term ballot, std::vector<std::pair<Index, std::string>> slots,
               Index commit = 0) {
  Message m = message(MessageType::kAccept, from, to, ballot);
  for (auto& [slot, value] : slots) m.entries.push_back(Entry{ballot, slot, EntryType::kNormal, value});
  m.commit = commit;
  return m;
}

// Hands out the engine's Ready and acknowledges it, as the node does once it is persisted.
Ready drain(MultiPaxos& node) {
  Ready ready = node.ready();
  node.advance();
  return ready;
}

const Message* find(const Ready& ready, MessageType type) {
  for (const Message& m : ready.messages) {
    if (m.type == type) return &m;
  }
  return nullptr;
}

TEST(MultiPaxosRules, voteRuleAPromiseIsDurableInTheReadyThatCarriesIt) {
  auto node = make_node(2);
  Message prepare = message(MessageType::kPrepare, 1, 2, make_ballot(3, 1));
  prepare.index = 1;
  ASSERT_TRUE(node->step(prepare).is_ok());
  Ready ready = drain(*node);
  ASSERT_TRUE(ready.hard_state.has_value());
  EXPECT_EQ(ready.hard_state->term, make_ballot(3, 1)) << "persisted before the promise is sent";
  const Message* promise = find(ready, MessageType::kPromise);
  ASSERT_NE(promise, nullptr);
  EXPECT_FALSE(promise->reject);
  EXPECT_FALSE(may_send_before_persist(*promise));
  // A lower ballot is refused with the promise held; nothing durable changes.
  Message lower = message(MessageType::kPrepare, 3, 2, make_ballot(2, 3));
  lower.index = 1;
  ASSERT_TRUE(node->step(lower).is_ok());
  Ready refused = drain(*node);
  EXPECT_FALSE(refused.hard_state.has_value());
  const Message* answer = find(refused, MessageType::kPromise);
  ASSERT_NE(answer, nullptr);
  EXPECT_TRUE(answer->reject);
  EXPECT_EQ(answer->term, make_ballot(3, 1));
}

TEST(MultiPaxosRules, voteRuleAPromiseReportsEverySlotAcceptedFromTheAskedOneOn) {
  auto node = make_node(2);
  ASSERT_TRUE(node->step(accept(1, 2, make_ballot(1, 1), {{1, "a"}, {2, "b"}, {4, "d"}})).is_ok());
  drain(*node);
  Message prepare = message(MessageType::kPrepare, 3, 2, make_ballot(2, 3));
  prepare.index = 2;
  ASSERT_TRUE(node->step(prepare).is_ok());
  Ready ready = drain(*node);
  const Message* promise = find(ready, MessageType::kPromise);
  ASSERT_NE(promise, nullptr);
  ASSERT_EQ(promise->entries.size(), 2U) << "slots 2 and 4; slot 3 was never accepted";
  EXPECT_EQ(promise->entries[0].index, 2U);
  EXPECT_EQ(promise->entries[0].term, make_ballot(1, 1));
  EXPECT_EQ(promise->entries[1].index, 4U);
}

TEST(MultiPaxosRules, acceptRuleTakesSlotsOutOfOrderAtOrAboveThePromiseOnly) {
  auto node = make_node(2);
  ASSERT_TRUE(node->step(accept(1, 2, make_ballot(1, 1), {{3, "c"}})).is_ok());
  Ready ready = drain(*node);
  ASSERT_EQ(ready.entries.size(), 3U) << "slots 1 and 2 wait as vacant places";
  EXPECT_EQ(ready.entries[0].type, EntryType::kVacant);
  EXPECT_EQ(ready.entries[2].data, "c");
  const Message* accepted = find(ready, MessageType::kAccepted);
  ASSERT_NE(accepted, nullptr);
  EXPECT_EQ(accepted->index, 0U) << "no slot held without a gap";
  EXPECT_EQ(accepted->hint_index, 3U) << "the gap shows: slot 3 taken past it";
  // A higher promise, then an accept below it: refused, nothing accepted.
  Message prepare = message(MessageType::kPrepare, 3, 2, make_ballot(5, 3));
  prepare.index = 1;
  ASSERT_TRUE(node->step(prepare).is_ok());
  drain(*node);
  uint64_t version = node->log().version();
  EXPECT_EQ(node->step(accept(1, 2, make_ballot(1, 1), {{1, "a"}})).code(), ErrorCode::kStale);
  Ready refused = drain(*node);
  EXPECT_EQ(node->log().version(), version);
  EXPECT_TRUE(refused.entries.empty());
  const Message* refusal = find(refused, MessageType::kAccepted);
  ASSERT_NE(refusal, nullptr);
  EXPECT_TRUE(refusal->reject);
  EXPECT_EQ(refusal->term, make_ballot(5, 3));
}

TEST(MultiPaxosRules, acceptRuleNeverChangesAChosenSlotAndKeepsToItsWindow) {
  MultiPaxosConfig config;
  config.id = 2;
  config.voters = {1, 2, 3};
  config.accept_window = 10;
  auto node = MultiPaxos::create(config).value();
  Term b1 = make_ballot(1, 1);
  ASSERT_TRUE(node->step(accept(1, 2, b1, {{1, "a"}}, /*commit=*/1)).is_ok());
  drain(*node);
  ASSERT_EQ(node->log().commit(), 1U);
  Term b2 = make_ballot(2, 3);
  ASSERT_TRUE(node->step(accept(3, 2, b2, {{1, "other"}, {5, "e"}, {50, "far"}})).is_ok());
  drain(*node);
  EXPECT_EQ(node->log().at(1)->data, "a") << "chosen: never replaced";
  EXPECT_EQ(node->log().at(5)->data, "e");
  EXPECT_EQ(node->log().last_index(), 5U) << "slot 50 is past the window";
}

// Leader side: node 1 campaigns; its peers' promises are built by hand.
std::unique_ptr<MultiPaxos> candidate(MultiPaxosConfig config = {}) {
  auto node = make_node(1, {1, 2, 3}, config);
  for (int i = 0; i < 100 && node->status().role != Role::kPreCandidate; ++i) node->tick();
  EXPECT_EQ(node->status().role, Role::kPreCandidate);
  Message grant = message(MessageType::kPreVoteResponse, 2, 1, node->ballot());
  EXPECT_TRUE(node->step(grant).is_ok());
  EXPECT_EQ(node->status().role, Role::kCandidate);
  drain(*node);
  return node;
}

TEST(MultiPaxosRules, choiceRuleTakesTheHighestBallotsValueAndFillsHoles) {
  auto node = candidate();
  Term mine = node->ballot();
  Message promise = message(MessageType::kPromise, 2, 1, mine);
  promise.entries = {Entry{make_ballot(1, 3), 1, EntryType::kNormal, "old"},
                     Entry{make_ballot(1, 3), 3, EntryType::kNormal, "c"}};
  // Our own acceptor holds nothing; node 2 reports slots 1 and 3, none for slot 2.
  ASSERT_TRUE(node->step(promise).is_ok());
  ASSERT_EQ(node->status().role, Role::kLeader);
  ASSERT_EQ(node->log().last_index(), 3U);
  EXPECT_EQ(node->log().at(1)->data, "old");
  EXPECT_EQ(node->log().at(2)->type, EntryType::kNoop) << "a hole nobody reported";
  EXPECT_EQ(node->log().at(3)->data, "c");
  for (Index slot = 1; slot <= 3; ++slot) EXPECT_EQ(node->log().at(slot)->term, mine) << "re-proposed";
  EXPECT_EQ(node->recovered_through(), 3U);
}

TEST(MultiPaxosRules, choiceRulePrefersTheHigherBallotOverTheLower) {
  auto node = make_node(1, {1, 2, 3, 4, 5});
  for (int i = 0; i < 100 && node->status().role != Role::kPreCandidate; ++i) node->tick();
  ASSERT_TRUE(node->step(message(MessageType::kPreVoteResponse, 2, 1, node->ballot())).is_ok());
  ASSERT_TRUE(node->step(message(MessageType::kPreVoteResponse, 3, 1, node->ballot())).is_ok());
  ASSERT_EQ(node->status().role, Role::kCandidate);
  drain(*node);
  Term mine = node->ballot();
  Message low = message(MessageType::kPromise, 2, 1, mine);
  low.entries = {Entry{make_ballot(1, 4), 1, EntryType::kNormal, "x"}};
  Message high = message(MessageType::kPromise, 3, 1, mine);
  high.entries = {Entry{make_ballot(2, 5), 1, EntryType::kNormal, "y"}};
  ASSERT_TRUE(node->step(high).is_ok());
  ASSERT_TRUE(node->step(low).is_ok());
  ASSERT_EQ(node->status().role, Role::kLeader);
  EXPECT_EQ(node->log().at(1)->data, "y");
}

TEST(MultiPaxosRules, commitRuleNeedsAMajorityAtThisBallotAndTheLeadersOwnSlotOnceDurable) {
  auto node = candidate();
  ASSERT_TRUE(node->step(message(MessageType::kPromise, 2, 1, node->ballot())).is_ok());
  ASSERT_EQ(node->status().role, Role::kLeader);
  drain(*node);
  Result<Proposal> proposal = node->propose("v");
  ASSERT_TRUE(proposal.is_ok());
  Index slot = proposal.value().index;
  // Follower 2 acknowledges before the leader's own write is durable: one of three is not a majority.
  Message accepted = message(MessageType::kAccepted, 2, 1, node->ballot());
  accepted.index = slot;
  ASSERT_TRUE(node->step(accepted).is_ok());
  EXPECT_EQ(node->log().commit(), 0U) << "the leader's own acceptance counts only once persisted";
  Ready ready = node->ready();
  ASSERT_FALSE(ready.entries.empty());
  EXPECT_EQ(node->log().commit(), 0U);
  node->advance();  // now durable: two of three
  EXPECT_EQ(node->log().commit(), slot);
}

TEST(MultiPaxosRules, learningTakesOnlySlotsHeldAtTheLeadersBallot) {
  auto node = make_node(2);
  Term old_ballot = make_ballot(1, 3);
  ASSERT_TRUE(node->step(accept(3, 2, old_ballot, {{1, "stale"}})).is_ok());
  drain(*node);
  // A new leader says slot 2 is chosen, but this node holds slot 1 only at an older ballot: it may hold
  // a value that was never chosen, so it learns nothing yet.
  Term leader = make_ballot(2, 1);
  Message heartbeat = message(MessageType::kHeartbeat, 1, 2, leader);
  heartbeat.commit = 2;
  ASSERT_TRUE(node->step(heartbeat).is_ok());
  drain(*node);
  EXPECT_EQ(node->log().commit(), 0U);
  // Once it holds slots 1 and 2 at the leader's ballot it learns both.
  ASSERT_TRUE(node->step(accept(1, 2, leader, {{1, "chosen"}, {2, "b"}}, /*commit=*/2)).is_ok());
  Ready ready = drain(*node);
  EXPECT_EQ(node->log().commit(), 2U);
  ASSERT_EQ(ready.committed.size(), 2U);
  EXPECT_EQ(ready.committed[0].data, "chosen");
}

namespace flow {

size_t count(const Ready& ready, MessageType type, NodeId to) {
  size_t n = 0;
  for (const Message& m : ready.messages) n += m.type == type && m.to == to ? 1 : 0;
  return n;
}

Message answer(MessageType type, NodeId from, Term ballot, Index prefix, Index last_taken = 0) {
  Message m = message(type, from, 1, ballot);
  m.index = prefix;
  m.hint_index = last_taken;
  return m;
}

}  // namespace flow

// A leader (node 1) whose followers both took slot 1; from then on only node 2 answers, and node 3 is
// sent at most `window` accepts for the 20 slots proposed after it.
std::unique_ptr<MultiPaxos> leader_with_a_silent_follower(size_t window, size_t& accepts_to_silent) {
  MultiPaxosConfig config;
  config.max_inflight_messages = window;
  auto node = candidate(config);
  Term ballot = node->ballot();
  EXPECT_TRUE(node->step(message(MessageType::kPromise, 2, 1, ballot)).is_ok());
  EXPECT_EQ(node->status().role, Role::kLeader);
  drain(*node);
  (void)node->propose("v0").value();
  drain(*node);
  for (NodeId from : {2, 3})
    EXPECT_TRUE(node->step(flow::answer(MessageType::kAccepted, from, ballot, 1, 1)).is_ok());
  accepts_to_silent = 0;
  for (int i = 1; i <= 20; ++i) {
    Index slot = node->propose("v" + std::to_string(i)).value().index;
    Ready ready = drain(*node);
    accepts_to_silent += flow::count(ready, MessageType::kAccept, 3);
    EXPECT_EQ(flow::count(ready, MessageType::kAccept, 2), 1U) << "node 2 answers: it is streamed to";
    EXPECT_TRUE(node->step(flow::answer(MessageType::kAccepted, 2, ballot, slot, slot)).is_ok());
  }
  EXPECT_EQ(node->log().commit(), 21U);
  drain(*node);
  return node;
}

// Flow control (consensus/progress.h): a follower that stops answering is sent one inflight window of
// accepts and then nothing but heartbeats; when its heartbeat answers show no progress it is probed from
// the prefix it reports, one accept per answer, and streamed to again once the probe is answered.
TEST(MultiPaxosRules, flowControlASilentFollowerGetsOneWindowThenIsProbedFromItsPrefix) {
  size_t to_silent = 0;
  auto node = leader_with_a_silent_follower(4, to_silent);
  Term ballot = node->ballot();
  EXPECT_EQ(to_silent, 4U) << "one window, then nothing until node 3 answers";
  for (int i = 0; i < 5; ++i) node->tick();
  Ready idle = drain(*node);
  EXPECT_EQ(flow::count(idle, MessageType::kAccept, 3), 0U);
  EXPECT_GT(flow::count(idle, MessageType::kHeartbeat, 3), 0U);

  // Node 3 is back but lost what was sent: two heartbeat answers at the same prefix mean probe.
  ASSERT_TRUE(node->step(flow::answer(MessageType::kHeartbeatResponse, 3, ballot, 1)).is_ok());
  EXPECT_EQ(flow::count(drain(*node), MessageType::kAccept, 3), 0U) << "the window is still full";
  ASSERT_TRUE(node->step(flow::answer(MessageType::kHeartbeatResponse, 3, ballot, 1)).is_ok());
  Ready probe = drain(*node);
  ASSERT_EQ(flow::count(probe, MessageType::kAccept, 3), 1U);
  EXPECT_EQ(find(probe, MessageType::kAccept)->entries.front().index, 2U) << "from the prefix it reported";
  (void)node->propose("more").value();
  EXPECT_EQ(flow::count(drain(*node), MessageType::kAccept, 3), 0U) << "a probe waits for its answer";
  // The probe's answer shows where node 3 is: streaming resumes from there.
  ASSERT_TRUE(node->step(flow::answer(MessageType::kAccepted, 3, ballot, 21, 21)).is_ok());
  Ready resumed = drain(*node);
  ASSERT_EQ(flow::count(resumed, MessageType::kAccept, 3), 1U);
  EXPECT_EQ(find(resumed, MessageType::kAccept)->entries.front().index, 22U);
}

// A follower behind the compacted log is sent the snapshot and nothing else until it has taken it; then
// the slots after it are streamed.
TEST(MultiPaxosRules, flowControlAFollowerBehindTheSnapshotGetsOnlyTheSnapshotUntilItAnswers) {
  size_t to_silent = 0;
  auto node = leader_with_a_silent_follower(4, to_silent);
  Term ballot = node->ballot();
  ASSERT_TRUE(node->compact(21, "state at 21").is_ok());
  drain(*node);
  ASSERT_TRUE(node->step(flow::answer(MessageType::kHeartbeatResponse, 3, ballot, 1)).is_ok());
  ASSERT_TRUE(node->step(flow::answer(MessageType::kHeartbeatResponse, 3, ballot, 1)).is_ok());
  Ready snapshot = drain(*node);
  EXPECT_EQ(flow::count(snapshot, MessageType::kSnapshot, 3), 1U);
  EXPECT_EQ(flow::count(snapshot, MessageType::kAccept, 3), 0U);
  (void)node->propose("after").value();
  Ready held = drain(*node);
  EXPECT_EQ(flow::count(held, MessageType::kAccept, 3), 0U) << "nothing while the snapshot is out";
  EXPECT_EQ(flow::count(held, MessageType::kSnapshot, 3), 0U) << "and the snapshot only once";
  // Installed (its answer reports the snapshot's index): the slots after it follow.
  ASSERT_TRUE(node->step(flow::answer(MessageType::kAccepted, 3, ballot, 21)).is_ok());
  Ready after = drain(*node);
  ASSERT_EQ(flow::count(after, MessageType::kAccept, 3), 1U);
  EXPECT_EQ(find(after, MessageType::kAccept)->entries.front().index, 22U);
}

}  // namespace
}  // namespace synod::paxos
