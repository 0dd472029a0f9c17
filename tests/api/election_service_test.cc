// The Election service (api/election_service.h) through the generated stubs, over the fake backend:
// campaign, leader, proclaim (only while leading), resign handing leadership to the next campaigner,
// observe streaming each new leader value, a cancelled campaign resigning, and etcd's errors.
#include <future>

#include "api/lock_test_util.h"

namespace synod::api::test {
namespace {

using namespace std::chrono_literals;

class ElectionServiceTest : public RecipeFixture {
 protected:
  grpc::Status campaign(const std::string& name, int64_t lease, const std::string& value,
                        v3electionpb::CampaignResponse& response) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 20s);
    v3electionpb::CampaignRequest request;
    request.set_name(name);
    request.set_lease(lease);
    request.set_value(value);
    return election_->Campaign(&context, request, &response);
  }
  grpc::Status leader(const std::string& name, v3electionpb::LeaderResponse& response) {
    grpc::ClientContext context;
    v3electionpb::LeaderRequest request;
    request.set_name(name);
    return election_->Leader(&context, request, &response);
  }
  grpc::Status proclaim(const v3electionpb::LeaderKey& key, const std::string& value) {
    grpc::ClientContext context;
    v3electionpb::ProclaimRequest request;
    *request.mutable_leader() = key;
    request.set_value(value);
    v3electionpb::ProclaimResponse response;
    return election_->Proclaim(&context, request, &response);
  }
  grpc::Status resign(const v3electionpb::LeaderKey& key) {
    grpc::ClientContext context;
    v3electionpb::ResignRequest request;
    *request.mutable_leader() = key;
    v3electionpb::ResignResponse response;
    return election_->Resign(&context, request, &response);
  }
  std::string leader_value(const std::string& name) {
    v3electionpb::LeaderResponse response;
    grpc::Status status = leader(name, response);
    return status.ok() ? response.kv().value() : status.error_message();
  }
};

TEST_F(ElectionServiceTest, campaignProclaimResignHandsLeadershipOn) {
  int64_t a = grant();
  int64_t b = grant();
  v3electionpb::CampaignResponse won;
  ASSERT_TRUE(campaign("elect", a, "alice", won).ok());
  const v3electionpb::LeaderKey& alice = won.leader();
  EXPECT_EQ(alice.name(), "elect");
  EXPECT_EQ(alice.key(), owner_key("elect", a));
  EXPECT_EQ(alice.lease(), a);
  EXPECT_EQ(alice.rev(), won.header().revision());
  EXPECT_EQ(leader_value("elect"), "alice");

  auto bob = std::async(std::launch::async, [&] {
    v3electionpb::CampaignResponse response;
    grpc::Status status = campaign("elect", b, "bob", response);
    return std::make_pair(status, response);
  });
  ASSERT_TRUE(wait_for_keys("elect/", 2));
  EXPECT_EQ(bob.wait_for(200ms), std::future_status::timeout) << "two leaders";
  EXPECT_EQ(leader_value("elect"), "alice");

  ASSERT_TRUE(proclaim(alice, "alice-2").ok());
  EXPECT_EQ(leader_value("elect"), "alice-2");
  v3electionpb::LeaderKey stale = alice;
  stale.set_rev(alice.rev() + 100);
  grpc::Status refused = proclaim(stale, "nope");
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::UNKNOWN);
  EXPECT_EQ(refused.error_message(), "election: not leader");

  ASSERT_TRUE(resign(alice).ok());
  auto [status, response] = bob.get();
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.leader().key(), owner_key("elect", b));
  EXPECT_GT(response.leader().rev(), alice.rev());
  EXPECT_EQ(leader_value("elect"), "bob");
  // The old leader can no longer proclaim; resigning again is harmless.
  EXPECT_EQ(proclaim(alice, "late").error_message(), "election: not leader");
  EXPECT_TRUE(resign(alice).ok());
  EXPECT_EQ(leader_value("elect"), "bob");
}

TEST_F(ElectionServiceTest, errorsReadLikeEtcds) {
  EXPECT_EQ(leader_value("nobody"), "election: no leader");
  grpc::ClientContext context;
  v3electionpb::ResignRequest request;
  v3electionpb::ResignResponse response;
  grpc::Status status = election_->Resign(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNKNOWN);
  EXPECT_EQ(status.error_message(), "\"leader\" field must be provided");
}

