// Leader transfer (thesis 3.10): stop taking proposals, bring the target up to date, send TimeoutNow;
// the target campaigns at once; the transfer is given up after an election timeout.
#include <vector>

#include <gtest/gtest.h>

#include "raft_test_util.h"

namespace synod::raft {
namespace {

using test::append_ack;
using test::drain_all;
using test::filter;
using test::follow;
using test::heartbeat_response;
using test::make_committed_leader;
using test::make_config;
using test::make_message;
using test::make_raft;
using test::take_messages;

TEST(RaftTransfer, timeoutNowIsSentAtOnceWhenTheTargetIsUpToDate) {
  auto raft = make_committed_leader();
  ASSERT_EQ(raft->progress(2)->match(), raft->status().last_index);
  ASSERT_TRUE(raft->transfer_leader(2).is_ok());
  EXPECT_EQ(raft->status().transferee, 2U);
  std::vector<Message> timeouts = filter(take_messages(*raft), MessageType::kTimeoutNow);
  ASSERT_EQ(timeouts.size(), 1U);
  EXPECT_EQ(timeouts[0].to, 2U);
  EXPECT_EQ(timeouts[0].term, 1U);
}

TEST(RaftTransfer, timeoutNowIsSentOnceTheTargetCatchesUp) {
  auto raft = make_committed_leader();
  ASSERT_TRUE(raft->propose("x").is_ok());
  drain_all(*raft);
  ASSERT_TRUE(raft->transfer_leader(3).is_ok());
  EXPECT_TRUE(filter(take_messages(*raft), MessageType::kTimeoutNow).empty()) << "node 3 holds nothing";
  ASSERT_TRUE(raft->step(heartbeat_response(3, 1, 1)).is_ok());
  std::vector<Message> messages = take_messages(*raft);
  EXPECT_TRUE(filter(messages, MessageType::kTimeoutNow).empty());
  EXPECT_FALSE(filter(messages, MessageType::kAppend, 3).empty()) << "the leader brings node 3 up to date";
  ASSERT_TRUE(raft->step(append_ack(3, 1, 1, 1)).is_ok());
  EXPECT_TRUE(filter(take_messages(*raft), MessageType::kTimeoutNow).empty()) << "still one entry behind";
  ASSERT_TRUE(raft->step(append_ack(3, 1, 1, 2)).is_ok());
  std::vector<Message> timeouts = filter(take_messages(*raft), MessageType::kTimeoutNow, 3);
  EXPECT_EQ(timeouts.size(), 1U);
}

TEST(RaftTransfer, targetCampaignsAtOnceWithoutPreVoteAtTheNextTerm) {
  auto raft = make_raft(make_config(2, {1, 2, 3}));  // pre-vote is on
  follow(*raft, 1, 1);
  ASSERT_TRUE(raft->step(make_message(MessageType::kTimeoutNow, 1, 2, 1)).is_ok());
  EXPECT_EQ(raft->status().role, Role::kCandidate);
  EXPECT_EQ(raft->status().term, 2U);
  EXPECT_EQ(raft->status().vote, 2U);
  std::vector<Message> messages = take_messages(*raft);
  EXPECT_TRUE(filter(messages, MessageType::kPreVote).empty());
  std::vector<Message> votes = filter(messages, MessageType::kVote);
  ASSERT_EQ(votes.size(), 2U);
  for (const Message& vote : votes) {
    EXPECT_EQ(vote.term, 2U);
    EXPECT_EQ(vote.context, "transfer") << "so that voters led by the old leader still answer";
  }
}

TEST(RaftTransfer, isAbortedAfterAnElectionTimeout) {
  auto raft = make_committed_leader();
  ASSERT_TRUE(raft->transfer_leader(3).is_ok());  // node 3 never answers
  for (int tick = 1; tick < raft->config().election_tick; ++tick) {
    raft->tick();
    ASSERT_TRUE(raft->step(heartbeat_response(2, 1, 1)).is_ok());  // keeps check-quorum happy
    ASSERT_EQ(raft->status().transferee, 3U) << "tick " << tick;
  }
  raft->tick();
  EXPECT_EQ(raft->status().role, Role::kLeader);
  EXPECT_EQ(raft->status().transferee, kNoNode);
  EXPECT_TRUE(raft->propose("x").is_ok()) << "proposals are taken again";
}

// Thesis 6.2: a leader that has not heard from a quorum for an election timeout steps down, transfer or
// not; a transfer must not restart that clock (an isolated leader could otherwise be kept in office, and
// serving lease reads, by repeated transfer requests).
TEST(RaftTransfer, doesNotPostponeTheCheckQuorumStepDown) {
  auto raft = make_committed_leader();
  const int election_tick = raft->config().election_tick;
  for (int tick = 0; tick < election_tick; ++tick) raft->tick();  // passes: node 2 acknowledged
  ASSERT_EQ(raft->status().role, Role::kLeader);
  // From here on nobody answers.
  for (int tick = 1; tick < election_tick; ++tick) raft->tick();
  ASSERT_TRUE(raft->transfer_leader(3).is_ok());
  raft->tick();
  EXPECT_EQ(raft->status().role, Role::kFollower);
}

TEST(RaftTransfer, isAbortedWhenTheLeaderStepsDown) {
  auto raft = make_committed_leader();
  ASSERT_TRUE(raft->transfer_leader(3).is_ok());
  (void)raft->step(append_ack(2, 1, 2, 0));  // a higher term
  EXPECT_EQ(raft->status().role, Role::kFollower);
  EXPECT_EQ(raft->status().transferee, kNoNode);
}

TEST(RaftTransfer, followerCannotTransfer) {
  auto raft = make_raft(make_config(2, {1, 2, 3}));
  follow(*raft, 1, 1);
  EXPECT_EQ(raft->transfer_leader(3).code(), ErrorCode::kNotLeader);
  EXPECT_FALSE(raft->has_ready());
}

TEST(RaftTransfer, targetMustBeAVoter) {
  auto raft = make_committed_leader();
  EXPECT_EQ(raft->transfer_leader(9).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(raft->status().transferee, kNoNode);
}

TEST(RaftTransfer, transferToItselfChangesNothing) {
  auto raft = make_committed_leader();
  EXPECT_TRUE(raft->transfer_leader(1).is_ok());
  EXPECT_EQ(raft->status().transferee, kNoNode);
  EXPECT_TRUE(raft->propose("x").is_ok());
}

}  // namespace
}  // namespace synod::raft
