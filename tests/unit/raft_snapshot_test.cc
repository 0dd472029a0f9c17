// Snapshots and compaction (thesis chapter 5), and restarting a core from what it made durable.
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
using test::drain;
using test::drain_all;
using test::durable_log;
using test::filter;
using test::heartbeat_response;
using test::indexes_of;
using test::make_committed_leader;
using test::make_config;
using test::make_entries;
using test::make_message;
using test::make_raft;
using test::make_snapshot;
using test::PersistedState;
using test::take_messages;
using test::vote_request;

Message snapshot_message(NodeId from, NodeId to, Term term, SnapshotPtr snapshot) {
  Message message = make_message(MessageType::kSnapshot, from, to, term);
  message.snapshot = std::move(snapshot);
  return message;
}

// Node 1 leads {1, 2, 3} in term 1 with entries 1..4 committed and applied (node 2 acknowledged them,
// node 3 nothing) and has compacted its log up to 3.
std::unique_ptr<Raft> make_compacted_leader() {
  auto raft = make_committed_leader();
  for (const char* data : {"a", "b", "c"}) EXPECT_TRUE(raft->propose(data).is_ok());
  drain_all(*raft);
  EXPECT_TRUE(raft->step(append_ack(2, 1, 1, 4)).is_ok());
  drain_all(*raft);
  EXPECT_EQ(raft->status().applied, 4U);
  EXPECT_TRUE(raft->compact(3, "state@3").is_ok());
  return raft;
}

// ---------------------------------------------------------------------------------------------------
// Compaction

