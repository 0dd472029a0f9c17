// Ready (src/consensus/ready.h): what a core hands out, and that it hands each thing out once.
#include <vector>

#include <gtest/gtest.h>

#include "raft_test_util.h"

namespace synod::raft {
namespace {

using test::append;
using test::drain;
using test::drain_all;
using test::elect;
using test::heartbeat;
using test::indexes_of;
using test::make_config;
using test::make_entries;
using test::make_raft;

TEST(RaftReady, freshNodeHasNothingToDo) {
  auto raft = make_raft(make_config(1, {1, 2, 3}));
  EXPECT_FALSE(raft->has_ready());
  EXPECT_TRUE(raft->ready().empty());
  raft->advance();
}

TEST(RaftReady, softStateReportsLeaderAndRoleChangesOnce) {
  auto raft = make_raft(make_config(2, {1, 2, 3}));
  ASSERT_TRUE(raft->step(heartbeat(1, 2, 1, 0)).is_ok());
  Ready ready = drain(*raft);
  ASSERT_TRUE(ready.soft_state.has_value());
  EXPECT_EQ(*ready.soft_state, (SoftState{1, Role::kFollower}));
  ASSERT_TRUE(raft->step(heartbeat(1, 2, 1, 0)).is_ok());
  EXPECT_FALSE(drain(*raft).soft_state.has_value()) << "unchanged";

  auto leader = make_raft(make_config(1, {1, 2, 3}));
  elect(*leader);
  EXPECT_FALSE(leader->has_ready());
  EXPECT_EQ(leader->status().leader, 1U);
}

TEST(RaftReady, entriesAndCommittedEntriesAreHandedOutOnce) {
  auto raft = make_raft(make_config(2, {1, 2, 3}));
  ASSERT_TRUE(raft->step(append(1, 2, 1, 0, 0, make_entries(1, {1, 1}), 1)).is_ok());
  Ready first = drain(*raft);
  EXPECT_EQ(indexes_of(first.entries), (std::vector<Index>{1, 2}));
  EXPECT_EQ(indexes_of(first.committed), (std::vector<Index>{1}));
  ASSERT_TRUE(first.hard_state.has_value());
  EXPECT_EQ(first.hard_state->commit, 1U);
  ASSERT_TRUE(raft->step(append(1, 2, 1, 2, 1, {}, 2)).is_ok());
  Ready second = drain(*raft);
  EXPECT_TRUE(second.entries.empty());
  EXPECT_EQ(indexes_of(second.committed), (std::vector<Index>{2}));
  EXPECT_EQ(raft->status().applied, 2U);
  EXPECT_FALSE(raft->has_ready());
}

TEST(RaftReady, entriesHandedOutAreAskedForAgainIfNotAdvanced) {
  auto raft = make_raft(make_config(2, {1, 2, 3}));
  ASSERT_TRUE(raft->step(append(1, 2, 1, 0, 0, make_entries(1, {1}), 0)).is_ok());
  Ready first = raft->ready();
  ASSERT_EQ(indexes_of(first.entries), (std::vector<Index>{1}));
  // Before that Ready is done, a new leader replaces entry 1: what was handed out is not durable.
  ASSERT_TRUE(raft->step(append(3, 2, 2, 0, 0, make_entries(1, {2}), 0)).is_ok());
  raft->advance();
  Ready second = drain_all(*raft);
  ASSERT_EQ(second.entries.size(), 1U);
  EXPECT_EQ(second.entries[0].term, 2U);
  EXPECT_EQ(raft->log().stable(), 1U);
}

}  // namespace
}  // namespace synod::raft
