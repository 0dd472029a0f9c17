// Validation of input from the network: every malformed message is refused with a non-ok Status,
// counted, and changes nothing (Engine::step's contract). Also Config::validate.
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "raft_test_util.h"

namespace synod::raft {
namespace {

using test::append;
using test::append_ack;
using test::append_reject;
using test::drain_all;
using test::durable_log;
using test::expect_same_state;
using test::follow;
using test::heartbeat;
using test::make_committed_leader;
using test::make_config;
using test::make_entries;
using test::make_message;
using test::make_raft;
using test::make_snapshot;
using test::vote_request;

// Node 2 of {1, 2, 3}, following node 1 in term 2, holding entries of terms 1, 1, 2 with 1 committed.
std::unique_ptr<Raft> make_follower(Config config = make_config(2, {1, 2, 3})) {
  auto raft = make_raft(config, durable_log({1, 1, 2}, 2, 1));
  follow(*raft, 1, 2);
  drain_all(*raft);
  return raft;
}

// Steps `message` into `raft` and expects it refused as invalid, counted, and without any effect.
void expect_dropped(Raft& raft, const Message& message) {
  SCOPED_TRACE(message.describe());
  drain_all(raft);
  EngineStatus before = raft.status();
  Status status = raft.step(message);
  EXPECT_FALSE(status.is_ok());
  EXPECT_EQ(status.code(), ErrorCode::kDropped) << status.to_string();
  EngineStatus after = raft.status();
  expect_same_state(before, after);
  EXPECT_EQ(after.counters.messages_dropped_invalid, before.counters.messages_dropped_invalid + 1);
  EXPECT_EQ(after.counters.messages_dropped_stale, before.counters.messages_dropped_stale);
  EXPECT_FALSE(raft.has_ready()) << "a dropped message must not produce output";
}

Message snapshot_message(Term term, SnapshotPtr snapshot, NodeId from = 1) {
  Message message = make_message(MessageType::kSnapshot, from, 2, term);
  message.snapshot = std::move(snapshot);
  return message;
}

// ---------------------------------------------------------------------------------------------------
// Addressing

TEST(RaftValidation, messageForAnotherNodeIsDropped) {
  auto raft = make_follower();
  expect_dropped(*raft, heartbeat(1, 3, 2, 1));
}

TEST(RaftValidation, messageFromAnUnknownSenderIsDropped) {
  auto raft = make_follower();
  expect_dropped(*raft, heartbeat(9, 2, 3, 1));
  expect_dropped(*raft, append(9, 2, 3, 3, 2, make_entries(4, {3}), 1));
}

TEST(RaftValidation, messageFromItselfIsDropped) {
  auto raft = make_follower();
  expect_dropped(*raft, heartbeat(2, 2, 3, 1));
}

TEST(RaftValidation, messageFromNobodyIsDropped) {
  auto raft = make_follower();
  expect_dropped(*raft, heartbeat(kNoNode, 2, 3, 1));
}

TEST(RaftValidation, unknownMessageTypeIsDropped) {
  auto raft = make_follower();
  expect_dropped(*raft, make_message(static_cast<MessageType>(200), 1, 2, 3));
  expect_dropped(*raft, make_message(static_cast<MessageType>(kMessageTypeCount), 1, 2, 2));
}

// ---------------------------------------------------------------------------------------------------
// Append (term 3 > the follower's 2 in most cases: a refused message must not even teach the term)

TEST(RaftValidation, appendWithNonContiguousEntriesIsDropped) {
  auto raft = make_follower();
  std::vector<Entry> entries = make_entries(4, {3, 3});
  entries[1].index = 6;
  expect_dropped(*raft, append(1, 2, 3, 3, 2, entries, 1));
}

TEST(RaftValidation, appendWhoseEntriesDoNotFollowThePreviousIndexIsDropped) {
  auto raft = make_follower();
  expect_dropped(*raft, append(1, 2, 3, 3, 2, make_entries(5, {3}), 1));
  expect_dropped(*raft, append(1, 2, 3, 3, 2, make_entries(3, {3}), 1));
}

TEST(RaftValidation, appendWithAnEntryTermAboveTheMessageTermIsDropped) {
  auto raft = make_follower();
  expect_dropped(*raft, append(1, 2, 3, 3, 2, make_entries(4, {3, 4}), 1));
}

TEST(RaftValidation, appendWithDecreasingEntryTermsIsDropped) {
  auto raft = make_follower();
  expect_dropped(*raft, append(1, 2, 3, 3, 2, make_entries(4, {3, 2}), 1));
  expect_dropped(*raft, append(1, 2, 3, 3, 2, make_entries(4, {1}), 1));  // below the previous entry's
}

TEST(RaftValidation, appendWithThePreviousTermAboveTheMessageTermIsDropped) {
  auto raft = make_follower();
  expect_dropped(*raft, append(1, 2, 3, 3, 4, {}, 1));
}

TEST(RaftValidation, appendWithAnIndexOverflowIsDropped) {
  auto raft = make_follower();
  constexpr Index kMax = std::numeric_limits<Index>::max();
  std::vector<Entry> entries{Entry{3, 0, EntryType::kNormal, "wrapped"}};  // kMax + 1 wraps to 0
  expect_dropped(*raft, append(1, 2, 3, kMax, 2, entries, 1));
}

TEST(RaftValidation, appendWithTooManyEntriesIsDropped) {
  Config config = make_config(2, {1, 2, 3});
  config.max_entries_per_message = 2;
  auto raft = make_follower(config);
  expect_dropped(*raft, append(1, 2, 3, 3, 2, make_entries(4, {3, 3, 3}), 1));
}

TEST(RaftValidation, appendWithAnUnknownEntryTypeIsDropped) {
  auto raft = make_follower();
  std::vector<Entry> entries = make_entries(4, {3});
  entries[0].type = static_cast<EntryType>(9);
  expect_dropped(*raft, append(1, 2, 3, 3, 2, entries, 1));
}

// Terms start at 1 (a campaign increments the term from 0), so no leader has term 0 and no entry does.
TEST(RaftValidation, leaderOrCandidateMessageInTermZeroIsDropped) {
  auto raft = make_raft(make_config(2, {1, 2, 3}));
  ASSERT_EQ(raft->status().term, 0U);
  expect_dropped(*raft, append(1, 2, 0, 0, 0, {Entry{0, 1, EntryType::kNormal, "x"}}, 0));
  expect_dropped(*raft, heartbeat(1, 2, 0, 0));
  expect_dropped(*raft, make_message(MessageType::kTimeoutNow, 1, 2, 0));
  expect_dropped(*raft, vote_request(MessageType::kVote, 3, 2, 0, 0, 0));
  EXPECT_EQ(raft->status().leader, kNoNode);
  EXPECT_EQ(raft->status().vote, kNoNode);
}

TEST(RaftValidation, appendWithAnEntryOfTermZeroIsDropped) {
  auto raft = make_raft(make_config(2, {1, 2, 3}));
  expect_dropped(*raft, append(1, 2, 1, 0, 0, {Entry{0, 1, EntryType::kNormal, "x"}}, 0));
  EXPECT_EQ(raft->status().last_index, 0U);
}

// ---------------------------------------------------------------------------------------------------
// Snapshot

TEST(RaftValidation, snapshotWithoutPayloadIsDropped) {
  auto raft = make_follower();
  expect_dropped(*raft, snapshot_message(3, nullptr));
}

TEST(RaftValidation, detachedSnapshotIsDropped) {
  auto raft = make_follower();
  auto detached =
      std::make_shared<const Snapshot>(Snapshot{SnapshotMeta{9, 2, ConfState{{1, 2, 3}}}, {}, true});
  expect_dropped(*raft, snapshot_message(3, detached));
}

TEST(RaftValidation, snapshotWithIndexZeroIsDropped) {
  auto raft = make_follower();
  expect_dropped(*raft, snapshot_message(3, make_snapshot(0, 2, {1, 2, 3})));
}

TEST(RaftValidation, snapshotWithAnImpossibleTermIsDropped) {
  auto raft = make_follower();
  expect_dropped(*raft, snapshot_message(3, make_snapshot(9, 0, {1, 2, 3})));
  expect_dropped(*raft, snapshot_message(3, make_snapshot(9, 4, {1, 2, 3})));  // past the message's
}

TEST(RaftValidation, snapshotWithoutAValidConfigurationIsDropped) {
  auto raft = make_follower();
  expect_dropped(*raft, snapshot_message(3, make_snapshot(9, 2, {})));
  expect_dropped(*raft, snapshot_message(3, make_snapshot(9, 2, {1, kNoNode, 3})));
}

// ---------------------------------------------------------------------------------------------------
// Votes and proposals

TEST(RaftValidation, voteRequestWithLastTermAboveItsTermIsDropped) {
  auto raft = make_raft(make_config(2, {1, 2, 3}), durable_log({1}, 1));
  expect_dropped(*raft, vote_request(MessageType::kVote, 3, 2, 3, 5, 4));
  expect_dropped(*raft, vote_request(MessageType::kPreVote, 3, 2, 3, 5, 4));
}

TEST(RaftValidation, proposalWithoutEntriesIsDropped) {
  auto raft = make_committed_leader();
  expect_dropped(*raft, make_message(MessageType::kPropose, 2, 1, 1));
}

TEST(RaftValidation, oversizedForwardedProposalIsDropped) {
  Config config = make_config(1, {1, 2, 3});
  config.max_entry_bytes = 10;
  auto raft = make_committed_leader(config);
  Message message = make_message(MessageType::kPropose, 2, 1, 1);
  message.entries.push_back(Entry{0, 0, EntryType::kNormal, std::string(11, 'x')});
  expect_dropped(*raft, message);
}

// ---------------------------------------------------------------------------------------------------
// Answers the leader receives

TEST(RaftValidation, rejectionHintPastTheRejectedIndexIsDropped) {
  auto raft = make_committed_leader();
  expect_dropped(*raft, append_reject(3, 1, 1, 0, 1, 0));
}

TEST(RaftValidation, rejectionHintTermAboveTheMessageTermIsDropped) {
  auto raft = make_committed_leader();
  expect_dropped(*raft, append_reject(3, 1, 1, 1, 1, 2));
}

TEST(RaftValidation, acknowledgementBeyondTheLeadersLastIndexIsDropped) {
  auto raft = make_committed_leader();
  const Progress* progress = raft->progress(3);
  ASSERT_FALSE(progress->recent_active());
  expect_dropped(*raft, append_ack(3, 1, 1, 50));
  EXPECT_EQ(progress->match(), 0U);
  EXPECT_FALSE(progress->recent_active()) << "an impossible answer is no sign of life";
}

TEST(RaftValidation, rejectionOfAnIndexBeyondTheLeadersLastIndexIsDropped) {
  auto raft = make_committed_leader();
  const Progress* progress = raft->progress(2);
  ASSERT_EQ(progress->state(), ProgressState::kReplicate);
  expect_dropped(*raft, append_reject(2, 1, 1, 50, 2, 0));
  EXPECT_EQ(progress->state(), ProgressState::kReplicate);
  EXPECT_EQ(progress->match(), 1U);
}

// ---------------------------------------------------------------------------------------------------
// One leader per term (paper 5.2, Election Safety)

TEST(RaftValidation, secondLeaderInTheSameTermIsDropped) {
  auto raft = make_follower();
  expect_dropped(*raft, heartbeat(3, 2, 2, 1));
  expect_dropped(*raft, append(3, 2, 2, 3, 2, make_entries(4, {2}), 1));
  expect_dropped(*raft, snapshot_message(2, make_snapshot(9, 2, {1, 2, 3}), 3));
  EXPECT_EQ(raft->status().leader, 1U);
}

TEST(RaftValidation, leaderDropsAppendsFromAnotherLeaderOfItsTerm) {
  auto raft = make_committed_leader();
  expect_dropped(*raft, append(2, 1, 1, 1, 1, make_entries(2, {1}), 1));
  expect_dropped(*raft, heartbeat(3, 1, 1, 1));
  EXPECT_EQ(raft->status().role, Role::kLeader);
}

// ---------------------------------------------------------------------------------------------------
// Configuration

TEST(RaftConfig, validateRejectsImpossibleSettings) {
  auto invalid = [](auto&& change) {
    Config config = make_config(1, {1, 2, 3});
    change(config);
    Status status = config.validate();
    EXPECT_EQ(status.code(), ErrorCode::kInvalidArgument) << status.to_string();
    EXPECT_FALSE(Raft::create(config).is_ok());
  };
  invalid([](Config& c) { c.id = kNoNode; });
  invalid([](Config& c) { c.voters.clear(); });
  invalid([](Config& c) { c.voters.push_back(kNoNode); });
  invalid([](Config& c) { c.heartbeat_tick = 0; });
  invalid([](Config& c) { c.election_tick = c.heartbeat_tick; });
  invalid([](Config& c) { c.max_bytes_per_message = 0; });
  invalid([](Config& c) { c.max_inflight_messages = 0; });
  invalid([](Config& c) { c.max_inflight_bytes = 0; });
  invalid([](Config& c) { c.max_entry_bytes = 0; });
  invalid([](Config& c) { c.max_uncommitted_bytes = c.max_entry_bytes - 1; });
  invalid([](Config& c) { c.max_entries_per_message = 0; });
  EXPECT_TRUE(make_config(1, {1, 2, 3}).validate().is_ok());
}

}  // namespace
}  // namespace synod::raft