TEST(RaftSnapshot, compactIsRefusedPastTheAppliedIndex) {
  auto raft = make_committed_leader();
  ASSERT_TRUE(raft->propose("x").is_ok());
  drain_all(*raft);
  ASSERT_EQ(raft->status().applied, 1U);
  EXPECT_EQ(raft->compact(2, "s").code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(raft->status().snapshot_index, 0U);
  EXPECT_EQ(raft->status().first_index, 1U);
}

TEST(RaftSnapshot, compactDiscardsTheAppliedPrefixOnce) {
  auto raft = make_compacted_leader();
  EXPECT_EQ(raft->status().snapshot_index, 3U);
  EXPECT_EQ(raft->status().first_index, 4U);
  EXPECT_EQ(raft->status().last_index, 4U);
  EXPECT_EQ(raft->entry_at(3), std::nullopt);
  EXPECT_EQ(raft->term_at(3), 1U);
  EXPECT_EQ(raft->compact(3, "again").code(), ErrorCode::kCompacted);
  EXPECT_EQ(raft->compact(2, "older").code(), ErrorCode::kCompacted);
}

// ---------------------------------------------------------------------------------------------------
// Leader side

TEST(RaftSnapshot, followerBehindTheCompactedPrefixGetsTheSnapshot) {
  auto raft = make_compacted_leader();
  ASSERT_TRUE(raft->step(heartbeat_response(3, 1, 1)).is_ok());  // node 3 is alive and needs entry 1
  std::vector<Message> messages = take_messages(*raft);
  EXPECT_TRUE(filter(messages, MessageType::kAppend, 3).empty());
  std::vector<Message> snapshots = filter(messages, MessageType::kSnapshot, 3);
  ASSERT_EQ(snapshots.size(), 1U);
  ASSERT_NE(snapshots[0].snapshot, nullptr);
  EXPECT_EQ(snapshots[0].snapshot->meta, (SnapshotMeta{3, 1, ConfState{{1, 2, 3}}}));
  EXPECT_EQ(snapshots[0].snapshot->data, "state@3");
  EXPECT_EQ(raft->progress(3)->state(), ProgressState::kSnapshot);
  // Nothing more goes to node 3 until it answers.
  ASSERT_TRUE(raft->propose("d").is_ok());
  EXPECT_TRUE(filter(take_messages(*raft), MessageType::kAppend, 3).empty());
}

// Once the application can read the snapshot back, the core keeps only its meta; a follower that needs
// it then gets a detached snapshot, which the node refills from storage before sending.
TEST(RaftSnapshot, releasedSnapshotDataLeavesOnlyTheMetaAndIsSentDetached) {
  auto raft = make_compacted_leader();
  SnapshotPtr before = raft->snapshot();
  raft->release_snapshot_data();
  SnapshotPtr held = raft->snapshot();
  ASSERT_NE(held, nullptr);
  EXPECT_TRUE(held->detached);
  EXPECT_TRUE(held->data.empty());
  EXPECT_EQ(held->meta, before->meta);
  EXPECT_EQ(before->data, "state@3") << "the application's copy is untouched";
  raft->release_snapshot_data();
  EXPECT_EQ(raft->snapshot(), held) << "releasing again changes nothing";
  ASSERT_TRUE(raft->step(heartbeat_response(3, 1, 1)).is_ok());
  std::vector<Message> snapshots = filter(take_messages(*raft), MessageType::kSnapshot, 3);
  ASSERT_EQ(snapshots.size(), 1U);
  EXPECT_TRUE(snapshots[0].snapshot->detached);
  EXPECT_EQ(snapshots[0].snapshot->meta, (SnapshotMeta{3, 1, ConfState{{1, 2, 3}}}));
}

TEST(RaftSnapshot, leaderResumesReplicationAfterTheSnapshotIsAcknowledged) {
  auto raft = make_compacted_leader();
  ASSERT_TRUE(raft->step(heartbeat_response(3, 1, 1)).is_ok());
  drain_all(*raft);
  ASSERT_TRUE(raft->step(append_ack(3, 1, 1, 3)).is_ok());
  EXPECT_EQ(raft->progress(3)->state(), ProgressState::kReplicate);
  EXPECT_EQ(raft->progress(3)->match(), 3U);
  std::vector<Message> appends = filter(take_messages(*raft), MessageType::kAppend, 3);
  ASSERT_FALSE(appends.empty());
  EXPECT_EQ(appends[0].index, 3U);
  EXPECT_EQ(appends[0].log_term, 1U);
  EXPECT_EQ(indexes_of(appends[0].entries), (std::vector<Index>{4}));
}

TEST(RaftSnapshot, lostSnapshotIsSentAgainAfterATimeout) {
  auto raft = make_compacted_leader();
  ASSERT_TRUE(raft->step(heartbeat_response(3, 1, 1)).is_ok());
  ASSERT_EQ(filter(take_messages(*raft), MessageType::kSnapshot, 3).size(), 1U);
  // The snapshot is lost. After the retry timeout the leader probes again, and node 3's answer (it
  // still holds nothing) brings the snapshot once more.
  for (int tick = 0; tick < 2 * raft->config().election_tick; ++tick) {
    raft->tick();
    ASSERT_TRUE(raft->step(heartbeat_response(2, 1, 1)).is_ok());
  }
  EXPECT_EQ(raft->progress(3)->state(), ProgressState::kProbe);
  drain_all(*raft);
  ASSERT_TRUE(raft->step(heartbeat_response(3, 1, 1)).is_ok());
  std::vector<Message> messages = take_messages(*raft);
  std::vector<Message> probes = filter(messages, MessageType::kAppend, 3);
  std::vector<Message> snapshots = filter(messages, MessageType::kSnapshot, 3);
  if (snapshots.empty()) {
    ASSERT_EQ(probes.size(), 1U);
    ASSERT_TRUE(raft->step(append_reject(3, 1, 1, probes[0].index, 1, 0)).is_ok());
    snapshots = filter(take_messages(*raft), MessageType::kSnapshot, 3);
  }
  EXPECT_EQ(snapshots.size(), 1U);
}

// ---------------------------------------------------------------------------------------------------
// Follower side

TEST(RaftSnapshot, followerInstallsASnapshotAndCommitsAfterIt) {
  auto raft = make_raft(make_config(2, {1, 2, 3}), durable_log({1, 1}, 1));
  SnapshotPtr snapshot = make_snapshot(5, 2, {1, 2, 3}, "state@5");
  ASSERT_TRUE(raft->step(snapshot_message(1, 2, 2, snapshot)).is_ok());
  EngineStatus status = raft->status();
  EXPECT_EQ(status.term, 2U);
  EXPECT_EQ(status.leader, 1U);
  EXPECT_EQ(status.snapshot_index, 5U);
  EXPECT_EQ(status.first_index, 6U);
  EXPECT_EQ(status.last_index, 5U);
  EXPECT_EQ(status.commit, 5U);
  Ready ready = drain(*raft);
  EXPECT_EQ(ready.snapshot, snapshot);
  EXPECT_TRUE(ready.entries.empty());
  EXPECT_TRUE(ready.committed.empty()) << "the state machine restarts from the snapshot";
  std::vector<Message> acks = filter(ready.messages, MessageType::kAppendResponse, 1);
  ASSERT_EQ(acks.size(), 1U);
  EXPECT_EQ(acks[0].index, 5U);
  EXPECT_FALSE(raft->has_ready()) << "the snapshot is handed out once";
  // Replication continues right after the snapshot.
  ASSERT_TRUE(raft->step(append(1, 2, 2, 5, 2, make_entries(6, {2}), 6)).is_ok());
  EXPECT_EQ(indexes_of(drain_all(*raft).committed), (std::vector<Index>{6}));
}

TEST(RaftSnapshot, followerWhoseLogMatchesTheSnapshotKeepsItsLaterEntries) {
  auto raft = make_raft(make_config(2, {1, 2, 3}), durable_log({1, 1, 1, 1, 1}, 1));
  ASSERT_TRUE(raft->step(snapshot_message(1, 2, 1, make_snapshot(3, 1, {1, 2, 3}))).is_ok());
  EXPECT_EQ(raft->status().last_index, 5U);
  EXPECT_EQ(raft->status().commit, 3U);
  Ready ready = drain_all(*raft);
  EXPECT_EQ(ready.snapshot, nullptr) << "the log already holds what the snapshot covers";
  EXPECT_EQ(indexes_of(ready.committed), (std::vector<Index>{1, 2, 3}));
  std::vector<Message> acks = filter(ready.messages, MessageType::kAppendResponse, 1);
  ASSERT_EQ(acks.size(), 1U);
  EXPECT_EQ(acks[0].index, 3U);
}

TEST(RaftSnapshot, followerWithAConflictingLogReplacesItWithTheSnapshot) {
  auto raft = make_raft(make_config(2, {1, 2, 3}), durable_log({1, 1, 1, 1, 1}, 1));
  ASSERT_TRUE(raft->step(snapshot_message(1, 2, 2, make_snapshot(3, 2, {1, 2, 3}))).is_ok());
  EXPECT_EQ(raft->status().snapshot_index, 3U);
  EXPECT_EQ(raft->status().last_index, 3U);
  EXPECT_EQ(raft->term_at(3), 2U);
  EXPECT_EQ(raft->entry_at(4), std::nullopt);
}

TEST(RaftSnapshot, followerIgnoresASnapshotItsCommitIndexCovers) {
  auto raft = make_raft(make_config(2, {1, 2, 3}), durable_log({1, 1, 1, 1}, 1, 4));
  drain_all(*raft);
  ASSERT_TRUE(raft->step(snapshot_message(1, 2, 1, make_snapshot(3, 1, {1, 2, 3}))).is_ok());
  EXPECT_EQ(raft->status().snapshot_index, 0U);
  EXPECT_EQ(raft->status().last_index, 4U);
  Ready ready = drain_all(*raft);
  EXPECT_EQ(ready.snapshot, nullptr);
  std::vector<Message> acks = filter(ready.messages, MessageType::kAppendResponse, 1);
  ASSERT_EQ(acks.size(), 1U);
  EXPECT_EQ(acks[0].index, 4U);
}

// ---------------------------------------------------------------------------------------------------
// Restart (the persistence contract on Ready)

TEST(RaftRestart, restoresTermVoteCommitAndLog) {
  auto raft = make_raft(make_config(1, {1, 2, 3}), durable_log({1, 1, 2, 3}, 5, 3, 2));
  EngineStatus status = raft->status();
  EXPECT_EQ(status.role, Role::kFollower);
  EXPECT_EQ(status.term, 5U);
  EXPECT_EQ(status.vote, 2U);
  EXPECT_EQ(status.commit, 3U);
  EXPECT_EQ(status.last_index, 4U);
  EXPECT_EQ(raft->term_at(4), 3U);
  Ready ready = drain(*raft);
  EXPECT_FALSE(ready.hard_state.has_value()) << "nothing new to persist";
  EXPECT_TRUE(ready.entries.empty());
  EXPECT_EQ(indexes_of(ready.committed), (std::vector<Index>{1, 2, 3})) << "applied again from scratch";
}

TEST(RaftRestart, restartedNodeKeepsItsVote) {
  auto raft = make_raft(make_config(1, {1, 2, 3}), durable_log({}, 5, 0, 2));
  ASSERT_TRUE(raft->step(vote_request(MessageType::kVote, 3, 1, 5, 0, 0)).is_ok());
  ASSERT_TRUE(raft->step(vote_request(MessageType::kVote, 2, 1, 5, 0, 0)).is_ok());
  std::vector<Message> answers = filter(take_messages(*raft), MessageType::kVoteResponse);
  ASSERT_EQ(answers.size(), 2U);
  EXPECT_TRUE(answers[0].reject) << "already voted for 2 in term 5 before the crash";
  EXPECT_FALSE(answers[1].reject);
}

TEST(RaftRestart, restartFromWhatReadyPersistedGivesTheSameNode) {
  Config config = make_config(2, {1, 2, 3});
  PersistedState disk;
  auto raft = make_raft(config);
  ASSERT_TRUE(raft->step(vote_request(MessageType::kVote, 3, 2, 1, 0, 0)).is_ok());
  disk.drain_all(*raft);
  ASSERT_TRUE(raft->step(append(3, 2, 1, 0, 0, make_entries(1, {1, 1, 1}), 2)).is_ok());
  disk.drain_all(*raft);
  // A new leader overwrites the uncommitted entry 3.
  ASSERT_TRUE(raft->step(append(1, 2, 2, 2, 1, make_entries(3, {2, 2}), 2)).is_ok());
  disk.drain_all(*raft);
  ASSERT_TRUE(raft->step(vote_request(MessageType::kVote, 3, 2, 3, 4, 2, "transfer")).is_ok());
  disk.drain_all(*raft);

  auto restarted = make_raft(config, disk.durable);
  EngineStatus before = raft->status();
  EngineStatus after = restarted->status();
  EXPECT_EQ(after.term, before.term);
  EXPECT_EQ(after.vote, before.vote);
  EXPECT_EQ(after.commit, before.commit);
  EXPECT_EQ(after.first_index, before.first_index);
  EXPECT_EQ(after.last_index, before.last_index);
  for (Index index = 1; index <= before.last_index; ++index) {
    EXPECT_EQ(restarted->entry_at(index), raft->entry_at(index)) << "index " << index;
  }
  EXPECT_EQ(after.term, 3U);
  EXPECT_EQ(after.vote, 3U);
  EXPECT_EQ(after.last_index, 4U);
}

TEST(RaftRestart, restartAfterInstallingASnapshotGivesTheSameNode) {
  Config config = make_config(2, {1, 2, 3});
  PersistedState disk;
  auto raft = make_raft(config);
  ASSERT_TRUE(raft->step(append(1, 2, 1, 0, 0, make_entries(1, {1, 1, 1, 1}), 0)).is_ok());
  disk.drain_all(*raft);
  ASSERT_TRUE(raft->step(snapshot_message(3, 2, 2, make_snapshot(6, 2, {1, 2, 3}))).is_ok());
  disk.drain_all(*raft);
  ASSERT_TRUE(raft->step(append(3, 2, 2, 6, 2, make_entries(7, {2, 2}), 7)).is_ok());
  disk.drain_all(*raft);

  auto restarted = make_raft(config, disk.durable);
  EXPECT_EQ(restarted->status().snapshot_index, 6U);
  EXPECT_EQ(restarted->status().last_index, 8U);
  EXPECT_EQ(restarted->status().commit, 7U);
  EXPECT_EQ(restarted->status().term, 2U);
  EXPECT_EQ(restarted->term_at(6), 2U);
  EXPECT_EQ(restarted->entry_at(8), raft->entry_at(8));
}

TEST(RaftRestart, inconsistentDurableStateIsRefused) {
  Result<std::unique_ptr<Raft>> created = Raft::create(make_config(1, {1, 2, 3}), durable_log({1, 1}, 1, 5));
  ASSERT_FALSE(created.is_ok());
  EXPECT_EQ(created.status().code(), ErrorCode::kCorruption);
}

TEST(RaftRestart, votersComeFromTheSnapshot) {
  DurableState durable = durable_log({}, 2);
  durable.snapshot = make_snapshot(4, 2, {1, 2, 3, 4, 5});
  auto raft = make_raft(make_config(1, {1, 2, 3}), durable);
  EXPECT_EQ(raft->quorum().voters(), (std::vector<NodeId>{1, 2, 3, 4, 5}));
  EXPECT_EQ(raft->status().snapshot_index, 4U);
  EXPECT_EQ(raft->status().commit, 4U);
}

}  // namespace
}  // namespace synod::raft
