// The watch hub (kv/watch_hub.h) and the events it builds (kv/watch_history.h), driven by an MvccStore
// the way the node drives it: writes through apply(), catch-up on the same thread. Checks what each
// watcher receives (ranges, filters, prev_kv, txns in one batch), replay from an old revision,
// compaction and slow-watcher cancellation, restores, and that many watchers stay cheap.
#include "kv/watch_hub.h"

#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "kv/mvcc_test_util.h"

namespace synod::kv {
namespace {

using test::Harness;

// One event as text: "PUT k=v@rev" or "DELETE k@rev", with " prev=v@rev" when it carries prev_kv.
std::string describe(const mvccpb::Event& event) {
  std::string out = event.type() == mvccpb::Event::PUT ? "PUT " + event.kv().key() + "=" + event.kv().value()
                                                       : "DELETE " + event.kv().key();
  out += "@" + std::to_string(event.kv().mod_revision());
  if (event.has_prev_kv()) {
    out += " prev=" + event.prev_kv().value() + "@" + std::to_string(event.prev_kv().mod_revision());
  }
  return out;
}

std::vector<std::string> describe(const std::vector<EventBatch>& batches) {
  std::vector<std::string> out;
  for (const EventBatch& batch : batches) {
    for (const mvccpb::Event& event : batch.events) out.push_back(describe(event));
  }
  return out;
}

WatchSpec spec_of(const std::string& key, const std::string& range_end = "", int64_t start = 0) {
  WatchSpec spec;
  spec.range = KeyRange::of(key, range_end);
  spec.start_revision = start;
  return spec;
}

class WatchHubTest : public ::testing::Test {
 protected:
  explicit WatchHubTest(WatchHubOptions options = {}) : hub_(h_.store.revision(), options) {
    h_.store.set_write_observer(&hub_);
  }

  WatchHub::WatcherPtr add(WatchSpec spec) {
    return hub_.add(std::move(spec), [this] { ++wakes_; }).watcher;
  }
  // Takes everything, catching up from the history until synced (as a stream would, one window at a
  // time), and returns the events taken.
  std::vector<std::string> drain(WatchHub::Watcher& watcher, WatchDelivery* last = nullptr) {
    std::vector<std::string> out;
    for (int round = 0; round < 1000; ++round) {
      WatchDelivery delivery = hub_.take(watcher);
      for (std::string& event : describe(delivery.batches)) out.push_back(std::move(event));
      if (last != nullptr) *last = delivery;
      if (!delivery.needs_catch_up) break;
      hub_.catch_up(watcher, h_.store);
    }
    return out;
  }

