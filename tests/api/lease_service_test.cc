// The Lease service through the generated stubs, against a real gRPC server over the fake backend
// (which applies each proposal at once and has no lessor, so TimeToLive reports the granted TTL):
// grants with etcd's errors and minimum TTL, revokes that delete keys, TimeToLive with keys, Leases,
// and the KeepAlive stream.
#include <gtest/gtest.h>

#include "api/proto/lease.grpc.pb.h"
#include "api/server_fixture.h"
#include "kv/mvcc_errors.h"

namespace synod::api {
namespace {

using etcdserverpb::LeaseGrantRequest;
using etcdserverpb::LeaseGrantResponse;
using etcdserverpb::LeaseKeepAliveRequest;
using etcdserverpb::LeaseKeepAliveResponse;

class LeaseServiceTest : public test::ServerFixture {
 protected:
  void SetUp() override {
    ServiceOptions options;
    options.min_lease_ttl = 3;
    start(options);
    lease_ = etcdserverpb::Lease::NewStub(channel_);
  }

  grpc::Status grant(int64_t ttl, int64_t id, LeaseGrantResponse& response) {
    grpc::ClientContext context;
    LeaseGrantRequest request;
    request.set_ttl(ttl);
    request.set_id(id);
    return lease_->LeaseGrant(&context, request, &response);
  }
  int64_t grant(int64_t ttl, int64_t id = 0) {
    LeaseGrantResponse response;
    grpc::Status status = grant(ttl, id, response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.id();
  }
  grpc::Status put(const std::string& key, int64_t lease) {
    grpc::ClientContext context;
    etcdserverpb::PutRequest request;
    request.set_key(key);
    request.set_value("v");
    request.set_lease(lease);
    etcdserverpb::PutResponse response;
    return kv_->Put(&context, request, &response);
  }
  int64_t count(const std::string& key) {
    grpc::ClientContext context;
    etcdserverpb::RangeRequest request;
    request.set_key(key);
    etcdserverpb::RangeResponse response;
    EXPECT_TRUE(kv_->Range(&context, request, &response).ok());
    return response.count();
  }
  grpc::Status revoke(int64_t id, etcdserverpb::LeaseRevokeResponse& response) {
    grpc::ClientContext context;
    etcdserverpb::LeaseRevokeRequest request;
    request.set_id(id);
    return lease_->LeaseRevoke(&context, request, &response);
  }
  etcdserverpb::LeaseTimeToLiveResponse time_to_live(int64_t id, bool keys) {
    grpc::ClientContext context;
    etcdserverpb::LeaseTimeToLiveRequest request;
    request.set_id(id);
    request.set_keys(keys);
    etcdserverpb::LeaseTimeToLiveResponse response;
    grpc::Status status = lease_->LeaseTimeToLive(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  std::unique_ptr<etcdserverpb::Lease::Stub> lease_;
};

TEST_F(LeaseServiceTest, grantChoosesAnIdOrTakesTheOneAskedFor) {
  LeaseGrantResponse response;
  ASSERT_TRUE(grant(10, 0, response).ok());
  EXPECT_GT(response.id(), 0);
  EXPECT_EQ(response.ttl(), 10);
  EXPECT_EQ(response.header().cluster_id(), test::kClusterId);
  EXPECT_EQ(response.header().member_id(), test::kMemberId);
  EXPECT_EQ(response.header().revision(), 1);
  ASSERT_TRUE(grant(10, 0x1234, response).ok());
  EXPECT_EQ(response.id(), 0x1234);
}

TEST_F(LeaseServiceTest, grantErrorsAreEtcds) {
  grant(10, 5);
  LeaseGrantResponse response;
  grpc::Status exists = grant(10, 5, response);
  EXPECT_EQ(exists.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(exists.error_message(), "etcdserver: lease already exists");
  grpc::Status too_large = grant(9'000'000'001, 6, response);
  EXPECT_EQ(too_large.error_code(), grpc::StatusCode::OUT_OF_RANGE);
  EXPECT_EQ(too_large.error_message(), "etcdserver: too large lease TTL");
}

TEST_F(LeaseServiceTest, shortTtlsAreRaisedToTheServersMinimum) {
  LeaseGrantResponse response;
  ASSERT_TRUE(grant(1, 7, response).ok());
  EXPECT_EQ(response.ttl(), 3);
  EXPECT_EQ(time_to_live(7, false).grantedttl(), 3);
}

TEST_F(LeaseServiceTest, putsNeedAnExistingLeaseAndRevokeDeletesTheirKeys) {
  grpc::Status unknown = put("k", 99);
  EXPECT_EQ(unknown.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(unknown.error_message(), kv::kLeaseNotFoundMessage);

  int64_t id = grant(30);
  ASSERT_TRUE(put("a", id).ok());  // rev 2
  ASSERT_TRUE(put("b", id).ok());  // rev 3
  ASSERT_TRUE(put("c", 0).ok());   // rev 4
  etcdserverpb::LeaseRevokeResponse revoked;
  ASSERT_TRUE(revoke(id, revoked).ok());
  EXPECT_EQ(revoked.header().revision(), 5);  // both keys in one revision
  EXPECT_EQ(count("a"), 0);
  EXPECT_EQ(count("b"), 0);
  EXPECT_EQ(count("c"), 1);

  grpc::Status again = revoke(id, revoked);
  EXPECT_EQ(again.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(again.error_message(), kv::kLeaseNotFoundMessage);
}

TEST_F(LeaseServiceTest, timeToLiveReportsTtlsAndKeysAndMinusOneForUnknownLeases) {
  int64_t id = grant(20);
  ASSERT_TRUE(put("x", id).ok());
  ASSERT_TRUE(put("y", id).ok());
  auto with_keys = time_to_live(id, true);
  EXPECT_EQ(with_keys.id(), id);
  EXPECT_EQ(with_keys.grantedttl(), 20);
  EXPECT_EQ(with_keys.ttl(), 20);  // the fake backend times no leases
  ASSERT_EQ(with_keys.keys_size(), 2);
  EXPECT_EQ(with_keys.keys(0), "x");
  EXPECT_EQ(with_keys.keys(1), "y");
  EXPECT_EQ(time_to_live(id, false).keys_size(), 0);
  auto unknown = time_to_live(12345, true);
  EXPECT_EQ(unknown.id(), 12345);
  EXPECT_EQ(unknown.ttl(), -1);
  EXPECT_EQ(unknown.header().member_id(), test::kMemberId);
}

TEST_F(LeaseServiceTest, leasesListsEveryLease) {
  grant(10, 30);
  grant(10, 10);
  grant(10, 20);
  grpc::ClientContext context;
  etcdserverpb::LeaseLeasesResponse response;
  ASSERT_TRUE(lease_->LeaseLeases(&context, {}, &response).ok());
  ASSERT_EQ(response.leases_size(), 3);
  EXPECT_EQ(response.leases(0).id(), 10);
  EXPECT_EQ(response.leases(1).id(), 20);
  EXPECT_EQ(response.leases(2).id(), 30);
}

TEST_F(LeaseServiceTest, keepAliveAnswersEachRequestWithTheTtlOrZeroForUnknownLeases) {
  int64_t id = grant(15);
  int before = backend_.proposals();
  grpc::ClientContext context;
  auto stream = lease_->LeaseKeepAlive(&context);
  for (int64_t ask : {id, int64_t{777}, id}) {
    LeaseKeepAliveRequest request;
    request.set_id(ask);
    ASSERT_TRUE(stream->Write(request));
    LeaseKeepAliveResponse response;
    ASSERT_TRUE(stream->Read(&response));
    EXPECT_EQ(response.id(), ask);
    EXPECT_EQ(response.ttl(), ask == id ? 15 : 0);
    EXPECT_EQ(response.header().member_id(), test::kMemberId);
  }
  stream->WritesDone();
  LeaseKeepAliveResponse extra;
  EXPECT_FALSE(stream->Read(&extra));
  EXPECT_TRUE(stream->Finish().ok());
  EXPECT_EQ(backend_.proposals() - before, 3);  // each keepalive went through the log
}

TEST_F(LeaseServiceTest, keepAliveEndsTheStreamWhenTheRenewalFails) {
  int64_t id = grant(15);
  grpc::ClientContext context;
  auto stream = lease_->LeaseKeepAlive(&context);
  backend_.fail_next(Status(ErrorCode::kNoLeader, "no leader"));
  LeaseKeepAliveRequest request;
  request.set_id(id);
  ASSERT_TRUE(stream->Write(request));
  LeaseKeepAliveResponse response;
  EXPECT_FALSE(stream->Read(&response));
  grpc::Status status = stream->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(status.error_message(), "etcdserver: no leader");
}

TEST_F(LeaseServiceTest, aClientThatGoesAwayMidStreamIsCleanedUp) {
  int64_t id = grant(15);
  for (int i = 0; i < 5; ++i) {
    grpc::ClientContext context;
    auto stream = lease_->LeaseKeepAlive(&context);
    LeaseKeepAliveRequest request;
    request.set_id(id);
    ASSERT_TRUE(stream->Write(request));
    context.TryCancel();  // ASan reports the stream if it is never freed
    stream->Finish();
  }
}

}  // namespace
}  // namespace synod::api
