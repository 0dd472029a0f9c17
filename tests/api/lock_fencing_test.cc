// Fencing tokens (examples/fencing): a real one-member Synod server in process, whose lessor expires
// leases. Client A takes the lock with a 1-second lease and then pauses (no keep-alives); its lease
// expires, the server deletes its key and hands the lock to client B, whose token is larger. When A
// comes back, its write with the old token is refused by the protected resource.
#include <filesystem>
#include <future>
#include <thread>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "api/proto/lease.grpc.pb.h"
#include "api/proto/rpc.grpc.pb.h"
#include "api/proto/v3lock.grpc.pb.h"
#include "api/single_member_server.h"
#include "fencing/fenced_storage.h"

namespace synod::server {
namespace {

using namespace std::chrono_literals;
using examples::FencedStorage;

class LockFencingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    member_ = std::make_unique<test::SingleMemberServer>(
        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    ASSERT_TRUE(member_->started().is_ok()) << member_->started().to_string();
    const std::shared_ptr<grpc::Channel>& channel = member_->channel();
    kv_ = etcdserverpb::KV::NewStub(channel);
    lease_ = etcdserverpb::Lease::NewStub(channel);
    lock_ = v3lockpb::Lock::NewStub(channel);
    // Writable once the member elected itself.
    auto deadline = std::chrono::steady_clock::now() + 20s;
    while (grant(1) == 0) {
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "no leader";
      std::this_thread::sleep_for(20ms);
    }
  }
  void TearDown() override { member_.reset(); }

  int64_t grant(int64_t ttl) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 5s);
    etcdserverpb::LeaseGrantRequest request;
    request.set_ttl(ttl);
    etcdserverpb::LeaseGrantResponse response;
    return lease_->LeaseGrant(&context, request, &response).ok() ? response.id() : 0;
  }
  grpc::Status lock(int64_t lease, v3lockpb::LockResponse& response) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 20s);
    v3lockpb::LockRequest request;
    request.set_name("resource-lock");
    request.set_lease(lease);
    return lock_->Lock(&context, request, &response);
  }
  bool exists(const std::string& key) {
    grpc::ClientContext context;
    etcdserverpb::RangeRequest request;
    request.set_key(key);
    etcdserverpb::RangeResponse response;
    EXPECT_TRUE(kv_->Range(&context, request, &response).ok());
    return response.count() == 1;
  }

  std::unique_ptr<test::SingleMemberServer> member_;
  std::unique_ptr<etcdserverpb::KV::Stub> kv_;
  std::unique_ptr<etcdserverpb::Lease::Stub> lease_;
  std::unique_ptr<v3lockpb::Lock::Stub> lock_;
};

TEST_F(LockFencingTest, aPausedHolderWhoseLeaseExpiredIsFencedOff) {
  FencedStorage storage;

  // A takes the lock with a one-second lease and writes.
  int64_t a_lease = grant(1);
  ASSERT_NE(a_lease, 0);
  v3lockpb::LockResponse a;
  ASSERT_TRUE(lock(a_lease, a).ok());
  int64_t a_token = a.header().revision();
  ASSERT_EQ(storage.write(a_token, "balance", "100 (A)"), FencedStorage::Verdict::kAccepted);

  // B asks for the lock with a long lease; it waits while A's key exists.
  int64_t b_lease = grant(30);
  ASSERT_NE(b_lease, 0);
  auto b_call = std::async(std::launch::async, [&] {
    v3lockpb::LockResponse response;
    grpc::Status status = lock(b_lease, response);
    return std::make_pair(status, response);
  });
  EXPECT_EQ(b_call.wait_for(300ms), std::future_status::timeout) << "B got a lock A holds";

  // A is paused: it sends no keep-alive, so its lease expires and the lessor revokes it.
  auto [status, b] = b_call.get();
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_FALSE(exists(a.key())) << "A's key outlived its lease";
  int64_t b_token = b.header().revision();
  EXPECT_GT(b_token, a_token);
  ASSERT_EQ(storage.write(b_token, "balance", "50 (B)"), FencedStorage::Verdict::kAccepted);

  // A resumes, still believing it holds the lock: its write carries the old token and is refused.
  EXPECT_EQ(storage.write(a_token, "balance", "0 (A, stale)"), FencedStorage::Verdict::kStaleToken);
  EXPECT_EQ(storage.read("balance"), "50 (B)");
  EXPECT_EQ(storage.highest_token(), b_token);
}

TEST_F(LockFencingTest, stoppingTheServerEndsAWaitingLockPromptly) {
  int64_t holder = grant(30);
  v3lockpb::LockResponse held;
  ASSERT_TRUE(lock(holder, held).ok());
  int64_t waiter_lease = grant(30);
  auto waiter = std::async(std::launch::async, [&] {
    v3lockpb::LockResponse response;
    return lock(waiter_lease, response);
  });
  EXPECT_EQ(waiter.wait_for(200ms), std::future_status::timeout);
  auto started = std::chrono::steady_clock::now();
  member_->server().stop();
  grpc::Status status = waiter.get();
  EXPECT_FALSE(status.ok());
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2s) << "the stop waited out gRPC's deadline";
}

}  // namespace
}  // namespace synod::server
