// The counting semaphore (client/semaphore.h) and its session against a real one-member server in
// process (tests/api/single_member_server.h: election timeout 100 ms, so leases may be as short as one
// second): the N oldest contenders hold, a release or an expired lease lets the next in, the permit
// count is agreed, a lost lease is noticed in time, and waits end on deadlines and cancellation.
#include "client/semaphore.h"

#include <algorithm>
#include <atomic>
#include <future>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "client/member_fixture.h"
#include "client/semaphore_status.h"

namespace synod::client {
namespace {

using namespace std::chrono_literals;

class SemaphoreTest : public test::MemberFixture {
 protected:
  SemaphoreTest() : MemberFixture("sem-") {}

  std::unique_ptr<EtcdSession> session(std::chrono::seconds ttl = 5s) {
    Result<std::unique_ptr<EtcdSession>> opened = EtcdSession::open(*connection_, ttl, Clock::now() + 10s);
    EXPECT_TRUE(opened.is_ok()) << opened.status().to_string();
    return opened.is_ok() ? std::move(opened).value() : nullptr;
  }
  SemaphoreStatus status(const std::string& name) {
    Result<SemaphoreStatus> read = read_semaphore_status(*connection_, name, Clock::now() + 5s);
    EXPECT_TRUE(read.is_ok()) << read.status().to_string();
    return read.is_ok() ? read.value() : SemaphoreStatus{};
  }
  // Polls until `condition` holds or `timeout` passes.
  template <typename Condition>
  bool eventually(Clock::duration timeout, Condition condition) {
    Deadline deadline = Clock::now() + timeout;
    while (!condition()) {
      if (Clock::now() >= deadline) return false;
      std::this_thread::sleep_for(10ms);
    }
    return true;
  }
};

TEST_F(SemaphoreTest, theNOldestHoldAndAWaiterGetsInWhenOneReleases) {
  auto a = session(), b = session(), c = session();
  ASSERT_TRUE(a && b && c);
  Result<Permit> first = Semaphore(*a, "gpu", 2).acquire(Clock::now() + 5s);
  Result<Permit> second = Semaphore(*b, "gpu", 2).acquire(Clock::now() + 5s);
  ASSERT_TRUE(first.is_ok()) << first.status().to_string();
  ASSERT_TRUE(second.is_ok()) << second.status().to_string();
  EXPECT_LT(first.value().token(), second.value().token());
  EXPECT_EQ(first.value().key(), "gpu/" + lease_hex(a->lease()));
  EXPECT_TRUE(first.value().valid());

  // Full: a third times out, and leaves no key behind to hold up later contenders.
  Clock::time_point asked = Clock::now();
  Result<Permit> refused = Semaphore(*c, "gpu", 2).acquire(Clock::now() + 300ms);
  ASSERT_FALSE(refused.is_ok());
  EXPECT_EQ(refused.status().code(), ErrorCode::kTimedOut) << refused.status().to_string();
  EXPECT_LT(Clock::now() - asked, 2s);
  SemaphoreStatus full = status("gpu");
  EXPECT_EQ(full.permits, 2);
  EXPECT_EQ(full.holders.size(), 2u);
  EXPECT_TRUE(full.waiters.empty());

  // It waits, then gets in as soon as a holder releases.
  std::future<Result<Permit>> third =
      std::async(std::launch::async, [&] { return Semaphore(*c, "gpu", 2).acquire(Clock::now() + 20s); });
  ASSERT_TRUE(eventually(10s, [&] { return status("gpu").waiters.size() == 1; }));
  EXPECT_EQ(third.wait_for(300ms), std::future_status::timeout) << "got in while two held";
  Clock::time_point released = Clock::now();
  ASSERT_TRUE(first.value().release(Clock::now() + 5s).is_ok());
  EXPECT_FALSE(first.value().valid());
  ASSERT_EQ(third.wait_for(5s), std::future_status::ready);
  Result<Permit> got = third.get();
  ASSERT_TRUE(got.is_ok()) << got.status().to_string();
  std::printf("[semaphore] release -> waiter holds: %lld ms\n",
              static_cast<long long>(
                  std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - released).count()));
  EXPECT_GT(got.value().token(), second.value().token());
  SemaphoreStatus after = status("gpu");
  ASSERT_EQ(after.holders.size(), 2u);
  EXPECT_EQ(after.holders[0].token, second.value().token());
  EXPECT_EQ(after.holders[1].token, got.value().token());
}

TEST_F(SemaphoreTest, anotherPermitCountIsRefusedWhileAnyoneIsQueuedAndAcceptedOnceIdle) {
  auto a = session(), b = session();
  ASSERT_TRUE(a && b);
  Result<Permit> held = Semaphore(*a, "pool", 2).acquire(Clock::now() + 5s);
  ASSERT_TRUE(held.is_ok()) << held.status().to_string();
  Result<Permit> other = Semaphore(*b, "pool", 3).acquire(Clock::now() + 5s);
  ASSERT_FALSE(other.is_ok());
  EXPECT_EQ(other.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(other.status().message().find("has 2 permits"), std::string::npos) << other.status().message();
  EXPECT_EQ(status("pool").holders.size(), 1u) << "the refused contender left a key";

  ASSERT_TRUE(held.value().release(Clock::now() + 5s).is_ok());
  Result<Permit> redefined = Semaphore(*b, "pool", 3).acquire(Clock::now() + 5s);
  ASSERT_TRUE(redefined.is_ok()) << redefined.status().to_string();
  EXPECT_EQ(status("pool").permits, 3);
}

TEST_F(SemaphoreTest, keysUnderTheNameThatAreNotContendersDoNotCount) {
  auto a = session();
  ASSERT_TRUE(a);
  // Another semaphore named "q/x" keeps its count at q/x; a stray key has no lease.
  etcdserverpb::TxnRequest strays;
  for (const char* key : {"q/x", "q/1f"}) {
    auto* put = strays.add_success()->mutable_request_put();
    put->set_key(key);
    put->set_value("1");
  }
  ASSERT_TRUE(connection_->txn(strays, Clock::now() + 5s).is_ok());
  etcdserverpb::TxnRequest count;
  auto* put = count.add_success()->mutable_request_put();
  put->set_key("q");
  put->set_value("1");
  ASSERT_TRUE(connection_->txn(count, Clock::now() + 5s).is_ok());
  Result<Permit> held = Semaphore(*a, "q", 1).acquire(Clock::now() + 2s);
  ASSERT_TRUE(held.is_ok()) << held.status().to_string();
}

TEST_F(SemaphoreTest, aHolderThatStopsRenewingLosesItsPermitBeforeAWaiterGetsIt) {
  auto holder = session(1s), waiter = session(5s);
  ASSERT_TRUE(holder && waiter);
  ASSERT_EQ(holder->ttl(), 1s);
  Result<Permit> held = Semaphore(*holder, "one", 1).acquire(Clock::now() + 5s);
  ASSERT_TRUE(held.is_ok()) << held.status().to_string();
  std::future<std::pair<Result<Permit>, Clock::time_point>> next = std::async(std::launch::async, [&] {
    Result<Permit> permit = Semaphore(*waiter, "one", 1).acquire(Clock::now() + 20s);
    return std::make_pair(std::move(permit), Clock::now());
  });
  ASSERT_TRUE(eventually(10s, [&] { return status("one").waiters.size() == 1; }));

  // Renewals stop, as for a holder that froze: the holder must give up no later than a TTL after its
  // last renewal, and the waiter must not get in before the instant the holder gave up at (the server
  // restarts a lease's countdown after the renewal was sent, so its expiry cannot come earlier).
  Clock::time_point paused = Clock::now();
  holder->keeper().pause_renewals();
  ASSERT_TRUE(eventually(5s, [&] { return !held.value().valid(); }));
  Clock::time_point gave_up = holder->keeper().valid_until();
  EXPECT_LE(gave_up - paused, 1s);
  EXPECT_NE(holder->lost_reason().find("no renewal"), std::string::npos) << holder->lost_reason();
  EXPECT_TRUE(holder->lost().cancelled());
  ASSERT_EQ(next.wait_for(10s), std::future_status::ready);
  auto [got, got_at] = next.get();
  ASSERT_TRUE(got.is_ok()) << got.status().to_string();
  EXPECT_GE(got_at, gave_up);
  auto ms = [&](Clock::time_point at) {
    return static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(at - paused).count());
  };
  std::printf("[semaphore] renewals paused; holder gave up %lld ms later, waiter held %lld ms later\n",
              ms(gave_up), ms(got_at));

  // Fencing: only the current holder's guard still holds.
  auto guarded = [&](const Permit& permit) {
    etcdserverpb::TxnRequest request;
    *request.add_compare() = permit.guard();
    Result<etcdserverpb::TxnResponse> done = connection_->txn(request, Clock::now() + 5s);
    EXPECT_TRUE(done.is_ok());
    return done.is_ok() && done.value().succeeded();
  };
  EXPECT_FALSE(guarded(held.value()));
  EXPECT_TRUE(guarded(got.value()));
  EXPECT_GT(got.value().token(), held.value().token());
  EXPECT_TRUE(held.value().release(Clock::now() + 5s).is_ok()) << "releasing a lost permit is harmless";
}

TEST_F(SemaphoreTest, aRevokedLeaseIsNoticedAtTheNextRenewal) {
  auto holder = session(3s);
  ASSERT_TRUE(holder);
  Result<Permit> held = Semaphore(*holder, "revoked", 1).acquire(Clock::now() + 5s);
  ASSERT_TRUE(held.is_ok()) << held.status().to_string();
  ASSERT_TRUE(connection_->revoke(holder->lease(), Clock::now() + 5s).is_ok());
  // A renewal goes out every TTL/3 (1 s).
  ASSERT_TRUE(eventually(3s, [&] { return !held.value().valid(); }));
  EXPECT_NE(holder->lost_reason().find("no longer exists"), std::string::npos) << holder->lost_reason();
  Result<Permit> again = Semaphore(*holder, "other", 1).acquire(Clock::now() + 5s);
  ASSERT_FALSE(again.is_ok());
  EXPECT_EQ(again.status().code(), ErrorCode::kUnavailable) << again.status().to_string();
}

TEST_F(SemaphoreTest, cancellingAWaitEndsItAtOnceAndRemovesTheWaiter) {
  auto a = session(), b = session();
  ASSERT_TRUE(a && b);
  Result<Permit> held = Semaphore(*a, "c", 1).acquire(Clock::now() + 5s);
  ASSERT_TRUE(held.is_ok()) << held.status().to_string();
  Cancellation cancel;
  std::future<Result<Permit>> waiting = std::async(
      std::launch::async, [&] { return Semaphore(*b, "c", 1).acquire(Clock::now() + 60s, &cancel); });
  ASSERT_TRUE(eventually(10s, [&] { return status("c").waiters.size() == 1; }));
  Clock::time_point cancelled = Clock::now();
  cancel.cancel("test");
  ASSERT_EQ(waiting.wait_for(2s), std::future_status::ready);
  EXPECT_LT(Clock::now() - cancelled, 1s);
  Result<Permit> result = waiting.get();
  ASSERT_FALSE(result.is_ok());
  EXPECT_EQ(result.status().code(), ErrorCode::kAborted);
  EXPECT_TRUE(status("c").waiters.empty());
}

TEST_F(SemaphoreTest, oneSessionQueuesOnceForAName) {
  auto a = session();
  ASSERT_TRUE(a);
  Result<Permit> held = Semaphore(*a, "twice", 2).acquire(Clock::now() + 5s);
  ASSERT_TRUE(held.is_ok()) << held.status().to_string();
  Result<Permit> again = Semaphore(*a, "twice", 2).acquire(Clock::now() + 5s);
  ASSERT_FALSE(again.is_ok());
  EXPECT_EQ(again.status().code(), ErrorCode::kInvalidArgument);
  // Destroying the permit releases it; the name can then be taken again.
  held = Status(ErrorCode::kAborted, "dropped");
  Result<Permit> later = Semaphore(*a, "twice", 2).acquire(Clock::now() + 5s);
  ASSERT_TRUE(later.is_ok()) << later.status().to_string();
}

TEST_F(SemaphoreTest, manyContendersNeverHoldMoreThanThePermits) {
  constexpr int kContenders = 8;
  constexpr int kRounds = 4;
  constexpr int kPermits = 3;
  std::atomic<int> inside{0};
  std::atomic<int> most{0};
  std::atomic<int> failures{0};
  std::mutex mutex;
  std::set<int64_t> tokens;
  std::vector<std::thread> threads;
  for (int i = 0; i < kContenders; ++i) {
    threads.emplace_back([&] {
      std::unique_ptr<EtcdSession> own = session();
      if (!own) return;
      for (int round = 0; round < kRounds; ++round) {
        Result<Permit> permit = Semaphore(*own, "many", kPermits).acquire(Clock::now() + 60s);
        if (!permit.is_ok()) {
          ADD_FAILURE() << permit.status().to_string();
          ++failures;
          return;
        }
        int now = ++inside;
        int seen = most.load();
        while (now > seen && !most.compare_exchange_weak(seen, now)) {
        }
        {
          std::lock_guard lock(mutex);
          EXPECT_TRUE(tokens.insert(permit.value().token()).second) << "token handed out twice";
        }
        std::this_thread::sleep_for(20ms);
        --inside;
        EXPECT_TRUE(permit.value().release(Clock::now() + 5s).is_ok());
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_LE(most.load(), kPermits);
  EXPECT_GE(most.load(), 2) << "the contenders never overlapped: the test proves nothing";
  EXPECT_EQ(tokens.size(), static_cast<size_t>(kContenders * kRounds));
  std::printf("[semaphore] %d contenders x %d rounds, at most %d inside at once\n", kContenders, kRounds,
              most.load());
}

TEST(SemaphoreWithoutCluster, anUnreachableClusterEndsInATimeoutNotAHang) {
  uint16_t port = server::free_port().value();
  EtcdConnection connection(ConnectionOptions{{"127.0.0.1:" + std::to_string(port)}, 300ms});
  Clock::time_point start = Clock::now();
  Result<std::unique_ptr<EtcdSession>> opened = EtcdSession::open(connection, 5s, Clock::now() + 1s);
  ASSERT_FALSE(opened.is_ok());
  EXPECT_EQ(opened.status().code(), ErrorCode::kTimedOut) << opened.status().to_string();
  EXPECT_LT(Clock::now() - start, 3s);
}

TEST(SemaphoreEndpoints, areParsedLikeEtcdctlsFlag) {
  Result<std::vector<std::string>> parsed = parse_endpoints("127.0.0.1:2379,http://127.0.0.1:2479/");
  ASSERT_TRUE(parsed.is_ok());
  EXPECT_EQ(parsed.value(), (std::vector<std::string>{"127.0.0.1:2379", "127.0.0.1:2479"}));
  EXPECT_FALSE(parse_endpoints("127.0.0.1").is_ok());
  EXPECT_FALSE(parse_endpoints("a:1,,b:2").is_ok());
}

}  // namespace
}  // namespace synod::client
