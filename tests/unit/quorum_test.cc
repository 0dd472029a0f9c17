// Quorum arithmetic (src/consensus/quorum.h): the commit index a set of acknowledgements allows and the
// outcome of a vote tally, for every cluster size up to five, plus a check of the fast path against a
// naive reference (as etcd's quorum/quick_test.go does).
#include "consensus/quorum.h"

#include <algorithm>
#include <limits>
#include <map>
#include <optional>
#include <vector>

#include <gtest/gtest.h>

#include "base/random.h"

namespace synod {
namespace {

// Acknowledged indexes by voter; a voter absent from the map has acknowledged nothing.
AckedIndexFn acks(std::map<NodeId, Index> acked) {
  return [acked = std::move(acked)](NodeId id) -> std::optional<Index> {
    auto it = acked.find(id);
    if (it == acked.end()) return std::nullopt;
    return it->second;
  };
}

// The definition, spelled out: the largest index that at least a majority of voters have acknowledged.
Index naive_committed_index(const std::vector<NodeId>& voters, const std::map<NodeId, Index>& acked) {
  std::vector<Index> candidates{0};
  for (const auto& [id, index] : acked) candidates.push_back(index);
  Index best = 0;
  for (Index candidate : candidates) {
    size_t holders = 0;
    for (NodeId id : voters) {
      auto it = acked.find(id);
      if (it != acked.end() && it->second >= candidate) ++holders;
      if (it == acked.end() && candidate == 0) ++holders;
    }
    if (holders > voters.size() / 2) best = std::max(best, candidate);
  }
  return best;
}

VoteResult naive_vote_result(const std::vector<NodeId>& voters, const std::map<NodeId, bool>& votes) {
  size_t granted = 0;
  size_t rejected = 0;
  for (NodeId id : voters) {
    auto it = votes.find(id);
    if (it == votes.end()) continue;
    (it->second ? granted : rejected)++;
  }
  if (2 * granted > voters.size()) return VoteResult::kWon;
  if (2 * rejected >= voters.size()) return VoteResult::kLost;
  return VoteResult::kPending;
}

TEST(Quorum, majorityIsMoreThanHalf) {
  EXPECT_EQ(MajorityConfig({1}).quorum(), 1U);
  EXPECT_EQ(MajorityConfig({1, 2}).quorum(), 2U);
  EXPECT_EQ(MajorityConfig({1, 2, 3}).quorum(), 2U);
  EXPECT_EQ(MajorityConfig({1, 2, 3, 4}).quorum(), 3U);
  EXPECT_EQ(MajorityConfig({1, 2, 3, 4, 5}).quorum(), 3U);
}

TEST(Quorum, configSortsAndDeduplicatesVoters) {
  MajorityConfig config({3, 1, 3, 2});
  EXPECT_EQ(config.voters(), (std::vector<NodeId>{1, 2, 3}));
  EXPECT_EQ(config.size(), 3U);
  EXPECT_TRUE(config.contains(2));
  EXPECT_FALSE(config.contains(4));
}

TEST(Quorum, committedIndexSingleVoterIsItsOwnAck) {
  MajorityConfig config({1});
  EXPECT_EQ(config.committed_index(acks({{1, 7}})), 7U);
  EXPECT_EQ(config.committed_index(acks({})), 0U);
}

TEST(Quorum, committedIndexTwoVotersNeedsBoth) {
  MajorityConfig config({1, 2});
  EXPECT_EQ(config.committed_index(acks({{1, 9}, {2, 4}})), 4U);
  EXPECT_EQ(config.committed_index(acks({{1, 9}})), 0U);  // 2 acknowledged nothing
}

TEST(Quorum, committedIndexThreeVotersIsTheMedian) {
  MajorityConfig config({1, 2, 3});
  EXPECT_EQ(config.committed_index(acks({{1, 5}, {2, 3}, {3, 9}})), 5U);
  EXPECT_EQ(config.committed_index(acks({{1, 5}, {2, 5}, {3, 1}})), 5U);
  EXPECT_EQ(config.committed_index(acks({{1, 5}, {3, 2}})), 2U);  // 2 missing
  EXPECT_EQ(config.committed_index(acks({{1, 5}})), 0U);          // 2 and 3 missing
}

TEST(Quorum, committedIndexFourVotersNeedsThree) {
  MajorityConfig config({1, 2, 3, 4});
  EXPECT_EQ(config.committed_index(acks({{1, 8}, {2, 6}, {3, 4}, {4, 2}})), 4U);
  EXPECT_EQ(config.committed_index(acks({{1, 8}, {2, 6}, {4, 2}})), 2U);  // 3 missing
  EXPECT_EQ(config.committed_index(acks({{1, 8}, {2, 6}})), 0U);          // a half is not a majority
}

TEST(Quorum, committedIndexFiveVotersNeedsThree) {
  MajorityConfig config({1, 2, 3, 4, 5});
  EXPECT_EQ(config.committed_index(acks({{1, 7}, {2, 7}, {3, 7}, {4, 6}, {5, 1}})), 7U);
  EXPECT_EQ(config.committed_index(acks({{1, 7}, {2, 7}, {3, 3}, {4, 6}, {5, 1}})), 6U);
  EXPECT_EQ(config.committed_index(acks({{1, 7}, {2, 7}})), 0U);          // 2 of 5: nothing commits
  EXPECT_EQ(config.committed_index(acks({{1, 7}, {2, 7}, {5, 3}})), 3U);  // 3 of 5, the lowest counts
}

TEST(Quorum, committedIndexIgnoresNonVoters) {
  MajorityConfig config({1, 2, 3});
  EXPECT_EQ(config.committed_index(acks({{1, 5}, {4, 9}, {5, 9}})), 0U);
}

TEST(Quorum, committedIndexOfEmptyConfigIsUnbounded) {
  EXPECT_EQ(MajorityConfig().committed_index(acks({})), std::numeric_limits<Index>::max());
}

TEST(Quorum, committedIndexMatchesNaiveReference) {
  Random random(20240601);
  for (int round = 0; round < 5000; ++round) {
    size_t size = random.between(1, 7);
    std::vector<NodeId> voters;
    for (NodeId id = 1; id <= size; ++id) voters.push_back(id);
    std::map<NodeId, Index> acked;
    for (NodeId id = 1; id <= size + 1; ++id) {  // id size + 1 is not a voter and must not count
      if (random.chance(4, 5)) acked[id] = random.uniform(20);
    }
    MajorityConfig config(voters);
    ASSERT_EQ(config.committed_index(acks(acked)), naive_committed_index(voters, acked))
        << "round " << round << " with " << size << " voters";
    ASSERT_EQ(QuorumConfig(config).committed_index(acks(acked)), naive_committed_index(voters, acked));
  }
}

TEST(Quorum, voteResultWonLostPending) {
  using enum VoteResult;
  // One voter.
  EXPECT_EQ(MajorityConfig({1}).vote_result({}), kPending);
  EXPECT_EQ(MajorityConfig({1}).vote_result({{1, true}}), kWon);
  EXPECT_EQ(MajorityConfig({1}).vote_result({{1, false}}), kLost);
  // Two voters: both must grant.
  EXPECT_EQ(MajorityConfig({1, 2}).vote_result({{1, true}}), kPending);
  EXPECT_EQ(MajorityConfig({1, 2}).vote_result({{1, true}, {2, true}}), kWon);
  EXPECT_EQ(MajorityConfig({1, 2}).vote_result({{1, true}, {2, false}}), kLost);
  // Three voters.
  EXPECT_EQ(MajorityConfig({1, 2, 3}).vote_result({{1, true}}), kPending);
  EXPECT_EQ(MajorityConfig({1, 2, 3}).vote_result({{1, true}, {2, true}}), kWon);
  EXPECT_EQ(MajorityConfig({1, 2, 3}).vote_result({{1, true}, {2, false}}), kPending);
  EXPECT_EQ(MajorityConfig({1, 2, 3}).vote_result({{1, true}, {2, false}, {3, false}}), kLost);
  // Four voters: two refusals already make a majority impossible.
  EXPECT_EQ(MajorityConfig({1, 2, 3, 4}).vote_result({{1, true}, {2, true}}), kPending);
  EXPECT_EQ(MajorityConfig({1, 2, 3, 4}).vote_result({{1, true}, {2, false}, {3, false}}), kLost);
  EXPECT_EQ(MajorityConfig({1, 2, 3, 4}).vote_result({{1, true}, {2, true}, {3, true}}), kWon);
  // Five voters.
  EXPECT_EQ(MajorityConfig({1, 2, 3, 4, 5}).vote_result({{1, true}, {2, true}, {3, false}, {4, false}}),
            kPending);
  EXPECT_EQ(MajorityConfig({1, 2, 3, 4, 5}).vote_result({{1, true}, {2, true}, {3, true}}), kWon);
  EXPECT_EQ(MajorityConfig({1, 2, 3, 4, 5}).vote_result({{2, false}, {3, false}, {4, false}}), kLost);
}

TEST(Quorum, voteResultIgnoresNonVoters) {
  EXPECT_EQ(MajorityConfig({1, 2, 3}).vote_result({{1, true}, {7, true}, {8, true}}), VoteResult::kPending);
  EXPECT_EQ(MajorityConfig({1, 2, 3}).vote_result({{1, true}, {7, false}, {8, false}}), VoteResult::kPending);
}

TEST(Quorum, voteResultMatchesNaiveReference) {
  Random random(77);
  for (int round = 0; round < 5000; ++round) {
    size_t size = random.between(1, 7);
    std::vector<NodeId> voters;
    for (NodeId id = 1; id <= size; ++id) voters.push_back(id);
    std::map<NodeId, bool> votes;
    for (NodeId id = 1; id <= size + 1; ++id) {
      if (random.chance(2, 3)) votes[id] = random.chance(1, 2);
    }
    ASSERT_EQ(MajorityConfig(voters).vote_result(votes), naive_vote_result(voters, votes))
        << "round " << round;
  }
}

}  // namespace
}  // namespace synod