TEST_F(ElectionServiceTest, campaigningAgainWithTheSameLeaseProclaimsTheNewValue) {
  int64_t a = grant();
  v3electionpb::CampaignResponse first;
  ASSERT_TRUE(campaign("again", a, "one", first).ok());
  v3electionpb::CampaignResponse second;
  ASSERT_TRUE(campaign("again", a, "two", second).ok());
  EXPECT_EQ(second.leader().rev(), first.leader().rev());
  EXPECT_EQ(leader_value("again"), "two");
}

TEST_F(ElectionServiceTest, aCancelledCampaignResigns) {
  int64_t a = grant();
  int64_t b = grant();
  v3electionpb::CampaignResponse won;
  ASSERT_TRUE(campaign("cancel", a, "alice", won).ok());
  grpc::ClientContext context;
  v3electionpb::CampaignRequest request;
  request.set_name("cancel");
  request.set_lease(b);
  request.set_value("bob");
  v3electionpb::CampaignResponse response;
  auto call =
      std::async(std::launch::async, [&] { return election_->Campaign(&context, request, &response); });
  ASSERT_TRUE(wait_for_keys("cancel/", 2));
  context.TryCancel();
  EXPECT_EQ(call.get().error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_TRUE(wait_for_keys("cancel/", 1));
  EXPECT_TRUE(wait_for_watchers(0));
}

TEST_F(ElectionServiceTest, observeStreamsEveryLeaderAndProclamation) {
  grpc::ClientContext context;
  v3electionpb::LeaderRequest request;
  request.set_name("watched");
  std::unique_ptr<grpc::ClientReader<v3electionpb::LeaderResponse>> stream =
      election_->Observe(&context, request);
  ASSERT_TRUE(wait_for_watchers(1));  // nobody leads yet: it watches the prefix

  int64_t a = grant();
  int64_t b = grant();
  v3electionpb::CampaignResponse won;
  ASSERT_TRUE(campaign("watched", a, "alice", won).ok());
  v3electionpb::LeaderResponse seen;
  ASSERT_TRUE(stream->Read(&seen));
  EXPECT_EQ(seen.kv().value(), "alice");
  EXPECT_EQ(seen.kv().key(), owner_key("watched", a));

  ASSERT_TRUE(proclaim(won.leader(), "alice-2").ok());
  ASSERT_TRUE(stream->Read(&seen));
  EXPECT_EQ(seen.kv().value(), "alice-2");
  EXPECT_EQ(seen.header().revision(), seen.kv().mod_revision());

  auto bob = std::async(std::launch::async, [&] {
    v3electionpb::CampaignResponse response;
    return campaign("watched", b, "bob", response);
  });
  ASSERT_TRUE(wait_for_keys("watched/", 2));
  ASSERT_TRUE(revoke(a).ok());  // the leader's lease ends: bob leads
  ASSERT_TRUE(bob.get().ok());
  ASSERT_TRUE(stream->Read(&seen));
  EXPECT_EQ(seen.kv().value(), "bob");
  EXPECT_EQ(seen.kv().key(), owner_key("watched", b));

  context.TryCancel();
  while (stream->Read(&seen)) {
  }
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_TRUE(wait_for_watchers(0));
}

TEST_F(ElectionServiceTest, observeStartsWithTheCurrentLeader) {
  int64_t a = grant();
  v3electionpb::CampaignResponse won;
  ASSERT_TRUE(campaign("current", a, "alice", won).ok());
  grpc::ClientContext context;
  v3electionpb::LeaderRequest request;
  request.set_name("current");
  auto stream = election_->Observe(&context, request);
  v3electionpb::LeaderResponse seen;
  ASSERT_TRUE(stream->Read(&seen));
  EXPECT_EQ(seen.kv().value(), "alice");
  ASSERT_TRUE(resign(won.leader()).ok());
  ASSERT_TRUE(campaign("current", a, "alice-again", won).ok());
  ASSERT_TRUE(stream->Read(&seen));
  EXPECT_EQ(seen.kv().value(), "alice-again");
  context.TryCancel();
  while (stream->Read(&seen)) {
  }
  (void)stream->Finish();
}

}  // namespace
}  // namespace synod::api::test
