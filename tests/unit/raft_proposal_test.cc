// Proposals: appended by the leader, forwarded by followers, refused with a clear reason otherwise.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "raft_test_util.h"

namespace synod::raft {
namespace {

using test::append_ack;
using test::drain_all;
using test::filter;
using test::follow;
using test::make_committed_leader;
using test::make_config;
using test::make_message;
using test::make_raft;
using test::take_messages;

TEST(RaftProposal, leaderAppendsAtTheNextIndexInItsTerm) {
  auto raft = make_committed_leader();
  Result<Proposal> proposal = raft->propose("x");
  ASSERT_TRUE(proposal.is_ok());
  EXPECT_EQ(proposal.value().index, 2U);
  EXPECT_EQ(proposal.value().term, 1U);
  EXPECT_FALSE(proposal.value().forwarded);
  ASSERT_TRUE(raft->entry_at(2).has_value());
  EXPECT_EQ(raft->entry_at(2)->data, "x");
  EXPECT_EQ(raft->entry_at(2)->type, EntryType::kNormal);
  std::vector<Message> appends = filter(take_messages(*raft), MessageType::kAppend, 2);
  ASSERT_EQ(appends.size(), 1U);
  ASSERT_EQ(appends[0].entries.size(), 1U);
  EXPECT_EQ(appends[0].entries[0].data, "x");
}

TEST(RaftProposal, rejectedWithNoLeaderWhenNoneIsKnown) {
  auto raft = make_raft(make_config(1, {1, 2, 3}));
  Result<Proposal> proposal = raft->propose("x");
  ASSERT_FALSE(proposal.is_ok());
  EXPECT_EQ(proposal.status().code(), ErrorCode::kNoLeader);
  EXPECT_EQ(raft->status().counters.proposals_rejected, 1U);
  EXPECT_EQ(raft->status().last_index, 0U);
  EXPECT_FALSE(raft->has_ready());
}

TEST(RaftProposal, rejectedWhenLargerThanMaxEntryBytes) {
  Config config = make_config(1, {1, 2, 3});
  config.max_entry_bytes = 100;
  auto raft = make_committed_leader(config);
  Result<Proposal> proposal = raft->propose(std::string(101, 'x'));
  ASSERT_FALSE(proposal.is_ok());
  EXPECT_EQ(proposal.status().code(), ErrorCode::kTooLarge);
  EXPECT_EQ(raft->status().last_index, 1U);
  EXPECT_EQ(raft->status().counters.proposals_rejected, 1U);
  EXPECT_TRUE(raft->propose(std::string(100, 'x')).is_ok());
}

TEST(RaftProposal, tooLargeIsRefusedOnAFollowerBeforeForwarding) {
  Config config = make_config(2, {1, 2, 3});
  config.max_entry_bytes = 10;
  auto raft = make_raft(config);
  follow(*raft, 1, 1);
  Result<Proposal> proposal = raft->propose(std::string(11, 'x'));
  ASSERT_FALSE(proposal.is_ok());
  EXPECT_EQ(proposal.status().code(), ErrorCode::kTooLarge);
  EXPECT_FALSE(raft->has_ready());
}

// Thesis 3.10: while leadership is being handed over, the leader stops taking proposals.
TEST(RaftProposal, rejectedDuringALeaderTransfer) {
  auto raft = make_committed_leader();
  ASSERT_TRUE(raft->transfer_leader(3).is_ok());  // node 3 is behind, so the transfer stays pending
  ASSERT_EQ(raft->status().transferee, 3U);
  Result<Proposal> proposal = raft->propose("x");
  ASSERT_FALSE(proposal.is_ok());
  EXPECT_EQ(proposal.status().code(), ErrorCode::kTransferInProgress);
  EXPECT_EQ(raft->status().last_index, 1U);
}

TEST(RaftProposal, forwardedToTheKnownLeader) {
  auto raft = make_raft(make_config(2, {1, 2, 3}));
  follow(*raft, 1, 1);
  Result<Proposal> proposal = raft->propose("x");
  ASSERT_TRUE(proposal.is_ok());
  EXPECT_TRUE(proposal.value().forwarded);
  EXPECT_EQ(proposal.value().index, 0U);
  EXPECT_EQ(raft->status().last_index, 0U);
  std::vector<Message> forwarded = filter(take_messages(*raft), MessageType::kPropose, 1);
  ASSERT_EQ(forwarded.size(), 1U);
  EXPECT_EQ(forwarded[0].term, 1U);
  ASSERT_EQ(forwarded[0].entries.size(), 1U);
  EXPECT_EQ(forwarded[0].entries[0].data, "x");
}

TEST(RaftProposal, rejectedWithNotLeaderWhenForwardingIsDisabled) {
  Config config = make_config(2, {1, 2, 3});
  config.forward_proposals = false;
  auto raft = make_raft(config);
  follow(*raft, 1, 1);
  Result<Proposal> proposal = raft->propose("x");
  ASSERT_FALSE(proposal.is_ok());
  EXPECT_EQ(proposal.status().code(), ErrorCode::kNotLeader);
  EXPECT_FALSE(raft->has_ready());
}

TEST(RaftProposal, leaderAppendsAForwardedProposal) {
  auto raft = make_committed_leader();
  Message forwarded = make_message(MessageType::kPropose, 2, 1, 1);
  forwarded.entries.push_back(Entry{0, 0, EntryType::kNormal, "from 2"});
  ASSERT_TRUE(raft->step(forwarded).is_ok());
  ASSERT_EQ(raft->status().last_index, 2U);
  EXPECT_EQ(raft->entry_at(2)->data, "from 2");
  EXPECT_EQ(raft->entry_at(2)->term, 1U);
}

TEST(RaftProposal, rejectedWhenUncommittedBytesWouldExceedTheCap) {
  Config config = make_config(1, {1, 2, 3});
  config.max_entry_bytes = 100;
  config.max_uncommitted_bytes = 300;  // two 124-byte entries fit, a third does not
  auto raft = make_committed_leader(config);
  ASSERT_TRUE(raft->propose(std::string(100, 'a')).is_ok());
  ASSERT_TRUE(raft->propose(std::string(100, 'b')).is_ok());
  Result<Proposal> third = raft->propose(std::string(100, 'c'));
  ASSERT_FALSE(third.is_ok());
  EXPECT_EQ(third.status().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(raft->status().last_index, 3U);
  // Once they commit, their bytes are released.
  drain_all(*raft);
  ASSERT_TRUE(raft->step(append_ack(2, 1, 1, 3)).is_ok());
  ASSERT_EQ(raft->status().commit, 3U);
  EXPECT_TRUE(raft->propose(std::string(100, 'c')).is_ok());
}

}  // namespace
}  // namespace synod::raft
