// Elections and the vote rule: randomized timeouts, pre-vote, winning and losing, one vote per term, the
// election restriction, leader leases (check-quorum) and the term rule.
#include <set>
#include <vector>

#include <gtest/gtest.h>

#include "raft_test_util.h"

namespace synod::raft {
namespace {

using test::append;
using test::append_ack;
using test::drain;
using test::drain_all;
using test::durable_log;
using test::elect;
using test::filter;
using test::follow;
using test::heartbeat;
using test::make_config;
using test::make_leader;
using test::make_message;
using test::make_raft;
using test::take_messages;
using test::vote_request;
using test::vote_response;

// Ticks a fresh follower until it starts a (pre-)campaign; returns how many ticks that took.
int ticks_until_campaign(Raft& raft) {
  for (int ticks = 1; ticks <= 100; ++ticks) {
    raft.tick();
    if (raft.status().role != Role::kFollower) return ticks;
  }
  return -1;
}

// ---------------------------------------------------------------------------------------------------
// Timeouts (paper 5.2: randomized election timeouts)

TEST(RaftElection, followerTimesOutWithinOneToTwoElectionTimeouts) {
  for (uint64_t seed = 1; seed <= 200; ++seed) {
    auto raft = make_raft(make_config(1, {1, 2, 3}, seed));
    int ticks = ticks_until_campaign(*raft);
    ASSERT_GE(ticks, 10) << "seed " << seed;
    ASSERT_LT(ticks, 20) << "seed " << seed;
  }
}

TEST(RaftElection, electionTimeoutIsRandomizedBySeedAndReproducible) {
  std::set<int> seen;
  for (uint64_t seed = 1; seed <= 50; ++seed) {
    auto first = make_raft(make_config(1, {1, 2, 3}, seed));
    auto second = make_raft(make_config(1, {1, 2, 3}, seed));
    int ticks = ticks_until_campaign(*first);
    EXPECT_EQ(ticks, ticks_until_campaign(*second)) << "same seed " << seed << ", different timeout";
    seen.insert(ticks);
  }
  EXPECT_GE(seen.size(), 5U) << "50 seeds should spread over the 10 possible timeouts";
}

TEST(RaftElection, hearingFromTheLeaderResetsTheElectionTimer) {
  auto raft = make_raft(make_config(1, {1, 2, 3}));
  follow(*raft, 2, 1);
  for (int tick = 0; tick < 100; ++tick) {
    raft->tick();
    ASSERT_TRUE(raft->step(heartbeat(2, 1, 1, 0)).is_ok());
  }
  EXPECT_EQ(raft->status().role, Role::kFollower);
  EXPECT_EQ(raft->status().leader, 2U);
}

// ---------------------------------------------------------------------------------------------------
// Pre-vote (thesis 9.6)

TEST(RaftElection, preVoteDoesNotBumpTermOrVote) {
  auto raft = make_raft(make_config(1, {1, 2, 3}), durable_log({1, 2}, 2));
  ticks_until_campaign(*raft);
  EXPECT_EQ(raft->status().role, Role::kPreCandidate);
  EXPECT_EQ(raft->status().term, 2U);
  EXPECT_EQ(raft->status().vote, kNoNode);
  Ready ready = drain(*raft);
  EXPECT_FALSE(ready.hard_state.has_value()) << "a pre-campaign has nothing to persist";
  std::vector<Message> requests = filter(ready.messages, MessageType::kPreVote);
  ASSERT_EQ(requests.size(), 2U);
  for (const Message& request : requests) {
    EXPECT_EQ(request.term, 3U);  // the term it would campaign in
    EXPECT_EQ(request.index, 2U);
    EXPECT_EQ(request.log_term, 2U);
  }
}

TEST(RaftElection, preVoteWonStartsTheRealCampaignAtNextTerm) {
  auto raft = make_raft(make_config(1, {1, 2, 3}));
  ticks_until_campaign(*raft);
  drain_all(*raft);
  ASSERT_TRUE(raft->step(vote_response(MessageType::kPreVoteResponse, 2, 1, 1, false)).is_ok());
  EXPECT_EQ(raft->status().role, Role::kCandidate);
  EXPECT_EQ(raft->status().term, 1U);
  EXPECT_EQ(raft->status().vote, 1U);
  Ready ready = drain(*raft);
  EXPECT_EQ(filter(ready.messages, MessageType::kVote).size(), 2U);
  ASSERT_TRUE(ready.hard_state.has_value());
  EXPECT_EQ(ready.hard_state->term, 1U);
  EXPECT_EQ(ready.hard_state->vote, 1U);
}

TEST(RaftElection, preCandidateReturnsToFollowerOnMajorityReject) {
  auto raft = make_raft(make_config(1, {1, 2, 3}));
  ticks_until_campaign(*raft);
  drain_all(*raft);
  ASSERT_TRUE(raft->step(vote_response(MessageType::kPreVoteResponse, 2, 1, 0, true)).is_ok());
  EXPECT_EQ(raft->status().role, Role::kPreCandidate);
  ASSERT_TRUE(raft->step(vote_response(MessageType::kPreVoteResponse, 3, 1, 0, true)).is_ok());
  EXPECT_EQ(raft->status().role, Role::kFollower);
  EXPECT_EQ(raft->status().term, 0U);
}

TEST(RaftElection, preCandidateAdoptsAHigherTermFromARejection) {
  auto raft = make_raft(make_config(1, {1, 2, 3}));
  ticks_until_campaign(*raft);
  drain_all(*raft);
  (void)raft->step(vote_response(MessageType::kPreVoteResponse, 2, 1, 5, true));
  EXPECT_EQ(raft->status().role, Role::kFollower);
  EXPECT_EQ(raft->status().term, 5U);
}

TEST(RaftElection, withoutPreVoteAFollowerCampaignsDirectly) {
  Config config = make_config(1, {1, 2, 3});
  config.pre_vote = false;
  auto raft = make_raft(config);
  ticks_until_campaign(*raft);
  EXPECT_EQ(raft->status().role, Role::kCandidate);
  EXPECT_EQ(raft->status().term, 1U);
  EXPECT_EQ(filter(take_messages(*raft), MessageType::kVote).size(), 2U);
}

// ---------------------------------------------------------------------------------------------------
// Winning and losing (paper 5.2)

TEST(RaftElection, candidateWinsWithAMajorityOfVotes) {
  Config config = make_config(1, {1, 2, 3, 4, 5});
  config.pre_vote = false;
  auto raft = make_raft(config);
  ticks_until_campaign(*raft);
  drain_all(*raft);
  ASSERT_TRUE(raft->step(vote_response(MessageType::kVoteResponse, 2, 1, 1, false)).is_ok());
  EXPECT_EQ(raft->status().role, Role::kCandidate) << "2 of 5 votes are not a majority";
  ASSERT_TRUE(raft->step(vote_response(MessageType::kVoteResponse, 4, 1, 1, true)).is_ok());
  EXPECT_EQ(raft->status().role, Role::kCandidate);
  ASSERT_TRUE(raft->step(vote_response(MessageType::kVoteResponse, 3, 1, 1, false)).is_ok());
  EXPECT_EQ(raft->status().role, Role::kLeader);
  EXPECT_EQ(raft->status().leader, 1U);
  EXPECT_EQ(raft->status().term, 1U);
}

TEST(RaftElection, candidateLosesOnMajorityReject) {
  Config config = make_config(1, {1, 2, 3});
  config.pre_vote = false;
  auto raft = make_raft(config);
  ticks_until_campaign(*raft);
  drain_all(*raft);
  ASSERT_TRUE(raft->step(vote_response(MessageType::kVoteResponse, 2, 1, 1, true)).is_ok());
  EXPECT_EQ(raft->status().role, Role::kCandidate);
  ASSERT_TRUE(raft->step(vote_response(MessageType::kVoteResponse, 3, 1, 1, true)).is_ok());
  EXPECT_EQ(raft->status().role, Role::kFollower);
  EXPECT_EQ(raft->status().term, 1U);
  EXPECT_EQ(raft->status().vote, 1U) << "the vote cast in term 1 stands";
}

TEST(RaftElection, candidateDoesNotCountPreVoteAnswersAsVotes) {
  Config config = make_config(1, {1, 2, 3});
  config.pre_vote = false;
  auto candidate = make_raft(config);
  ticks_until_campaign(*candidate);
  drain_all(*candidate);
  ASSERT_TRUE(candidate->step(vote_response(MessageType::kPreVoteResponse, 2, 1, 1, false)).is_ok());
  EXPECT_EQ(candidate->status().role, Role::kCandidate);
}

TEST(RaftElection, candidateStepsDownForALeaderOfItsTerm) {
  Config config = make_config(1, {1, 2, 3});
  config.pre_vote = false;
  auto raft = make_raft(config);
  ticks_until_campaign(*raft);
  drain_all(*raft);
  ASSERT_TRUE(raft->step(append(2, 1, 1, 0, 0, {}, 0)).is_ok());
  EXPECT_EQ(raft->status().role, Role::kFollower);
  EXPECT_EQ(raft->status().leader, 2U);
  EXPECT_EQ(raft->status().term, 1U);
}

// Paper 5.2: a single server is a majority of one.
TEST(RaftElection, singleNodeClusterElectsItselfAndCommits) {
  auto raft = make_raft(make_config(1, {1}));
  ticks_until_campaign(*raft);
  EXPECT_EQ(raft->status().role, Role::kLeader);
  EXPECT_EQ(raft->status().term, 1U);
  Ready ready = drain_all(*raft);
  EXPECT_TRUE(ready.messages.empty());
  ASSERT_EQ(ready.committed.size(), 1U);
  EXPECT_EQ(ready.committed[0].type, EntryType::kNoop);
  Result<Proposal> proposal = raft->propose("x");
  ASSERT_TRUE(proposal.is_ok());
  EXPECT_EQ(proposal.value().index, 2U);
  ready = drain_all(*raft);
  ASSERT_EQ(ready.committed.size(), 1U);
  EXPECT_EQ(ready.committed[0].data, "x");
  EXPECT_EQ(raft->status().commit, 2U);
  EXPECT_EQ(raft->status().applied, 2U);
}

// ---------------------------------------------------------------------------------------------------
// The term rule (paper 5.1)

TEST(RaftElection, higherTermMakesALeaderStepDown) {
  auto raft = make_leader(make_config(1, {1, 2, 3}));
  ASSERT_EQ(raft->status().term, 1U);
  // The answer to a stale Append, as in the next tests: it carries only the term.
  (void)raft->step(append_ack(2, 1, 4, 0));
  EXPECT_EQ(raft->status().role, Role::kFollower);
  EXPECT_EQ(raft->status().term, 4U);
  EXPECT_EQ(raft->status().leader, kNoNode);
  EXPECT_EQ(raft->status().vote, kNoNode);
  Ready ready = drain(*raft);
  ASSERT_TRUE(ready.hard_state.has_value());
  EXPECT_EQ(ready.hard_state->term, 4U);
}

TEST(RaftElection, higherTermAppendMakesTheSenderTheLeader) {
  auto raft = make_leader(make_config(1, {1, 2, 3}));
  ASSERT_TRUE(raft->step(heartbeat(3, 1, 2, 0)).is_ok());
  EXPECT_EQ(raft->status().role, Role::kFollower);
  EXPECT_EQ(raft->status().term, 2U);
  EXPECT_EQ(raft->status().leader, 3U);
}

// With pre-vote nobody campaigns against a deposed leader in a minority, so it would never learn the
// new term; the answer to its stale Append carries it (etcd's raft does the same).
TEST(RaftElection, staleTermAppendIsAnsweredWithTheHigherTermSoTheOldLeaderStepsDown) {
  auto old_leader = make_raft(make_config(1, {1, 2, 3}));
  Ready elected = elect(*old_leader);
  std::vector<Message> appends = filter(elected.messages, MessageType::kAppend, 2);
  ASSERT_EQ(appends.size(), 1U);

  auto follower = make_raft(make_config(2, {1, 2, 3}));
  follow(*follower, 3, 2);  // node 3 leads term 2 on this side
  Status stepped = follower->step(appends[0]);
  EXPECT_EQ(stepped.code(), ErrorCode::kStale);
  EXPECT_EQ(follower->status().counters.messages_dropped_stale, 1U);
  EXPECT_EQ(follower->status().term, 2U);
  std::vector<Message> answers = filter(take_messages(*follower), MessageType::kAppendResponse, 1);
  ASSERT_EQ(answers.size(), 1U);
  EXPECT_EQ(answers[0].term, 2U);

  (void)old_leader->step(answers[0]);  // its term is what matters; the message itself is old news
  EXPECT_EQ(old_leader->status().role, Role::kFollower);
  EXPECT_EQ(old_leader->status().term, 2U);
}

TEST(RaftElection, staleTermMessagesAreCountedAndIgnored) {
  auto raft = make_raft(make_config(1, {1, 2, 3}), durable_log({}, 5));
  EngineStatus before = raft->status();
  Status stepped = raft->step(vote_response(MessageType::kVoteResponse, 2, 1, 4, false));
  EXPECT_EQ(stepped.code(), ErrorCode::kStale);
  test::expect_same_state(before, raft->status());
  EXPECT_EQ(raft->status().counters.messages_dropped_stale, 1U);
  EXPECT_EQ(raft->status().counters.messages_dropped_invalid, 0U);
}

// ---------------------------------------------------------------------------------------------------
// The vote rule (paper 5.2, 5.4.1)

TEST(RaftVote, grantsOneVotePerTerm) {
  auto raft = make_raft(make_config(1, {1, 2, 3}));
  ASSERT_TRUE(raft->step(vote_request(MessageType::kVote, 2, 1, 1, 0, 0)).is_ok());
  ASSERT_TRUE(raft->step(vote_request(MessageType::kVote, 3, 1, 1, 0, 0)).is_ok());
  EXPECT_EQ(raft->status().vote, 2U);
  std::vector<Message> answers = filter(take_messages(*raft), MessageType::kVoteResponse);
  ASSERT_EQ(answers.size(), 2U);
  EXPECT_EQ(answers[0].to, 2U);
  EXPECT_FALSE(answers[0].reject);
  EXPECT_EQ(answers[0].term, 1U);
  EXPECT_EQ(answers[1].to, 3U);
  EXPECT_TRUE(answers[1].reject);
}

TEST(RaftVote, grantsTheSameCandidateAgainInTheSameTerm) {
  auto raft = make_raft(make_config(1, {1, 2, 3}));
  ASSERT_TRUE(raft->step(vote_request(MessageType::kVote, 2, 1, 1, 0, 0)).is_ok());
  ASSERT_TRUE(raft->step(vote_request(MessageType::kVote, 2, 1, 1, 0, 0)).is_ok());  // a retry
  std::vector<Message> answers = filter(take_messages(*raft), MessageType::kVoteResponse);
  ASSERT_EQ(answers.size(), 2U);
  EXPECT_FALSE(answers[1].reject);
}

TEST(RaftVote, newTermFreesTheVote) {
  auto raft = make_raft(make_config(1, {1, 2, 3}));
  ASSERT_TRUE(raft->step(vote_request(MessageType::kVote, 2, 1, 1, 0, 0)).is_ok());
  ASSERT_TRUE(raft->step(vote_request(MessageType::kVote, 3, 1, 2, 0, 0)).is_ok());
  EXPECT_EQ(raft->status().term, 2U);
  EXPECT_EQ(raft->status().vote, 3U);
}

TEST(RaftVote, refusesCandidateWhoseLastTermIsLower) {
  auto raft = make_raft(make_config(1, {1, 2, 3}), durable_log({1, 2}, 2));
  ASSERT_TRUE(raft->step(vote_request(MessageType::kVote, 2, 1, 3, 5, 1)).is_ok());  // longer, older
  EXPECT_EQ(raft->status().term, 3U);  // the term rule still applies
  EXPECT_EQ(raft->status().vote, kNoNode);
  std::vector<Message> answers = filter(take_messages(*raft), MessageType::kVoteResponse);
  ASSERT_EQ(answers.size(), 1U);
  EXPECT_TRUE(answers[0].reject);
  EXPECT_EQ(answers[0].term, 3U);
}

TEST(RaftVote, refusesCandidateWithShorterLogInTheSameLastTerm) {
  auto raft = make_raft(make_config(1, {1, 2, 3}), durable_log({1, 2, 2}, 2));
  ASSERT_TRUE(raft->step(vote_request(MessageType::kVote, 2, 1, 3, 2, 2)).is_ok());
  EXPECT_EQ(raft->status().vote, kNoNode);
  // The refusal did not use up the vote: an up-to-date candidate of the same term gets it.
  ASSERT_TRUE(raft->step(vote_request(MessageType::kVote, 3, 1, 3, 3, 2)).is_ok());
  EXPECT_EQ(raft->status().vote, 3U);
  std::vector<Message> answers = filter(take_messages(*raft), MessageType::kVoteResponse);
  ASSERT_EQ(answers.size(), 2U);
  EXPECT_TRUE(answers[0].reject);
  EXPECT_FALSE(answers[1].reject);
}

TEST(RaftVote, grantsCandidateWithHigherLastTermAndShorterLog) {
  auto raft = make_raft(make_config(1, {1, 2, 3}), durable_log({1, 1, 1, 1}, 1));
  ASSERT_TRUE(raft->step(vote_request(MessageType::kVote, 2, 1, 3, 2, 2)).is_ok());
  EXPECT_EQ(raft->status().vote, 2U);
}

// Thesis 3.8: the vote must be on stable storage before the answer leaves, so a crash cannot let the
// node vote twice in one term. Ready step 1 persists hard_state before step 2 sends.
TEST(RaftVote, voteIsInTheHardStateOfTheReadyCarryingTheResponse) {
  auto raft = make_raft(make_config(1, {1, 2, 3}));
  ASSERT_TRUE(raft->step(vote_request(MessageType::kVote, 2, 1, 7, 0, 0)).is_ok());
  Ready ready = drain(*raft);
  ASSERT_TRUE(ready.hard_state.has_value());
  EXPECT_EQ(ready.hard_state->term, 7U);
  EXPECT_EQ(ready.hard_state->vote, 2U);
  std::vector<Message> answers = filter(ready.messages, MessageType::kVoteResponse);
  ASSERT_EQ(answers.size(), 1U);
  EXPECT_FALSE(answers[0].reject);
  EXPECT_FALSE(may_send_before_persist(answers[0]));
}

TEST(RaftVote, candidatesOwnVoteIsInTheHardStateOfTheReadyCarryingItsRequests) {
  Config config = make_config(1, {1, 2, 3});
  config.pre_vote = false;
  auto raft = make_raft(config);
  ticks_until_campaign(*raft);
  Ready ready = drain(*raft);
  ASSERT_TRUE(ready.hard_state.has_value());
  EXPECT_EQ(ready.hard_state->term, 1U);
  EXPECT_EQ(ready.hard_state->vote, 1U);
  EXPECT_EQ(filter(ready.messages, MessageType::kVote).size(), 2U);
}

TEST(RaftVote, preVoteIsGrantedWithoutRecordingAnything) {
  auto raft = make_raft(make_config(1, {1, 2, 3}), durable_log({1}, 1));
  ASSERT_TRUE(raft->step(vote_request(MessageType::kPreVote, 2, 1, 2, 1, 1)).is_ok());
  EXPECT_EQ(raft->status().term, 1U);
  EXPECT_EQ(raft->status().vote, kNoNode);
  Ready ready = drain(*raft);
  EXPECT_FALSE(ready.hard_state.has_value());
  std::vector<Message> answers = filter(ready.messages, MessageType::kPreVoteResponse);
  ASSERT_EQ(answers.size(), 1U);
  EXPECT_FALSE(answers[0].reject);
  EXPECT_EQ(answers[0].term, 2U) << "a granted pre-vote answers in the candidate's future term";
}

TEST(RaftVote, preVoteFollowsTheElectionRestriction) {
  auto raft = make_raft(make_config(1, {1, 2, 3}), durable_log({1, 2}, 2));
  ASSERT_TRUE(raft->step(vote_request(MessageType::kPreVote, 2, 1, 3, 9, 1)).is_ok());
  std::vector<Message> answers = filter(take_messages(*raft), MessageType::kPreVoteResponse);
  ASSERT_EQ(answers.size(), 1U);
  EXPECT_TRUE(answers[0].reject);
  EXPECT_EQ(raft->status().term, 2U);
}

TEST(RaftVote, staleTermPreVoteIsRefusedWithOurTerm) {
  auto raft = make_raft(make_config(1, {1, 2, 3}), durable_log({}, 5));
  Status stepped = raft->step(vote_request(MessageType::kPreVote, 2, 1, 4, 0, 0));
  EXPECT_EQ(stepped.code(), ErrorCode::kStale);
  std::vector<Message> answers = filter(take_messages(*raft), MessageType::kPreVoteResponse);
  ASSERT_EQ(answers.size(), 1U);
  EXPECT_TRUE(answers[0].reject);
  EXPECT_EQ(answers[0].term, 5U);
}

// Thesis 4.2.3: a server that heard from a leader within the minimum election timeout ignores vote
// requests, so a partitioned-and-returning node cannot depose a working leader.
TEST(RaftVote, voteRequestIsIgnoredWithinTheLeaderLease) {
  auto raft = make_raft(make_config(1, {1, 2, 3}));
  follow(*raft, 2, 1);
  EngineStatus before = raft->status();
  Status stepped = raft->step(vote_request(MessageType::kVote, 3, 1, 2, 5, 1));
  EXPECT_EQ(stepped.code(), ErrorCode::kStale);
  test::expect_same_state(before, raft->status());
  EXPECT_EQ(raft->status().counters.messages_dropped_stale, 1U);
  EXPECT_FALSE(raft->has_ready()) << "not even a refusal is sent";
  ASSERT_TRUE(raft->step(vote_request(MessageType::kPreVote, 3, 1, 2, 5, 1)).code() == ErrorCode::kStale);
  EXPECT_EQ(raft->status().term, 1U);
}

TEST(RaftVote, voteRequestIsHeardOnceTheLeaseExpires) {
  auto raft = make_raft(make_config(1, {1, 2, 3}));
  follow(*raft, 2, 1);
  for (int tick = 0; tick < raft->config().election_tick; ++tick) raft->tick();
  ASSERT_TRUE(raft->step(vote_request(MessageType::kVote, 3, 1, 2, 5, 1)).is_ok());
  EXPECT_EQ(raft->status().term, 2U);
  EXPECT_EQ(raft->status().vote, 3U);
}

TEST(RaftVote, leaderIgnoresVoteRequestsWithinItsLease) {
  auto raft = make_leader(make_config(1, {1, 2, 3}));
  Status stepped = raft->step(vote_request(MessageType::kVote, 3, 1, 5, 9, 1));
  EXPECT_EQ(stepped.code(), ErrorCode::kStale);
  EXPECT_EQ(raft->status().role, Role::kLeader);
  EXPECT_EQ(raft->status().term, 1U);
}

// Thesis 3.10: a leader transfer's vote requests must get through even though the voters are led.
TEST(RaftVote, transferVoteBypassesTheLease) {
  auto raft = make_raft(make_config(1, {1, 2, 3}));
  follow(*raft, 2, 1);
  ASSERT_TRUE(raft->step(vote_request(MessageType::kVote, 3, 1, 2, 0, 0, "transfer")).is_ok());
  EXPECT_EQ(raft->status().term, 2U);
  EXPECT_EQ(raft->status().vote, 3U);
  std::vector<Message> answers = filter(take_messages(*raft), MessageType::kVoteResponse);
  ASSERT_EQ(answers.size(), 1U);
  EXPECT_FALSE(answers[0].reject);
}

// Without check-quorum a leader never learns it lost its lease, so only pre-votes (which change nothing)
// honour the lease: a real vote request at a higher term is heard.
TEST(RaftVote, withoutCheckQuorumOnlyPreVotesHonourTheLease) {
  Config config = make_config(1, {1, 2, 3});
  config.check_quorum = false;
  auto raft = make_raft(config);
  follow(*raft, 2, 1);
  EXPECT_EQ(raft->step(vote_request(MessageType::kPreVote, 3, 1, 2, 5, 1)).code(), ErrorCode::kStale);
  ASSERT_TRUE(raft->step(vote_request(MessageType::kVote, 3, 1, 2, 5, 1)).is_ok());
  EXPECT_EQ(raft->status().term, 2U);
  EXPECT_EQ(raft->status().vote, 3U);
}

TEST(RaftVote, followerWithALeaderRefusesAVoteInTheSameTerm) {
  auto raft = make_raft(make_config(1, {1, 2, 3}));
  follow(*raft, 2, 1);
  ASSERT_TRUE(raft->step(vote_request(MessageType::kVote, 3, 1, 1, 5, 1)).is_ok());
  EXPECT_EQ(raft->status().vote, kNoNode);
  std::vector<Message> answers = filter(take_messages(*raft), MessageType::kVoteResponse);
  ASSERT_EQ(answers.size(), 1U);
  EXPECT_TRUE(answers[0].reject);
}

}  // namespace
}  // namespace synod::raft
