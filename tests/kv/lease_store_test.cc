// Leases in the MVCC store: puts attach keys to leases (and move them between leases), deletes detach
// them, a revoke deletes every attached key in one revision, unknown leases fail with etcd's error, and
// snapshots carry the leases and give back the same bytes.
#include <gtest/gtest.h>

#include "base/bytes.h"
#include "kv/lease_test_util.h"
#include "kv/mvcc_errors.h"
#include "kv/mvcc_test_util.h"

namespace synod::kv {
namespace {

using test::delete_request;
using test::grant;
using test::Harness;
using test::op;
using test::put_request;
using test::range_request;
using test::renew;
using test::revoke;
using test::txn_request;

using KeySet = std::set<std::string, std::less<>>;

KeySet keys_of(const Harness& h, int64_t lease) {
  const Lease* found = h.store.leases().find(lease);
  return found != nullptr ? found->keys : KeySet{"<no lease>"};
}

TEST(MvccLease, grantsLeaveTheRevisionAloneAndRefuseDuplicates) {
  Harness h;
  auto granted = grant(h, 5, 30).value();
  EXPECT_EQ(granted.id(), 5);
  EXPECT_EQ(granted.ttl(), 30);
  EXPECT_EQ(granted.header().revision(), 1);
  EXPECT_EQ(h.store.revision(), 1);
  auto again = grant(h, 5, 30);
  ASSERT_FALSE(again.is_ok());
  EXPECT_EQ(again.status().message(), kLeaseExistsMessage);
  auto too_large = grant(h, 6, kMaxLeaseTtl + 1);
  ASSERT_FALSE(too_large.is_ok());
  EXPECT_EQ(too_large.status().message(), kLeaseTtlTooLargeMessage);
}

TEST(MvccLease, idZeroGetsTheSameIdOnEveryReplica) {
  Harness a;
  Harness b;
  for (Harness* h : {&a, &b}) {
    h->put("x", "1").value();
    grant(*h, 0).value();
    grant(*h, 0).value();
  }
  ASSERT_EQ(a.store.leases().leases().size(), 2U);
  EXPECT_EQ(a.store.snapshot(), b.store.snapshot());
  for (const auto& [id, lease] : a.store.leases().leases()) EXPECT_GT(id, 0);
}

TEST(MvccLease, unknownLeasesFailPutsAndTxnsWithEtcdsError) {
  Harness h;
  auto put = h.put(put_request("a", "1", 99));
  ASSERT_FALSE(put.is_ok());
  EXPECT_EQ(put.status().message(), kLeaseNotFoundMessage);
  auto txn = h.txn(txn_request({}, {op(put_request("b", "1")), op(put_request("c", "1", 99))}));
  ASSERT_FALSE(txn.is_ok());
  EXPECT_EQ(txn.status().message(), kLeaseNotFoundMessage);
  EXPECT_EQ(h.store.revision(), 1);  // nothing took effect
  auto revoked = revoke(h, 99);
  ASSERT_FALSE(revoked.is_ok());
  EXPECT_EQ(revoked.status().message(), kLeaseNotFoundMessage);
  auto renewed = renew(h, 99);
  ASSERT_FALSE(renewed.is_ok());
  EXPECT_EQ(renewed.status().message(), kLeaseNotFoundMessage);
}

TEST(MvccLease, putsAttachAndMoveKeysAndDeletesDetachThem) {
  Harness h;
  grant(h, 1).value();
  grant(h, 2).value();
  h.put(put_request("a", "1", 1)).value();
  h.put(put_request("b", "1", 1)).value();
  EXPECT_EQ(keys_of(h, 1), (KeySet{"a", "b"}));
  h.put(put_request("a", "2", 2)).value();  // moves to lease 2
  EXPECT_EQ(keys_of(h, 1), (KeySet{"b"}));
  EXPECT_EQ(keys_of(h, 2), (KeySet{"a"}));
  auto keep = put_request("a", "3");
  keep.set_ignore_lease(true);  // stays with lease 2
  h.put(keep).value();
  EXPECT_EQ(keys_of(h, 2), (KeySet{"a"}));
  h.put("b", "2").value();  // no lease: detached
  EXPECT_EQ(keys_of(h, 1), KeySet{});
  h.del(delete_request("a")).value();
  EXPECT_EQ(keys_of(h, 2), KeySet{});
}

TEST(MvccLease, aFailedTxnLeavesAttachmentsAsTheyWere) {
  Harness h;
  grant(h, 1).value();
  h.put(put_request("a", "1", 1)).value();
  // The first put would move "a" off lease 1; the second names an unknown lease, so neither happens.
  auto txn = h.txn(txn_request({}, {op(put_request("a", "2")), op(put_request("b", "2", 42))}));
  ASSERT_FALSE(txn.is_ok());
  EXPECT_EQ(keys_of(h, 1), (KeySet{"a"}));
  // A txn that succeeds moves them.
  h.txn(txn_request({}, {op(put_request("a", "2")), op(put_request("b", "2", 1))})).value();
  EXPECT_EQ(keys_of(h, 1), (KeySet{"b"}));
}

TEST(MvccLease, revokeDeletesEveryAttachedKeyInOneRevision) {
  Harness h;
  grant(h, 8).value();
  h.put(put_request("a", "1", 8)).value();  // rev 2
  h.put(put_request("b", "1", 8)).value();  // rev 3
  h.put("c", "1").value();                  // rev 4: no lease
  h.put(put_request("d", "1", 8)).value();  // rev 5
  auto revoked = revoke(h, 8).value();
  EXPECT_EQ(revoked.header().revision(), 6);
  EXPECT_EQ(h.store.revision(), 6);
  EXPECT_EQ(h.kvs("a", "z"), (std::vector<std::string>{"c=1"}));
  EXPECT_EQ(h.kvs("a", "z", 5), (std::vector<std::string>{"a=1", "b=1", "c=1", "d=1"}));
  EXPECT_FALSE(h.store.leases().contains(8));
  EXPECT_FALSE(revoke(h, 8).is_ok());
}

TEST(MvccLease, revokingALeaseWithoutKeysLeavesTheRevisionAlone) {
  Harness h;
  grant(h, 8).value();
  h.put("x", "1").value();
  EXPECT_EQ(revoke(h, 8).value().header().revision(), 2);
  EXPECT_EQ(h.store.revision(), 2);
}

TEST(MvccLease, renewAnswersTheGrantedTtl) {
  Harness h;
  grant(h, 3, 25).value();
  auto renewed = renew(h, 3).value();
  EXPECT_EQ(renewed.id(), 3);
  EXPECT_EQ(renewed.ttl(), 25);
}

TEST(MvccLease, snapshotsCarryLeasesAndRebuildTheirKeys) {
  Harness h;
  grant(h, 1, 10).value();
  grant(h, -2, 20).value();
  grant(h, 3, 30).value();
  h.put(put_request("a", "1", 1)).value();
  h.put(put_request("b", "1", -2)).value();
  h.put(put_request("c", "1", 1)).value();
  h.del(delete_request("c")).value();
  std::string snapshot = h.store.snapshot();

  Harness restored;
  ASSERT_TRUE(restored.store.restore(snapshot).is_ok());
  EXPECT_EQ(restored.store.snapshot(), snapshot);
  EXPECT_EQ(keys_of(restored, 1), (KeySet{"a"}));
  EXPECT_EQ(keys_of(restored, -2), (KeySet{"b"}));
  EXPECT_EQ(keys_of(restored, 3), KeySet{});
  EXPECT_EQ(restored.store.leases().find(3)->ttl, 30);
  // Both go on the same way: a revoke deletes the same keys.
  for (Harness* x : {&h, &restored}) revoke(*x, 1).value();
  EXPECT_EQ(restored.store.snapshot(), h.store.snapshot());
  EXPECT_EQ(restored.kvs("a", "z"), (std::vector<std::string>{"b=1"}));
}

TEST(MvccLease, aVersionOneSnapshotIsStillReadWithoutLeases) {
  ByteWriter out;
  out.put_string("synod-mvcc-1");
  out.put_varint(4);  // applied index
  out.put_varint(2);  // revision
  out.put_varint(0);  // compacted
  out.put_varint(1);  // one key
  out.put_string("a");
  out.put_varint(1);  // one record: main, sub, create, version, lease, value
  for (uint64_t field : {2, 0, 2, 1, 7}) out.put_varint(field);
  out.put_string("v");
  Harness h;
  ASSERT_TRUE(h.store.restore(std::move(out).take()).is_ok());
  EXPECT_TRUE(h.store.leases().leases().empty());
  EXPECT_EQ(h.kvs("a"), (std::vector<std::string>{"a=v"}));
  EXPECT_EQ(h.range(range_request("a")).value().kvs(0).lease(), 7);
}

// Records what the store reports to its lease observer.
class Recorder final : public LeaseObserver {
 public:
  void lease_renewed(int64_t id, int64_t ttl) override {
    events.push_back("renewed " + std::to_string(id) + " " + std::to_string(ttl));
  }
  void lease_revoked(int64_t id) override { events.push_back("revoked " + std::to_string(id)); }
  void leases_reset(const LeaseTable& table) override {
    events.push_back("reset " + std::to_string(table.leases().size()));
  }
  std::vector<std::string> events;
};

TEST(MvccLease, theObserverHearsGrantsRenewalsRevokesAndRestores) {
  Harness h;
  Recorder recorder;
  h.store.set_lease_observer(&recorder);
  grant(h, 4, 9).value();
  renew(h, 4).value();
  EXPECT_FALSE(renew(h, 5).is_ok());
  grant(h, 6, 2).value();
  revoke(h, 4).value();
  std::string snapshot = h.store.snapshot();
  ASSERT_TRUE(h.store.restore(snapshot).is_ok());
  EXPECT_EQ(recorder.events,
            (std::vector<std::string>{"renewed 4 9", "renewed 4 9", "renewed 6 2", "revoked 4", "reset 1"}));
}

}  // namespace
}  // namespace synod::kv
