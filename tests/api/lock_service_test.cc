// The Lock service (api/lock_service.h) through the generated stubs, over the fake backend: the owner
// key and its lease, one hold per lease, mutual exclusion and FIFO order among many contenders, release
// by Unlock and by lease revocation, and a cancelled waiter taking its key with it.
#include <atomic>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "api/lock_test_util.h"

namespace synod::api::test {
namespace {

using namespace std::chrono_literals;

class LockServiceTest : public RecipeFixture {};

TEST_F(LockServiceTest, anUncontendedLockReturnsTheOwnerKeyAndUnlockDeletesIt) {
  int64_t lease = grant();
  v3lockpb::LockResponse held;
  ASSERT_TRUE(lock("mylock", lease, held).ok());
  EXPECT_EQ(held.key(), owner_key("mylock", lease));
  EXPECT_EQ(held.header().cluster_id(), kClusterId);
  etcdserverpb::RangeResponse now = keys("mylock/");
  ASSERT_EQ(now.count(), 1);
  EXPECT_EQ(now.kvs(0).lease(), lease);
  EXPECT_EQ(now.kvs(0).value(), "");
  // Uncontended: the hold began with the key's creation.
  EXPECT_EQ(held.header().revision(), now.kvs(0).create_revision());

  // The same lease locking again is the same hold, at once.
  v3lockpb::LockResponse again;
  ASSERT_TRUE(lock("mylock", lease, again, 2s).ok());
  EXPECT_EQ(again.key(), held.key());

  ASSERT_TRUE(unlock(held.key()).ok());
  EXPECT_EQ(keys("mylock/").count(), 0);
}

TEST_F(LockServiceTest, aLeaseThatDoesNotExistIsRefusedLikeEtcd) {
  v3lockpb::LockResponse response;
  grpc::Status status = lock("mylock", 12345, response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(status.error_message(), "etcdserver: requested lease not found");
}

TEST_F(LockServiceTest, lockWithoutALeaseGetsOneGranted) {
  v3lockpb::LockResponse held;
  ASSERT_TRUE(lock("nolease", 0, held).ok());
  etcdserverpb::RangeResponse now = keys("nolease/");
  ASSERT_EQ(now.count(), 1);
  EXPECT_NE(now.kvs(0).lease(), 0);
  EXPECT_EQ(held.key(), owner_key("nolease", now.kvs(0).lease()));
}

TEST_F(LockServiceTest, manyContendersNeverHoldTogetherAndGetTheLockInCreateRevisionOrder) {
  constexpr int kContenders = 8;
  constexpr int kRounds = 3;
  std::atomic<int> holders{0};
  std::atomic<int> overlaps{0};
  std::mutex mutex;
  std::vector<int64_t> tokens;        // header revisions, in the order the holds began
  std::vector<int64_t> create_order;  // the holders' key create revisions, same order
  std::vector<std::thread> threads;
  for (int i = 0; i < kContenders; ++i) {
    threads.emplace_back([&] {
      int64_t lease = grant();
      for (int round = 0; round < kRounds; ++round) {
        v3lockpb::LockResponse held;
        grpc::Status status = lock("contended", lease, held, 60s);
        ASSERT_TRUE(status.ok()) << status.error_message();
        if (holders.fetch_add(1) != 0) ++overlaps;
        {
          etcdserverpb::RangeResponse mine;
          grpc::ClientContext context;
          etcdserverpb::RangeRequest request;
          request.set_key(held.key());
          ASSERT_TRUE(kv_->Range(&context, request, &mine).ok());
          ASSERT_EQ(mine.count(), 1);
          std::lock_guard lock(mutex);
          tokens.push_back(held.header().revision());
          create_order.push_back(mine.kvs(0).create_revision());
        }
        std::this_thread::sleep_for(2ms);
        holders.fetch_sub(1);
        ASSERT_TRUE(unlock(held.key()).ok());
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(overlaps.load(), 0);
  ASSERT_EQ(tokens.size(), size_t{kContenders * kRounds});
  for (size_t i = 1; i < tokens.size(); ++i) {
    EXPECT_LT(tokens[i - 1], tokens[i]) << "fencing tokens must grow with every new holder";
    EXPECT_LT(create_order[i - 1], create_order[i]) << "holds must follow the queue's order";
  }
  EXPECT_EQ(keys("contended/").count(), 0);
  EXPECT_TRUE(wait_for_watchers(0));
}

TEST_F(LockServiceTest, revokingTheHoldersLeaseReleasesTheWaiter) {
  int64_t first = grant();
  int64_t second = grant();
  v3lockpb::LockResponse held;
  ASSERT_TRUE(lock("revoked", first, held).ok());
  auto waiter = std::async(std::launch::async, [&] {
    v3lockpb::LockResponse response;
    grpc::Status status = lock("revoked", second, response);
    return std::make_pair(status, response);
  });
  ASSERT_TRUE(wait_for_keys("revoked/", 2));
  ASSERT_TRUE(wait_for_watchers(1));  // the waiter watches its predecessor, without polling
  EXPECT_EQ(waiter.wait_for(200ms), std::future_status::timeout) << "two holders at once";
  ASSERT_TRUE(revoke(first).ok());
  auto [status, response] = waiter.get();
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.key(), owner_key("revoked", second));
  EXPECT_GT(response.header().revision(), held.header().revision());
  etcdserverpb::RangeResponse now = keys("revoked/");
  ASSERT_EQ(now.count(), 1);
  EXPECT_EQ(now.kvs(0).key(), response.key());
}

TEST_F(LockServiceTest, aCancelledWaiterDeletesItsKeyAndTheNextWaiterStillWaitsItsTurn) {
  int64_t a = grant();
  int64_t b = grant();
  int64_t c = grant();
  v3lockpb::LockResponse held;
  ASSERT_TRUE(lock("cancel", a, held).ok());

  grpc::ClientContext b_context;
  v3lockpb::LockRequest b_request;
  b_request.set_name("cancel");
  b_request.set_lease(b);
  v3lockpb::LockResponse b_response;
  auto b_call =
      std::async(std::launch::async, [&] { return lock_->Lock(&b_context, b_request, &b_response); });
  ASSERT_TRUE(wait_for_keys("cancel/", 2));
  auto c_call = std::async(std::launch::async, [&] {
    v3lockpb::LockResponse response;
    grpc::Status status = lock("cancel", c, response);
    return std::make_pair(status, response);
  });
  ASSERT_TRUE(wait_for_keys("cancel/", 3));
  ASSERT_TRUE(wait_for_watchers(2));

  b_context.TryCancel();
  EXPECT_EQ(b_call.get().error_code(), grpc::StatusCode::CANCELLED);
  // etcd's recipe deletes a waiter's key when its wait is given up.
  ASSERT_TRUE(wait_for_keys("cancel/", 2));
  EXPECT_EQ(keys("cancel/").kvs(1).key(), owner_key("cancel", c));
  // C now waits for A directly, and only for A.
  EXPECT_EQ(c_call.wait_for(200ms), std::future_status::timeout) << "C took a lock A still holds";
  ASSERT_TRUE(wait_for_watchers(1));

  ASSERT_TRUE(unlock(held.key()).ok());
  auto [status, response] = c_call.get();
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.key(), owner_key("cancel", c));
  EXPECT_TRUE(wait_for_watchers(0));
}

TEST_F(LockServiceTest, aWaiterWhoseOwnLeaseEndsFailsInsteadOfHoldingNothing) {
  int64_t a = grant();
  int64_t b = grant();
  v3lockpb::LockResponse held;
  ASSERT_TRUE(lock("expire", a, held).ok());
  auto waiter = std::async(std::launch::async, [&] {
    v3lockpb::LockResponse response;
    return lock("expire", b, response);
  });
  ASSERT_TRUE(wait_for_keys("expire/", 2));
  ASSERT_TRUE(revoke(b).ok());           // the waiter's own lease ends first ...
  ASSERT_TRUE(unlock(held.key()).ok());  // ... then the holder leaves
  grpc::Status status = waiter.get();
  // Either the waiter saw its key go (etcd's ErrSessionExpired) or it is still waiting for A's delete
  // when it looks: both end with the same refusal, never a hold without a key.
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNKNOWN);
  EXPECT_EQ(status.error_message(), "mutex: session is expired");
}

TEST_F(LockServiceTest, closingTheServicesEndsWaitingCalls) {
  int64_t a = grant();
  int64_t b = grant();
  v3lockpb::LockResponse held;
  ASSERT_TRUE(lock("closing", a, held).ok());
  auto waiter = std::async(std::launch::async, [&] {
    v3lockpb::LockResponse response;
    return lock("closing", b, response);
  });
  ASSERT_TRUE(wait_for_watchers(1));
  services_->close_streams();
  grpc::Status status = waiter.get();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(status.error_message(), "etcdserver: server stopped");
  // The abandoned waiter's key went with it.
  EXPECT_TRUE(wait_for_keys("closing/", 1));
}

}  // namespace
}  // namespace synod::api::test