  Harness h_;
  WatchHub hub_;
  int wakes_ = 0;
};

TEST_F(WatchHubTest, singleKeyWatcherSeesPutsAndDeletesWithPrevKvOnlyIfAsked) {
  WatchHub::WatcherPtr plain = add(spec_of("foo"));
  WatchSpec with_prev = spec_of("foo");
  with_prev.prev_kv = true;
  WatchHub::WatcherPtr prev = add(with_prev);

  ASSERT_TRUE(h_.put("foo", "a").is_ok());                   // 2
  ASSERT_TRUE(h_.put("other", "x").is_ok());                 // 3
  ASSERT_TRUE(h_.put("foo", "b").is_ok());                   // 4
  ASSERT_TRUE(h_.del(test::delete_request("foo")).is_ok());  // 5
  EXPECT_EQ(drain(*plain), (std::vector<std::string>{"PUT foo=a@2", "PUT foo=b@4", "DELETE foo@5"}));
  EXPECT_EQ(drain(*prev),
            (std::vector<std::string>{"PUT foo=a@2", "PUT foo=b@4 prev=a@2", "DELETE foo@5 prev=b@4"}));
  EXPECT_GT(wakes_, 0);
}

TEST_F(WatchHubTest, rangesPrefixesAndFromKey) {
  WatchHub::WatcherPtr prefix = add(spec_of("foo", "fop"));
  WatchHub::WatcherPtr from_key = add(spec_of("m", std::string("\0", 1)));
  WatchHub::WatcherPtr all = add(spec_of(std::string("\0", 1), std::string("\0", 1)));

  ASSERT_TRUE(h_.put("foo", "1").is_ok());   // 2
  ASSERT_TRUE(h_.put("foo2", "2").is_ok());  // 3
  ASSERT_TRUE(h_.put("fop", "3").is_ok());   // 4
  ASSERT_TRUE(h_.put("a", "4").is_ok());     // 5
  ASSERT_TRUE(h_.put("zz", "5").is_ok());    // 6
  EXPECT_EQ(drain(*prefix), (std::vector<std::string>{"PUT foo=1@2", "PUT foo2=2@3"}));
  EXPECT_EQ(drain(*from_key), (std::vector<std::string>{"PUT zz=5@6"}));
  EXPECT_EQ(drain(*all).size(), 5u);
}

TEST_F(WatchHubTest, filtersDropPutsOrDeletes) {
  WatchSpec no_put = spec_of("k", "l");
  no_put.no_put = true;
  WatchSpec no_delete = spec_of("k", "l");
  no_delete.no_delete = true;
  WatchHub::WatcherPtr deletes = add(no_put);
  WatchHub::WatcherPtr puts = add(no_delete);

  ASSERT_TRUE(h_.put("k1", "a").is_ok());                       // 2
  ASSERT_TRUE(h_.del(test::delete_request("k", "l")).is_ok());  // 3
  EXPECT_EQ(drain(*deletes), (std::vector<std::string>{"DELETE k1@3"}));
  EXPECT_EQ(drain(*puts), (std::vector<std::string>{"PUT k1=a@2"}));
}

TEST_F(WatchHubTest, aTxnIsOneBatchInItsOrder) {
  ASSERT_TRUE(h_.put("b", "old").is_ok());  // 2
  WatchHub::WatcherPtr watcher = add(spec_of("a", "z"));
  auto txn =
      test::txn_request({}, {test::op(test::put_request("c", "1")), test::op(test::delete_request("b")),
                             test::op(test::put_request("a", "2"))});
  ASSERT_TRUE(h_.txn(txn).is_ok());  // 3
  WatchDelivery delivery = hub_.take(*watcher);
  ASSERT_EQ(delivery.batches.size(), 1u);
  EXPECT_EQ(delivery.batches[0].revision, 3);
  EXPECT_EQ(describe(delivery.batches), (std::vector<std::string>{"PUT c=1@3", "DELETE b@3", "PUT a=2@3"}));
  EXPECT_TRUE(delivery.synced);
  EXPECT_EQ(delivery.revision, 3);
}

TEST_F(WatchHubTest, liveEventsEqualReplayedOnes) {
  WatchSpec spec = spec_of("k", "l");
  spec.prev_kv = true;
  WatchHub::WatcherPtr live = add(spec);
  ASSERT_TRUE(h_.put("k1", "a").is_ok());
  ASSERT_TRUE(h_.put("k2", "b").is_ok());
  ASSERT_TRUE(h_.put("k1", "c").is_ok());
  ASSERT_TRUE(h_.txn(test::txn_request(
                         {}, {test::op(test::delete_request("k1")), test::op(test::put_request("k3", "d"))}))
                  .is_ok());
  ASSERT_TRUE(h_.put("k1", "e").is_ok());
  std::vector<std::string> seen = drain(*live);
  EXPECT_EQ(seen, describe(history_events(h_.store.index(), spec.range, 1, h_.store.revision())));
  spec.start_revision = 2;
  WatchHub::WatcherPtr replayed = add(spec);
  EXPECT_EQ(drain(*replayed), seen);
}

TEST_F(WatchHubTest, anOldStartRevisionReplaysTheHistoryThenGoesLive) {
  ASSERT_TRUE(h_.put("foo", "1").is_ok());  // 2
  ASSERT_TRUE(h_.put("foo", "2").is_ok());  // 3
  ASSERT_TRUE(h_.put("bar", "x").is_ok());  // 4
  WatchHub::Added added = hub_.add(spec_of("foo", "", 3), [] {});
  EXPECT_EQ(added.revision, 4);
  WatchDelivery first = hub_.take(*added.watcher);
  EXPECT_TRUE(first.needs_catch_up);
  EXPECT_TRUE(first.batches.empty());
  EXPECT_EQ(first.revision, 2);  // what it has seen: everything before its start
  EXPECT_EQ(drain(*added.watcher), (std::vector<std::string>{"PUT foo=2@3"}));
  ASSERT_TRUE(h_.put("foo", "3").is_ok());  // 5, live
  WatchDelivery last;
  EXPECT_EQ(drain(*added.watcher, &last), (std::vector<std::string>{"PUT foo=3@5"}));
  EXPECT_TRUE(last.synced);
  EXPECT_EQ(last.revision, 5);
}

TEST_F(WatchHubTest, aFutureStartRevisionSkipsEarlierWrites) {
  WatchHub::WatcherPtr watcher = add(spec_of("foo", "", 4));
  ASSERT_TRUE(h_.put("foo", "1").is_ok());  // 2
  ASSERT_TRUE(h_.put("foo", "2").is_ok());  // 3
  ASSERT_TRUE(h_.put("foo", "3").is_ok());  // 4
  EXPECT_EQ(drain(*watcher), (std::vector<std::string>{"PUT foo=3@4"}));
}

TEST_F(WatchHubTest, aCompactedStartRevisionCancelsWithTheCompactRevision) {
  ASSERT_TRUE(h_.put("foo", "1").is_ok());  // 2
  ASSERT_TRUE(h_.put("foo", "2").is_ok());  // 3
  ASSERT_TRUE(h_.compact(3).is_ok());
  WatchHub::WatcherPtr watcher = add(spec_of("foo", "", 2));
  WatchDelivery delivery;
  drain(*watcher, &delivery);
  EXPECT_TRUE(delivery.canceled);
  EXPECT_EQ(delivery.compact_revision, 3);
  EXPECT_EQ(delivery.cancel_reason, kWatchCompactedReason);
  // At the compact revision itself the history is still there, as in etcd.
  WatchHub::WatcherPtr at = add(spec_of("foo", "", 3));
  EXPECT_EQ(drain(*at), (std::vector<std::string>{"PUT foo=2@3"}));
}

TEST_F(WatchHubTest, removedWatchersGetNothing) {
  WatchHub::WatcherPtr watcher = add(spec_of("foo"));
  ASSERT_TRUE(h_.put("foo", "1").is_ok());
  hub_.remove(watcher);
  ASSERT_TRUE(h_.put("foo", "2").is_ok());
  EXPECT_TRUE(drain(*watcher).empty());
  EXPECT_EQ(hub_.watcher_count(), 0u);
}

TEST_F(WatchHubTest, aRestoreMakesWatchersCatchUpFromTheNewHistory) {
  WatchHub::WatcherPtr watcher = add(spec_of("foo"));
  ASSERT_TRUE(h_.put("foo", "1").is_ok());  // 2
  EXPECT_EQ(drain(*watcher), (std::vector<std::string>{"PUT foo=1@2"}));
  // Another replica went on; this one installs its snapshot.
  Harness other;
  ASSERT_TRUE(other.put("foo", "1").is_ok());  // 2
  ASSERT_TRUE(other.put("foo", "2").is_ok());  // 3
  ASSERT_TRUE(other.put("bar", "x").is_ok());  // 4
  ASSERT_TRUE(h_.store.restore(other.store.snapshot()).is_ok());
  EXPECT_EQ(hub_.revision(), 4);
  WatchDelivery last;
  EXPECT_EQ(drain(*watcher, &last), (std::vector<std::string>{"PUT foo=2@3"}));
  EXPECT_TRUE(last.synced);
}

class SlowWatcherTest : public WatchHubTest {
 protected:
  SlowWatcherTest() : WatchHubTest(options()) {}
  static WatchHubOptions options() {
    WatchHubOptions options;
    options.max_pending_events = 3;
    options.catch_up_revisions = 2;
    options.gain_check_batches = 4;
    return options;
  }
};

TEST_F(SlowWatcherTest, aWatcherBeyondItsBufferCatchesUpFromTheHistoryWithoutLosingEvents) {
  WatchHub::WatcherPtr watcher = add(spec_of("k", "l"));
  std::vector<std::string> expected;
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(h_.put("k" + std::to_string(i), "v").is_ok());  // revisions 2..7
    expected.push_back("PUT k" + std::to_string(i) + "=v@" + std::to_string(i + 2));
  }
  WatchDelivery first = hub_.take(*watcher);
  EXPECT_EQ(describe(first.batches).size(), 3u);  // its buffer, then it was switched
  EXPECT_TRUE(first.needs_catch_up);
  EXPECT_EQ(first.revision, 4);
  std::vector<std::string> seen = describe(first.batches);
  WatchDelivery last;
  for (std::string& event : drain(*watcher, &last)) seen.push_back(std::move(event));
  EXPECT_EQ(seen, expected);
  EXPECT_TRUE(last.synced);
  // Live again.
  ASSERT_TRUE(h_.put("k9", "v").is_ok());
  EXPECT_EQ(drain(*watcher), (std::vector<std::string>{"PUT k9=v@8"}));
}

TEST_F(SlowWatcherTest, aWatcherThatReplaysALongHistoryIsNotCanceledWhileItGains) {
  for (int i = 0; i < 40; ++i) ASSERT_TRUE(h_.put("k", std::to_string(i)).is_ok());
  WatchHub::WatcherPtr watcher = add(spec_of("k", "", 2));
  WatchDelivery delivery;
  std::vector<std::string> seen = drain(*watcher, &delivery);
  // Twenty windows of two revisions, far more than the gain check's four, and every event arrives.
  EXPECT_EQ(seen.size(), 40u);
  EXPECT_FALSE(delivery.canceled);
  EXPECT_TRUE(delivery.synced);
}

TEST_F(SlowWatcherTest, aWatcherThatStaysBehindIsCanceledWithAReason) {
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(h_.put("k", std::to_string(i)).is_ok());
  WatchHub::WatcherPtr watcher = add(spec_of("k", "", 2));
  // Its client reads one window (two revisions) while the store takes three writes.
  WatchDelivery delivery;
  size_t seen = 0;
  int windows = 0;
  for (; windows < 100 && !delivery.canceled; ++windows) {
    delivery = hub_.take(*watcher);
    seen += describe(delivery.batches).size();
    ASSERT_FALSE(delivery.synced) << "it never falls less behind";
    hub_.catch_up(*watcher, h_.store);
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(h_.put("k", "more").is_ok());
  }
  EXPECT_TRUE(delivery.canceled);
  EXPECT_LE(windows, 9) << "canceled within two gain checks of four windows (and the take that tells)";
  EXPECT_EQ(delivery.compact_revision, 0);
  EXPECT_EQ(delivery.cancel_reason, kWatchTooSlowReason);
  EXPECT_GT(seen, 0u) << "what it was sent before it fell behind for good";
}

TEST_F(SlowWatcherTest, aCatchingUpWatcherWhoseHistoryIsCompactedIsCanceled) {
  WatchHub::WatcherPtr watcher = add(spec_of("k"));
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(h_.put("k", std::to_string(i)).is_ok());  // 2..7
  EXPECT_TRUE(hub_.take(*watcher).needs_catch_up);
  ASSERT_TRUE(h_.compact(7).is_ok());
  WatchDelivery delivery;
  drain(*watcher, &delivery);
  EXPECT_TRUE(delivery.canceled);
  EXPECT_EQ(delivery.compact_revision, 7);
}

TEST_F(WatchHubTest, thousandsOfWatchersOnlyTheMatchingOnesAreWoken) {
  constexpr int kSingle = 5000;
  constexpr int kRanges = 200;
  std::vector<int> woken(kSingle + kRanges, 0);
  std::vector<WatchHub::WatcherPtr> watchers;
  for (int i = 0; i < kSingle; ++i) {
    watchers.push_back(hub_.add(spec_of("key" + std::to_string(i)), [&woken, i] { ++woken[i]; }).watcher);
  }
  for (int i = 0; i < kRanges; ++i) {
    std::string prefix = "r" + std::to_string(i) + "/";
    std::string end = prefix;
    end.back() = static_cast<char>(end.back() + 1);
    watchers.push_back(hub_.add(spec_of(prefix, end), [&woken, i] { ++woken[kSingle + i]; }).watcher);
  }
  EXPECT_EQ(hub_.watcher_count(), static_cast<size_t>(kSingle + kRanges));
  auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(h_.put("key" + std::to_string(i * 3), "v").is_ok());
  ASSERT_TRUE(h_.put("r7/x", "v").is_ok());
  auto took = std::chrono::steady_clock::now() - started;
  int total = 0;
  for (int count : woken) total += count;
  EXPECT_EQ(total, 1001);
  EXPECT_EQ(woken[3], 1);
  EXPECT_EQ(woken[kSingle + 7], 1);
  EXPECT_EQ(drain(*watchers[kSingle + 7]), (std::vector<std::string>{"PUT r7/x=v@1002"}));
  // Generous for a debug build with sanitizers: about a millisecond per write at most.
  EXPECT_LT(took, std::chrono::seconds(2));
}

}  // namespace
}  // namespace synod::kv
