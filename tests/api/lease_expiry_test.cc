// Leases expiring for real: a one-member Synod server in process (real node loop, disk, lessor), with
// short timeouts so its minimum lease TTL is one second. A lease nobody keeps alive expires about a TTL
// after its grant and its key disappears; a lease kept alive through the KeepAlive stream stays, with
// its key, and TimeToLive counts its time down.
#include <filesystem>
#include <thread>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "api/proto/lease.grpc.pb.h"
#include "api/proto/rpc.grpc.pb.h"
#include "api/single_member_server.h"

namespace synod::server {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

class LeaseExpiryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    member_ = std::make_unique<test::SingleMemberServer>(
        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    ASSERT_TRUE(member_->started().is_ok()) << member_->started().to_string();
    const std::shared_ptr<grpc::Channel>& channel = member_->channel();
    kv_ = etcdserverpb::KV::NewStub(channel);
    lease_ = etcdserverpb::Lease::NewStub(channel);
    // Writable once the member elected itself.
    Clock::time_point deadline = Clock::now() + 20s;
    while (!put("ready", 0).ok()) {
      ASSERT_LT(Clock::now(), deadline) << "no leader";
      std::this_thread::sleep_for(20ms);
    }
  }
  void TearDown() override { member_.reset(); }

  grpc::Status put(const std::string& key, int64_t lease) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 5s);
    etcdserverpb::PutRequest request;
    request.set_key(key);
    request.set_value("v");
    request.set_lease(lease);
    etcdserverpb::PutResponse response;
    return kv_->Put(&context, request, &response);
  }
  bool exists(const std::string& key) {
    grpc::ClientContext context;
    etcdserverpb::RangeRequest request;
    request.set_key(key);
    etcdserverpb::RangeResponse response;
    EXPECT_TRUE(kv_->Range(&context, request, &response).ok());
    return response.count() == 1;
  }
  etcdserverpb::LeaseGrantResponse grant(int64_t ttl) {
    grpc::ClientContext context;
    etcdserverpb::LeaseGrantRequest request;
    request.set_ttl(ttl);
    etcdserverpb::LeaseGrantResponse response;
    EXPECT_TRUE(lease_->LeaseGrant(&context, request, &response).ok());
    return response;
  }
  etcdserverpb::LeaseTimeToLiveResponse time_to_live(int64_t id) {
    grpc::ClientContext context;
    etcdserverpb::LeaseTimeToLiveRequest request;
    request.set_id(id);
    etcdserverpb::LeaseTimeToLiveResponse response;
    EXPECT_TRUE(lease_->LeaseTimeToLive(&context, request, &response).ok());
    return response;
  }

  std::unique_ptr<test::SingleMemberServer> member_;
  std::unique_ptr<etcdserverpb::KV::Stub> kv_;
  std::unique_ptr<etcdserverpb::Lease::Stub> lease_;
};

TEST_F(LeaseExpiryTest, aLeaseNotKeptAliveExpiresAndTakesItsKeyWhileAKeptOneStays) {
  Clock::time_point granted_at = Clock::now();
  etcdserverpb::LeaseGrantResponse lapsing = grant(1);
  ASSERT_EQ(lapsing.ttl(), 1);
  etcdserverpb::LeaseGrantResponse kept = grant(1);
  ASSERT_TRUE(put("lapsing", lapsing.id()).ok());
  ASSERT_TRUE(put("kept", kept.id()).ok());
  EXPECT_EQ(time_to_live(kept.id()).grantedttl(), 1);

  grpc::ClientContext context;
  auto stream = lease_->LeaseKeepAlive(&context);
  Clock::time_point deadline = Clock::now() + 15s;
  std::optional<Clock::duration> gone_after;
  // Keep `kept` alive every 200 ms until `lapsing` is gone, then for two seconds more.
  while (Clock::now() < deadline) {
    etcdserverpb::LeaseKeepAliveRequest request;
    request.set_id(kept.id());
    ASSERT_TRUE(stream->Write(request));
    etcdserverpb::LeaseKeepAliveResponse response;
    ASSERT_TRUE(stream->Read(&response));
    ASSERT_EQ(response.ttl(), 1) << "the kept lease expired";
    if (!gone_after && !exists("lapsing")) {
      gone_after = Clock::now() - granted_at;
      deadline = Clock::now() + 2s;
    }
    std::this_thread::sleep_for(200ms);
  }
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());

  ASSERT_TRUE(gone_after) << "the lease that was not kept alive never expired";
  EXPECT_GE(*gone_after, 1s) << "expired before its TTL";
  EXPECT_TRUE(exists("kept"));
  EXPECT_EQ(time_to_live(lapsing.id()).ttl(), -1);
  etcdserverpb::LeaseTimeToLiveResponse left = time_to_live(kept.id());
  EXPECT_GE(left.ttl(), 0);
  EXPECT_LE(left.ttl(), 1);
}

}  // namespace
}  // namespace synod::server
