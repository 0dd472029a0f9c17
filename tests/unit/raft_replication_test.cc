// Log replication: the leader's no-op, the commit rule, check-quorum, heartbeats, the follower side of
// AppendEntries, fast backtracking, pipelining and batching.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "raft_test_util.h"

namespace synod::raft {
namespace {

using test::append;
using test::append_ack;
using test::append_reject;
using test::drain;
using test::drain_all;
using test::durable_log;
using test::elect;
using test::filter;
using test::heartbeat;
using test::heartbeat_response;
using test::indexes_of;
using test::make_committed_leader;
using test::make_config;
using test::make_entries;
using test::make_leader;
using test::make_raft;
using test::take_messages;

// The Appends in `messages` that carry entries.
std::vector<Message> appends_with_entries(const std::vector<Message>& messages, NodeId to) {
  std::vector<Message> out;
  for (const Message& message : filter(messages, MessageType::kAppend, to)) {
    if (!message.entries.empty()) out.push_back(message);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Leader

// Paper 5.4.2 and thesis 6.4: a new leader appends a no-op of its term so it can commit (and learn the
// commit index of) the entries earlier terms left.
TEST(RaftLeader, appendsANoopOnElection) {
  auto raft = make_raft(make_config(1, {1, 2, 3}), durable_log({1, 1}, 1));
  Ready ready = elect(*raft);
  EXPECT_EQ(raft->status().term, 2U);
  ASSERT_EQ(ready.entries.size(), 1U);
  EXPECT_EQ(ready.entries[0].index, 3U);
  EXPECT_EQ(ready.entries[0].term, 2U);
  EXPECT_EQ(ready.entries[0].type, EntryType::kNoop);
  for (NodeId peer : {2, 3}) {
    std::vector<Message> appends = filter(ready.messages, MessageType::kAppend, peer);
    ASSERT_EQ(appends.size(), 1U) << "to " << peer;
    EXPECT_EQ(appends[0].index, 2U);
    EXPECT_EQ(appends[0].log_term, 1U);
    ASSERT_EQ(appends[0].entries.size(), 1U);
    EXPECT_EQ(appends[0].entries[0].type, EntryType::kNoop);
  }
}

// Paper 5.4.2, Figure 8: an entry of an earlier term is not committed by counting replicas, even on a
// majority; it is committed only once an entry of the leader's own term after it is.
TEST(RaftLeader, commitsOnlyByCountingCurrentTermEntries) {
  auto raft = make_leader(make_config(1, {1, 2, 3}), durable_log({1, 2}, 2));
  ASSERT_EQ(raft->status().term, 3U);
  ASSERT_EQ(raft->status().last_index, 3U);  // entry 3 is the term-3 no-op
  // Node 2 holds entry 2 (of term 2): with the leader that is a majority of {1, 2, 3}.
  ASSERT_TRUE(raft->step(append_ack(2, 1, 3, 2)).is_ok());
  EXPECT_EQ(raft->status().commit, 0U);
  EXPECT_TRUE(drain_all(*raft).committed.empty());
  // Node 2 holds the no-op too: entry 3 commits, and 1 and 2 with it.
  ASSERT_TRUE(raft->step(append_ack(2, 1, 3, 3)).is_ok());
  EXPECT_EQ(raft->status().commit, 3U);
  EXPECT_EQ(indexes_of(drain_all(*raft).committed), (std::vector<Index>{1, 2, 3}));
}

// Thesis 10.2.1: the leader counts its own log only once it is durable (advance after persisting).
TEST(RaftLeader, countsItsOwnEntriesOnlyOnceDurable) {
  auto raft = make_committed_leader();
  ASSERT_TRUE(raft->propose("x").is_ok());
  Ready ready = raft->ready();
  ASSERT_EQ(indexes_of(ready.entries), (std::vector<Index>{2}));
  ASSERT_TRUE(raft->step(append_ack(2, 1, 1, 2)).is_ok());  // node 2 was faster than our disk
  EXPECT_EQ(raft->status().commit, 1U);
  raft->advance();
  EXPECT_EQ(raft->status().commit, 2U);
}

TEST(RaftLeader, commitIsBroadcastToFollowers) {
  auto raft = make_leader(make_config(1, {1, 2, 3}));
  ASSERT_TRUE(raft->step(append_ack(2, 1, 1, 1)).is_ok());
  std::vector<Message> appends = filter(take_messages(*raft), MessageType::kAppend, 2);
  ASSERT_FALSE(appends.empty());
  EXPECT_EQ(appends.back().commit, 1U);
}

// Thesis 6.2: a leader that hears from no quorum for an election timeout steps down.
TEST(RaftLeader, stepsDownWithoutQuorumAfterAnElectionTimeout) {
  auto raft = make_leader(make_config(1, {1, 2, 3}));
  for (int tick = 1; tick < raft->config().election_tick; ++tick) {
    raft->tick();
    ASSERT_EQ(raft->status().role, Role::kLeader) << "tick " << tick;
  }
  raft->tick();
  EXPECT_EQ(raft->status().role, Role::kFollower);
  EXPECT_EQ(raft->status().term, 1U);
  EXPECT_EQ(raft->status().leader, kNoNode);
}

TEST(RaftLeader, staysLeaderWhileAQuorumAnswers) {
  auto raft = make_leader(make_config(1, {1, 2, 3}));
  for (int tick = 0; tick < 5 * raft->config().election_tick; ++tick) {
    raft->tick();
    ASSERT_TRUE(raft->step(heartbeat_response(2, 1, 1)).is_ok());
  }
  EXPECT_EQ(raft->status().role, Role::kLeader);
}

TEST(RaftLeader, withoutCheckQuorumStaysLeaderAlone) {
  Config config = make_config(1, {1, 2, 3});
  config.check_quorum = false;
  auto raft = make_leader(config);
  for (int tick = 0; tick < 5 * config.election_tick; ++tick) raft->tick();
  EXPECT_EQ(raft->status().role, Role::kLeader);
}

// A heartbeat never tells a follower to commit past what it is known to hold: it may lack those entries.
TEST(RaftLeader, heartbeatCommitIsMinOfMatchAndCommit) {
  auto raft = make_committed_leader();
  ASSERT_TRUE(raft->propose("x").is_ok());
  drain_all(*raft);
  ASSERT_TRUE(raft->step(append_ack(2, 1, 1, 2)).is_ok());
  drain_all(*raft);
  ASSERT_EQ(raft->status().commit, 2U);
  raft->tick();
  std::vector<Message> messages = take_messages(*raft);
  std::vector<Message> to_two = filter(messages, MessageType::kHeartbeat, 2);
  std::vector<Message> to_three = filter(messages, MessageType::kHeartbeat, 3);
  ASSERT_EQ(to_two.size(), 1U);
  ASSERT_EQ(to_three.size(), 1U);
  EXPECT_EQ(to_two[0].commit, 2U);
  EXPECT_EQ(to_three[0].commit, 0U);  // node 3 acknowledged nothing
}

TEST(RaftLeader, sendsHeartbeatsEveryHeartbeatTick) {
  Config config = make_config(1, {1, 2, 3});
  config.heartbeat_tick = 3;
  auto raft = make_leader(config);
  int heartbeats = 0;
  for (int tick = 0; tick < 9; ++tick) {
    raft->tick();
    ASSERT_TRUE(raft->step(heartbeat_response(2, 1, 1)).is_ok());
    heartbeats += static_cast<int>(filter(take_messages(*raft), MessageType::kHeartbeat, 3).size());
  }
  EXPECT_EQ(heartbeats, 3);
}

// ---------------------------------------------------------------------------------------------------
// Follower side of AppendEntries (paper 5.3, Figure 2)

TEST(RaftFollower, persistsEntriesInTheReadyThatAcknowledgesThem) {
  auto raft = make_raft(make_config(2, {1, 2, 3}));
  ASSERT_TRUE(raft->step(append(1, 2, 1, 0, 0, make_entries(1, {1, 1}), 0)).is_ok());
  Ready ready = drain(*raft);
  EXPECT_EQ(indexes_of(ready.entries), (std::vector<Index>{1, 2}));
  std::vector<Message> acks = filter(ready.messages, MessageType::kAppendResponse, 1);
  ASSERT_EQ(acks.size(), 1U);
  EXPECT_FALSE(acks[0].reject);
  EXPECT_EQ(acks[0].index, 2U);
  EXPECT_FALSE(may_send_before_persist(acks[0]));
}

TEST(RaftFollower, commitIsCappedByTheLastEntryTheAppendCovered) {
  auto raft = make_raft(make_config(2, {1, 2, 3}), durable_log({1, 1, 1}, 1));
  // The leader knows only that our log matches up to 1; entries 2 and 3 may still be wrong.
  ASSERT_TRUE(raft->step(append(1, 2, 2, 1, 1, {}, 3)).is_ok());
  EXPECT_EQ(raft->status().commit, 1U);
  std::vector<Message> acks = filter(take_messages(*raft), MessageType::kAppendResponse, 1);
  ASSERT_EQ(acks.size(), 1U);
  EXPECT_EQ(acks[0].index, 1U);
}

TEST(RaftFollower, appendBelowTheCommitIndexIsAnsweredWithTheCommitIndex) {
  auto raft = make_raft(make_config(2, {1, 2, 3}), durable_log({1, 1, 1}, 1, 3));
  ASSERT_TRUE(raft->step(append(1, 2, 1, 1, 1, make_entries(2, {1}), 3)).is_ok());
  std::vector<Message> acks = filter(take_messages(*raft), MessageType::kAppendResponse, 1);
  ASSERT_EQ(acks.size(), 1U);
  EXPECT_FALSE(acks[0].reject);
  EXPECT_EQ(acks[0].index, 3U);
}

TEST(RaftFollower, heartbeatCommitIsClampedToTheLog) {
  auto raft = make_raft(make_config(2, {1, 2, 3}), durable_log({1, 1}, 1));
  ASSERT_TRUE(raft->step(heartbeat(1, 2, 1, 5)).is_ok());
  EXPECT_EQ(raft->status().commit, 2U);
  std::vector<Message> answers = filter(take_messages(*raft), MessageType::kHeartbeatResponse, 1);
  EXPECT_EQ(answers.size(), 1U);
}

TEST(RaftFollower, heartbeatAnswerEchoesTheReadRoundContext) {
  auto raft = make_raft(make_config(2, {1, 2, 3}));
  ASSERT_TRUE(raft->step(heartbeat(1, 2, 1, 0, "round-7")).is_ok());
  std::vector<Message> answers = filter(take_messages(*raft), MessageType::kHeartbeatResponse, 1);
  ASSERT_EQ(answers.size(), 1U);
  EXPECT_EQ(answers[0].context, "round-7");
  EXPECT_EQ(answers[0].term, 1U);
}

// Paper 5.3: on a mismatch the follower says where its conflicting term begins, so the leader can skip
// the whole term in one round trip.
TEST(RaftFollower, rejectionCarriesTheConflictingTermAndItsFirstIndex) {
  auto raft = make_raft(make_config(2, {1, 2, 3}), durable_log({1, 1, 2, 2, 2}, 2));
  Status stepped = raft->step(append(1, 2, 4, 5, 3, make_entries(6, {4}), 0));
  ASSERT_TRUE(stepped.is_ok()) << stepped.to_string();
  std::vector<Message> answers = filter(take_messages(*raft), MessageType::kAppendResponse, 1);
  ASSERT_EQ(answers.size(), 1U);
  EXPECT_TRUE(answers[0].reject);
  EXPECT_EQ(answers[0].index, 5U);
  EXPECT_EQ(answers[0].hint_term, 2U);
  EXPECT_EQ(answers[0].hint_index, 3U);
  EXPECT_EQ(raft->status().last_index, 5U) << "a rejected Append changes no entry";
}

TEST(RaftFollower, rejectionPastTheEndHintsTheNextIndex) {
  auto raft = make_raft(make_config(2, {1, 2, 3}), durable_log({1, 1, 2}, 2));
  ASSERT_TRUE(raft->step(append(1, 2, 4, 7, 3, {}, 0)).is_ok());
  std::vector<Message> answers = filter(take_messages(*raft), MessageType::kAppendResponse, 1);
  ASSERT_EQ(answers.size(), 1U);
  EXPECT_TRUE(answers[0].reject);
  EXPECT_EQ(answers[0].index, 7U);
  EXPECT_EQ(answers[0].hint_term, 0U);
  EXPECT_EQ(answers[0].hint_index, 4U);
}

TEST(RaftFollower, conflictingSuffixIsReplacedAndPersistedAgain) {
  auto raft = make_raft(make_config(2, {1, 2, 3}), durable_log({1, 1, 2, 2}, 2));
  ASSERT_TRUE(raft->step(append(1, 2, 3, 2, 1, make_entries(3, {3}), 0)).is_ok());
  Ready ready = drain(*raft);
  EXPECT_EQ(indexes_of(ready.entries), (std::vector<Index>{3}));
  EXPECT_EQ(raft->status().last_index, 3U);
  EXPECT_EQ(raft->term_at(3), 3U);
}

// ---------------------------------------------------------------------------------------------------
// Fast backtracking, leader side (paper 5.3)

TEST(RaftLeader, rejectionHintSkipsATermTheLeaderDoesNotHold) {
  auto raft = make_raft(make_config(1, {1, 2, 3}), durable_log({1, 1, 3, 3, 3}, 3));
  Ready ready = elect(*raft);
  ASSERT_EQ(raft->status().term, 4U);
  std::vector<Message> first = filter(ready.messages, MessageType::kAppend, 2);
  ASSERT_EQ(first.size(), 1U);
  ASSERT_EQ(first[0].index, 5U);
  // Node 2 holds 1, 1, 2, 2, 2 (term 2 starts at 3): the leader has no term 2 and retries from 3.
  ASSERT_TRUE(raft->step(append_reject(2, 1, 4, 5, 3, 2)).is_ok());
  std::vector<Message> retry = filter(take_messages(*raft), MessageType::kAppend, 2);
  ASSERT_EQ(retry.size(), 1U);
  EXPECT_EQ(retry[0].index, 2U);
  EXPECT_EQ(retry[0].log_term, 1U);
  EXPECT_EQ(indexes_of(retry[0].entries), (std::vector<Index>{3, 4, 5, 6}));
}

TEST(RaftLeader, rejectionHintResumesAfterTheLeadersLastEntryOfThatTerm) {
  auto raft = make_raft(make_config(1, {1, 2, 3}), durable_log({1, 1, 2, 2, 3, 3}, 3));
  Ready ready = elect(*raft);
  ASSERT_EQ(filter(ready.messages, MessageType::kAppend, 2).at(0).index, 6U);
  // Node 2 holds 1, 1, 2, 2, 2, 2: it rejects (6, 3) with term 2 starting at 3. The leader's term 2
  // ends at 4, so the logs may agree up to 4.
  ASSERT_TRUE(raft->step(append_reject(2, 1, 4, 6, 3, 2)).is_ok());
  std::vector<Message> retry = filter(take_messages(*raft), MessageType::kAppend, 2);
  ASSERT_EQ(retry.size(), 1U);
  EXPECT_EQ(retry[0].index, 4U);
  EXPECT_EQ(retry[0].log_term, 2U);
}

TEST(RaftLeader, backtrackingTakesOneRoundTripPerConflictingTerm) {
  auto leader = make_raft(make_config(1, {1, 2, 3}), durable_log({1, 1, 3, 3, 3}, 3));
  Ready ready = elect(*leader);
  auto follower = make_raft(make_config(2, {1, 2, 3}), durable_log({1, 1, 2, 2, 2, 2, 2}, 2));
  std::vector<Message> to_follower = filter(ready.messages, MessageType::kAppend, 2);
  int round_trips = 0;
  while (!to_follower.empty() && round_trips < 10) {
    ++round_trips;
    for (const Message& message : to_follower) ASSERT_TRUE(follower->step(message).is_ok());
    for (const Message& answer : take_messages(*follower)) ASSERT_TRUE(leader->step(answer).is_ok());
    to_follower = appends_with_entries(take_messages(*leader), 2);
  }
  EXPECT_EQ(round_trips, 2);
  EXPECT_EQ(leader->progress(2)->match(), 6U);
  for (Index index = 1; index <= 6; ++index) EXPECT_EQ(follower->term_at(index), leader->term_at(index));
  EXPECT_EQ(follower->status().last_index, 6U);
}

TEST(RaftLeader, staleRejectionIsIgnored) {
  auto raft = make_committed_leader();
  ASSERT_TRUE(raft->propose("x").is_ok());
  drain_all(*raft);
  const Progress* progress = raft->progress(2);
  ASSERT_EQ(progress->state(), ProgressState::kReplicate);
  Index next = progress->next();
  // A rejection of the very first probe (previous index 0) arrives late: node 2 matched 1 since.
  ASSERT_TRUE(raft->step(append_reject(2, 1, 1, 0, 0, 0)).is_ok());
  EXPECT_EQ(progress->state(), ProgressState::kReplicate);
  EXPECT_EQ(progress->next(), next);
  EXPECT_TRUE(take_messages(*raft).empty());
}

// ---------------------------------------------------------------------------------------------------
// Flow control

TEST(RaftLeader, probeSendsOneAppendPerRoundTrip) {
  auto raft = make_leader(make_config(1, {1, 2, 3}));
  ASSERT_EQ(raft->progress(3)->state(), ProgressState::kProbe);
  ASSERT_TRUE(raft->propose("x").is_ok());
  EXPECT_TRUE(filter(take_messages(*raft), MessageType::kAppend).empty())
      << "both probes (the no-op) are unanswered";
  ASSERT_TRUE(raft->step(heartbeat_response(3, 1, 1)).is_ok());  // node 3 is alive: probe again
  std::vector<Message> appends = filter(take_messages(*raft), MessageType::kAppend, 3);
  ASSERT_EQ(appends.size(), 1U);
  EXPECT_EQ(appends[0].index, 0U);
  EXPECT_EQ(indexes_of(appends[0].entries), (std::vector<Index>{1, 2}));
  ASSERT_TRUE(raft->propose("y").is_ok());
  EXPECT_TRUE(filter(take_messages(*raft), MessageType::kAppend, 3).empty());
  ASSERT_TRUE(raft->step(append_ack(3, 1, 1, 2)).is_ok());
  EXPECT_EQ(raft->progress(3)->state(), ProgressState::kReplicate);
  appends = filter(take_messages(*raft), MessageType::kAppend, 3);
  ASSERT_FALSE(appends.empty());
  EXPECT_EQ(indexes_of(appends[0].entries), (std::vector<Index>{3}));
}

TEST(RaftLeader, pipelinesAppendsInReplicateUpToTheInflightLimit) {
  Config config = make_config(1, {1, 2, 3});
  config.max_inflight_messages = 3;
  auto raft = make_committed_leader(config);
  ASSERT_EQ(raft->progress(2)->state(), ProgressState::kReplicate);
  std::vector<Message> sent;
  for (int k = 0; k < 5; ++k) {
    ASSERT_TRUE(raft->propose("p" + std::to_string(k)).is_ok());
    for (const Message& message : appends_with_entries(take_messages(*raft), 2)) sent.push_back(message);
  }
  // Three Appends in flight without an answer (entries 2, 3, 4); 5 and 6 wait.
  ASSERT_EQ(sent.size(), 3U);
  EXPECT_EQ(indexes_of(sent[0].entries), (std::vector<Index>{2}));
  EXPECT_EQ(indexes_of(sent[2].entries), (std::vector<Index>{4}));
  EXPECT_EQ(raft->progress(2)->inflights().count(), 3U);
  // One answer frees one slot: the waiting entries go out together.
  ASSERT_TRUE(raft->step(append_ack(2, 1, 1, 2)).is_ok());
  std::vector<Message> after = appends_with_entries(take_messages(*raft), 2);
  ASSERT_EQ(after.size(), 1U);
  EXPECT_EQ(after[0].index, 4U);
  EXPECT_EQ(indexes_of(after[0].entries), (std::vector<Index>{5, 6}));
}

// A heartbeat answer proves the follower is reachable; if Appends were lost the full window would never
// drain, so the leader lets one more through.
TEST(RaftLeader, heartbeatAnswerLetsOneAppendThroughAFullWindow) {
  Config config = make_config(1, {1, 2, 3});
  config.max_inflight_messages = 2;
  auto raft = make_committed_leader(config);
  for (const char* data : {"a", "b", "c"}) {
    ASSERT_TRUE(raft->propose(data).is_ok());
    drain_all(*raft);
  }
  ASSERT_TRUE(raft->progress(2)->inflights().full());
  ASSERT_EQ(raft->progress(2)->next(), 4U);  // entries 2 and 3 in flight, 4 waiting
  ASSERT_TRUE(raft->step(heartbeat_response(2, 1, 1)).is_ok());
  std::vector<Message> sent = appends_with_entries(take_messages(*raft), 2);
  ASSERT_EQ(sent.size(), 1U);
  EXPECT_EQ(indexes_of(sent[0].entries), (std::vector<Index>{4}));
}

// A lost Append in the pipeline: the follower rejects the next ones; the first rejection restarts from
// match in probe, the later ones (for Appends sent before it) are stale.
TEST(RaftLeader, lostAppendInThePipelineRestartsFromMatch) {
  auto raft = make_committed_leader();
  for (const char* data : {"a", "b", "c"}) {
    ASSERT_TRUE(raft->propose(data).is_ok());
    drain_all(*raft);
  }
  ASSERT_EQ(raft->progress(2)->next(), 5U);  // Appends for 2, 3 and 4 in flight; 2 is lost
  ASSERT_TRUE(raft->step(append_reject(2, 1, 1, 2, 2, 0)).is_ok());
  EXPECT_EQ(raft->progress(2)->state(), ProgressState::kProbe);
  std::vector<Message> retry = appends_with_entries(take_messages(*raft), 2);
  ASSERT_EQ(retry.size(), 1U);
  EXPECT_EQ(retry[0].index, 1U);
  EXPECT_EQ(indexes_of(retry[0].entries), (std::vector<Index>{2, 3, 4}));
  ASSERT_TRUE(raft->step(append_reject(2, 1, 1, 3, 2, 0)).is_ok());  // the Append for 4, also refused
  EXPECT_EQ(raft->progress(2)->next(), 2U);
  EXPECT_TRUE(take_messages(*raft).empty()) << "a stale rejection sends nothing";
}

TEST(RaftLeader, inflightBytesLimitPausesReplication) {
  Config config = make_config(1, {1, 2, 3});
  config.max_inflight_bytes = 1000;
  auto raft = make_committed_leader(config);
  int sent = 0;
  for (int k = 0; k < 6; ++k) {
    ASSERT_TRUE(raft->propose(std::string(400, 'b')).is_ok());
    sent += static_cast<int>(appends_with_entries(take_messages(*raft), 2).size());
  }
  // Each Append is about 490 bytes: the third crosses 1000 and fills the window.
  EXPECT_EQ(sent, 3);
  EXPECT_TRUE(raft->progress(2)->inflights().full());
}

TEST(RaftLeader, batchesEntriesUnderMaxBytesPerMessage) {
  Config config = make_config(1, {1, 2, 3});
  config.max_bytes_per_message = 300;  // two 124-byte entries fit, three do not
  auto raft = make_committed_leader(config);
  for (int k = 0; k < 6; ++k) ASSERT_TRUE(raft->propose(std::string(100, 'a')).is_ok());
  std::vector<Message> sent = appends_with_entries(take_messages(*raft), 2);
  ASSERT_TRUE(raft->step(append_ack(2, 1, 1, sent.back().entries.back().index)).is_ok());
  for (const Message& message : appends_with_entries(take_messages(*raft), 2)) sent.push_back(message);
  std::vector<Index> covered;
  for (const Message& message : sent) {
    size_t bytes = 0;
    for (const Entry& entry : message.entries) bytes += entry.size_bytes();
    EXPECT_LE(bytes, config.max_bytes_per_message);
    EXPECT_EQ(message.entries.size(), 2U);
    EXPECT_EQ(message.index + 1, message.entries.front().index);
    for (const Entry& entry : message.entries) covered.push_back(entry.index);
  }
  EXPECT_EQ(covered, (std::vector<Index>{2, 3, 4, 5, 6, 7}));
}

TEST(RaftLeader, anEntryLargerThanTheMessageCapStillGoesAlone) {
  Config config = make_config(1, {1, 2, 3});
  config.max_bytes_per_message = 100;
  auto raft = make_committed_leader(config);
  ASSERT_TRUE(raft->propose(std::string(1000, 'c')).is_ok());
  ASSERT_TRUE(raft->propose(std::string(1000, 'd')).is_ok());
  std::vector<Message> sent = appends_with_entries(take_messages(*raft), 2);
  ASSERT_EQ(sent.size(), 1U);
  EXPECT_EQ(indexes_of(sent[0].entries), (std::vector<Index>{2}));
}

}  // namespace
}  // namespace synod::raft
