// The rules of single-decree Paxos, one per test: what an acceptor promises and accepts, and which
// value a proposer may put to phase 2.
#include <gtest/gtest.h>

#include "paxos/acceptor.h"
#include "paxos/proposer.h"

namespace synod::paxos {
namespace {

Message request(MessageType type, Ballot ballot, std::optional<std::string> value = std::nullopt) {
  Message m;
  m.type = type;
  m.from = ballot.node;
  m.to = 1;
  m.ballot = ballot;
  m.value = std::move(value);
  return m;
}

TEST(PaxosAcceptor, promisesTheFirstBallotAndReportsNothingAccepted) {
  Acceptor acceptor(1);
  Message answer = acceptor.handle(request(MessageType::kPrepare, {1, 2}));
  EXPECT_EQ(answer.type, MessageType::kPromise);
  EXPECT_EQ(answer.to, 2U);
  EXPECT_EQ(answer.ballot, (Ballot{1, 2}));
  EXPECT_TRUE(answer.accepted_ballot.is_null());
  EXPECT_FALSE(answer.value.has_value());
  EXPECT_EQ(acceptor.state().promised, (Ballot{1, 2}));
}

TEST(PaxosAcceptor, refusesAPrepareBelowItsPromiseAndNamesThePromise) {
  Acceptor acceptor(1);
  (void)acceptor.handle(request(MessageType::kPrepare, {2, 3}));
  Message answer = acceptor.handle(request(MessageType::kPrepare, {2, 2}));  // same round, lower node
  EXPECT_EQ(answer.type, MessageType::kReject);
  EXPECT_EQ(answer.promised, (Ballot{2, 3}));
  EXPECT_EQ(acceptor.state().promised, (Ballot{2, 3})) << "a refusal changes nothing";
}

TEST(PaxosAcceptor, refusesAnAcceptBelowItsPromise) {
  Acceptor acceptor(1);
  (void)acceptor.handle(request(MessageType::kPrepare, {3, 2}));
  Message answer = acceptor.handle(request(MessageType::kAccept, {2, 3}, "old"));
  EXPECT_EQ(answer.type, MessageType::kReject);
  EXPECT_TRUE(acceptor.state().accepted.is_null());
  EXPECT_FALSE(acceptor.state().value.has_value());
}

TEST(PaxosAcceptor, acceptsAtOrAboveItsPromiseAndReportsItInLaterPromises) {
  Acceptor acceptor(1);
  (void)acceptor.handle(request(MessageType::kPrepare, {1, 2}));
  EXPECT_EQ(acceptor.handle(request(MessageType::kAccept, {1, 2}, "a")).type, MessageType::kAccepted);
  Message promise = acceptor.handle(request(MessageType::kPrepare, {2, 3}));
  EXPECT_EQ(promise.type, MessageType::kPromise);
  EXPECT_EQ(promise.accepted_ballot, (Ballot{1, 2}));
  EXPECT_EQ(promise.value, "a");
  // An accept above the promise (its prepare went elsewhere) is taken, and raises the promise.
  EXPECT_EQ(acceptor.handle(request(MessageType::kAccept, {4, 2}, "b")).type, MessageType::kAccepted);
  EXPECT_EQ(acceptor.state().promised, (Ballot{4, 2}));
  EXPECT_EQ(acceptor.state().value, "b");
}

TEST(PaxosAcceptor, aRepeatedRequestGetsTheSameAnswer) {
  Acceptor acceptor(1);
  EXPECT_EQ(acceptor.handle(request(MessageType::kPrepare, {1, 2})).type, MessageType::kPromise);
  EXPECT_EQ(acceptor.handle(request(MessageType::kPrepare, {1, 2})).type, MessageType::kPromise);
}

#if SYNOD_BUG_INJECTION
TEST(PaxosAcceptor, theInjectedBugAcceptsBelowThePromise) {
  Acceptor acceptor(1);
  acceptor.bugs.accept_below_promise = true;
  (void)acceptor.handle(request(MessageType::kPrepare, {3, 2}));
  EXPECT_EQ(acceptor.handle(request(MessageType::kAccept, {2, 3}, "old")).type, MessageType::kAccepted);
}
#endif

Message promise(NodeId from, Ballot ballot, Ballot accepted = {}, std::optional<std::string> value = {}) {
  Message m;
  m.type = MessageType::kPromise;
  m.from = from;
  m.to = ballot.node;
  m.ballot = ballot;
  m.accepted_ballot = accepted;
  m.value = std::move(value);
  return m;
}

Message answer(MessageType type, NodeId from, Ballot ballot) {
  Message m;
  m.type = type;
  m.from = from;
  m.to = ballot.node;
  m.ballot = ballot;
  return m;
}

TEST(PaxosProposer, preparesEveryAcceptorWithItsBallot) {
  Proposer proposer(1, {1, 2, 3});
  std::vector<Message> prepares = proposer.start({1, 1}, "mine");
  ASSERT_EQ(prepares.size(), 3U);
  for (const Message& m : prepares) {
    EXPECT_EQ(m.type, MessageType::kPrepare);
    EXPECT_EQ(m.ballot, (Ballot{1, 1}));
  }
  EXPECT_EQ(proposer.phase(), Proposer::Phase::kPreparing);
}

TEST(PaxosProposer, proposesItsOwnValueWhenNoPromiseReportsOne) {
  Proposer proposer(1, {1, 2, 3});
  (void)proposer.start({1, 1}, "mine");
  EXPECT_TRUE(proposer.handle(promise(1, {1, 1})).empty());
  std::vector<Message> accepts = proposer.handle(promise(2, {1, 1}));
  ASSERT_EQ(accepts.size(), 3U);
  EXPECT_EQ(accepts[0].type, MessageType::kAccept);
  EXPECT_EQ(accepts[0].value, "mine");
}

TEST(PaxosProposer, adoptsTheValueOfTheHighestAcceptedBallot) {
  Proposer proposer(1, {1, 2, 3, 4, 5});
  (void)proposer.start({9, 1}, "mine");
  (void)proposer.handle(promise(2, {9, 1}, {3, 4}, "older"));
  (void)proposer.handle(promise(3, {9, 1}, {5, 2}, "newer"));
  std::vector<Message> accepts = proposer.handle(promise(4, {9, 1}));
  ASSERT_FALSE(accepts.empty());
  EXPECT_EQ(accepts[0].value, "newer");
  EXPECT_EQ(proposer.proposed(), "newer");
}

TEST(PaxosProposer, aPromiseCountsOnceAndStaleAnswersNotAtAll) {
  Proposer proposer(1, {1, 2, 3});
  (void)proposer.start({1, 1}, "old");
  (void)proposer.start({2, 1}, "mine");
  EXPECT_TRUE(proposer.handle(promise(2, {1, 1})).empty()) << "for the abandoned ballot";
  EXPECT_TRUE(proposer.handle(promise(2, {2, 1})).empty());
  EXPECT_TRUE(proposer.handle(promise(2, {2, 1})).empty()) << "a duplicate is not a second acceptor";
  EXPECT_EQ(proposer.phase(), Proposer::Phase::kPreparing);
  EXPECT_FALSE(proposer.handle(promise(3, {2, 1})).empty());
}

TEST(PaxosProposer, aMajorityAcceptingChoosesTheValue) {
  Proposer proposer(1, {1, 2, 3});
  (void)proposer.start({1, 1}, "v");
  (void)proposer.handle(promise(1, {1, 1}));
  (void)proposer.handle(promise(2, {1, 1}));
  (void)proposer.handle(answer(MessageType::kAccepted, 3, {1, 1}));
  EXPECT_EQ(proposer.phase(), Proposer::Phase::kAccepting);
  (void)proposer.handle(answer(MessageType::kAccepted, 3, {1, 1}));
  EXPECT_EQ(proposer.phase(), Proposer::Phase::kAccepting) << "one acceptor twice is not a majority";
  (void)proposer.handle(answer(MessageType::kAccepted, 1, {1, 1}));
  EXPECT_EQ(proposer.phase(), Proposer::Phase::kChosen);
  EXPECT_EQ(proposer.chosen(), "v");
}

TEST(PaxosProposer, aRefusalAbandonsTheBallotAndRemembersTheHigherOne) {
  Proposer proposer(1, {1, 2, 3});
  (void)proposer.start({1, 1}, "v");
  Message refused = answer(MessageType::kReject, 2, {1, 1});
  refused.promised = {7, 3};
  EXPECT_TRUE(proposer.handle(refused).empty());
  EXPECT_EQ(proposer.phase(), Proposer::Phase::kIdle);
  EXPECT_EQ(proposer.highest_refusal(), (Ballot{7, 3}));
}

#if SYNOD_BUG_INJECTION
TEST(PaxosProposer, theInjectedBugIgnoresAcceptedValues) {
  Proposer proposer(1, {1, 2, 3});
  proposer.bugs.ignore_accepted_values = true;
  (void)proposer.start({9, 1}, "mine");
  (void)proposer.handle(promise(2, {9, 1}, {5, 2}, "chosen before"));
  std::vector<Message> accepts = proposer.handle(promise(3, {9, 1}));
  ASSERT_FALSE(accepts.empty());
  EXPECT_EQ(accepts[0].value, "mine");
}
#endif

}  // namespace
}  // namespace synod::paxos
