// The MVCC store (kv/mvcc_store.h): revisions, versions and create revisions; reads at past revisions;
// every range option; put and delete options; compaction and its errors. Expected values follow
// etcd's documented behaviour (a fresh store is at revision 1, so the first write gets revision 2).
#include "kv/mvcc_store.h"

#include <gtest/gtest.h>

#include "base/random.h"
#include "kv/lease_test_util.h"
#include "kv/mvcc_errors.h"
#include "kv/mvcc_test_util.h"

namespace synod::kv {
namespace {

using test::Harness;
using test::put_request;
using test::range_request;
using Strings = std::vector<std::string>;

mvccpb::KeyValue only_kv(const Result<etcdserverpb::RangeResponse>& response) {
  EXPECT_TRUE(response.is_ok()) << response.status().to_string();
  if (!response.is_ok() || response.value().kvs_size() != 1) {
    ADD_FAILURE() << "expected one key";
    return {};
  }
  return response.value().kvs(0);
}

TEST(MvccStore, revisionsVersionsAndCreateRevisions) {
  Harness h;
  EXPECT_EQ(h.store.revision(), 1);
  auto first = h.put("a", "1");
  ASSERT_TRUE(first.is_ok());
  EXPECT_EQ(first.value().header().revision(), 2);
  h.put("a", "2").value();
  mvccpb::KeyValue kv = only_kv(h.range(range_request("a")));
  EXPECT_EQ(kv.create_revision(), 2);
  EXPECT_EQ(kv.mod_revision(), 3);
  EXPECT_EQ(kv.version(), 2);
  EXPECT_EQ(kv.value(), "2");

  auto deleted = h.del(test::delete_request("a"));
  ASSERT_TRUE(deleted.is_ok());
  EXPECT_EQ(deleted.value().deleted(), 1);
  EXPECT_EQ(deleted.value().header().revision(), 4);
  EXPECT_EQ(h.kvs("a"), Strings{});
  // A new incarnation starts over.
  h.put("a", "3").value();
  mvccpb::KeyValue again = only_kv(h.range(range_request("a")));
  EXPECT_EQ(again.create_revision(), 5);
  EXPECT_EQ(again.version(), 1);
  EXPECT_EQ(h.store.revision(), 5);
}

TEST(MvccStore, aDeleteThatFindsNothingKeepsTheRevision) {
  Harness h;
  h.put("a", "1").value();
  auto deleted = h.del(test::delete_request("b"));
  ASSERT_TRUE(deleted.is_ok());
  EXPECT_EQ(deleted.value().deleted(), 0);
  EXPECT_EQ(deleted.value().header().revision(), 2);
  EXPECT_EQ(h.store.revision(), 2);
}

TEST(MvccStore, readsAtPastRevisionsSeeThePast) {
  Harness h;
  h.put("a", "1").value();                   // 2
  h.put("b", "1").value();                   // 3
  h.put("a", "2").value();                   // 4
  h.del(test::delete_request("b")).value();  // 5
  h.put("c", "1").value();                   // 6
  EXPECT_EQ(h.kvs("a", "\xff", 1), Strings{});
  EXPECT_EQ(h.kvs("a", "\xff", 2), (Strings{"a=1"}));
  EXPECT_EQ(h.kvs("a", "\xff", 3), (Strings{"a=1", "b=1"}));
  EXPECT_EQ(h.kvs("a", "\xff", 4), (Strings{"a=2", "b=1"}));
  EXPECT_EQ(h.kvs("a", "\xff", 5), (Strings{"a=2"}));
  EXPECT_EQ(h.kvs("a", "\xff", 6), (Strings{"a=2", "c=1"}));
  EXPECT_EQ(h.kvs("a", "\xff", 0), (Strings{"a=2", "c=1"}));
  // The header names the store's revision, not the one read.
  EXPECT_EQ(h.range(range_request("a", "", 3)).value().header().revision(), 6);
  EXPECT_EQ(only_kv(h.range(range_request("b", "", 4))).mod_revision(), 3);
}

TEST(MvccStore, aFutureRevisionIsRefused) {
  Harness h;
  h.put("a", "1").value();
  EXPECT_EQ(h.kvs("a", "", 3), Strings{"error: " + std::string(kFutureRevisionMessage)});
  EXPECT_EQ(h.kvs("a", "", 2), Strings{"a=1"});
}

TEST(MvccStore, rangeEndSelectsOneKeyAPrefixOrEverythingFromAKey) {
  Harness h;
  for (const char* key : {"a", "ab", "abc", "ac", "b", "\xff"}) h.put(key, "v").value();
  EXPECT_EQ(h.kvs("ab"), Strings{"ab=v"});
  EXPECT_EQ(h.kvs("ab", "ac"), (Strings{"ab=v", "abc=v"}));
  EXPECT_EQ(h.kvs("ac", std::string("\0", 1)), (Strings{"ac=v", "b=v", "\xff=v"}));
  EXPECT_EQ(h.kvs(std::string("\0", 1), std::string("\0", 1)).size(), 6U);
  EXPECT_EQ(h.kvs("b", "a"), Strings{});  // an end before the key selects nothing
  EXPECT_EQ(h.kvs("zz"), Strings{});
}

TEST(MvccStore, limitSetsMoreAndCountIgnoresIt) {
  Harness h;
  for (const char* key : {"a", "b", "c", "d"}) h.put(key, "v").value();
  auto request = range_request("a", "z");
  request.set_limit(2);
  auto response = h.range(request);
  ASSERT_TRUE(response.is_ok());
  EXPECT_EQ(response.value().kvs_size(), 2);
  EXPECT_TRUE(response.value().more());
  EXPECT_EQ(response.value().count(), 4);
  request.set_limit(4);
  EXPECT_FALSE(h.range(request).value().more());
  request.set_limit(-1);  // no limit, as in etcd
  EXPECT_EQ(h.range(request).value().kvs_size(), 4);
}

TEST(MvccStore, countOnlyAndKeysOnly) {
  Harness h;
  h.put("a", "1").value();
  h.put("b", "2").value();
  auto request = range_request("a", "c");
  request.set_count_only(true);
  auto counted = h.range(request).value();
  EXPECT_EQ(counted.count(), 2);
  EXPECT_EQ(counted.kvs_size(), 0);
  request.set_count_only(false);
  request.set_keys_only(true);
  auto keys = h.range(request).value();
  ASSERT_EQ(keys.kvs_size(), 2);
  EXPECT_EQ(keys.kvs(1).key(), "b");
  EXPECT_EQ(keys.kvs(1).value(), "");
  EXPECT_EQ(keys.kvs(1).version(), 1);
}

TEST(MvccStore, sortsByEveryTargetBothWays) {
  Harness h;
  h.put("c", "1").value();  // rev 2
  h.put("a", "3").value();  // rev 3
  h.put("b", "2").value();  // rev 4
  h.put("c", "0").value();  // rev 5: c has version 2
  auto sorted = [&](etcdserverpb::RangeRequest::SortTarget target,
                    etcdserverpb::RangeRequest::SortOrder order) {
    auto request = range_request("a", "z");
    request.set_sort_target(target);
    request.set_sort_order(order);
    std::string keys;
    auto response = h.range(request);
    for (const auto& kv : response.value().kvs()) keys += kv.key();
    return keys;
  };
  using R = etcdserverpb::RangeRequest;
  EXPECT_EQ(sorted(R::KEY, R::NONE), "abc");
  EXPECT_EQ(sorted(R::KEY, R::ASCEND), "abc");
  EXPECT_EQ(sorted(R::KEY, R::DESCEND), "cba");
  EXPECT_EQ(sorted(R::VALUE, R::ASCEND), "cba");
  EXPECT_EQ(sorted(R::VALUE, R::DESCEND), "abc");
  EXPECT_EQ(sorted(R::VALUE, R::NONE), "cba");  // another target sorts ascending by default
  EXPECT_EQ(sorted(R::CREATE, R::ASCEND), "cab");
  EXPECT_EQ(sorted(R::CREATE, R::DESCEND), "bac");
  EXPECT_EQ(sorted(R::MOD, R::ASCEND), "abc");
  EXPECT_EQ(sorted(R::MOD, R::DESCEND), "cba");
  EXPECT_EQ(sorted(R::VERSION, R::DESCEND), "cab");  // ties keep key order
  EXPECT_EQ(sorted(R::VERSION, R::ASCEND), "abc");

  // The limit applies after sorting.
  auto request = range_request("a", "z");
  request.set_sort_target(R::VALUE);
  request.set_sort_order(R::DESCEND);
  request.set_limit(1);
  auto top = h.range(request).value();
  ASSERT_EQ(top.kvs_size(), 1);
  EXPECT_EQ(top.kvs(0).key(), "a");
  EXPECT_TRUE(top.more());
}

TEST(MvccStore, filtersOnModAndCreateRevisions) {
  Harness h;
  h.put("a", "1").value();  // 2
  h.put("b", "1").value();  // 3
  h.put("c", "1").value();  // 4
  h.put("a", "2").value();  // 5: a created 2, modified 5
  auto keys = [&](auto set) {
    auto request = range_request("a", "z");
    set(request);
    std::string out;
    auto response = h.range(request).value();
    for (const auto& kv : response.kvs()) out += kv.key();
    EXPECT_EQ(response.count(), 3);  // filters do not change the count
    return out;
  };
  EXPECT_EQ(keys([](auto& r) { r.set_min_mod_revision(4); }), "ac");
  EXPECT_EQ(keys([](auto& r) { r.set_max_mod_revision(4); }), "bc");
  EXPECT_EQ(keys([](auto& r) { r.set_min_create_revision(3); }), "bc");
  EXPECT_EQ(keys([](auto& r) { r.set_max_create_revision(3); }), "ab");
  EXPECT_EQ(keys([](auto& r) {
              r.set_min_mod_revision(3);
              r.set_max_create_revision(3);
            }),
            "ab");
}

TEST(MvccStore, badRangesAreRefusedWithEtcdsMessages) {
  Harness h;
  EXPECT_EQ(h.kvs(""), Strings{"error: " + std::string(kEmptyKeyMessage)});
  auto request = range_request("a");
  request.set_sort_order(static_cast<etcdserverpb::RangeRequest::SortOrder>(7));
  EXPECT_EQ(h.kvs(request), Strings{"error: " + std::string(kInvalidSortMessage)});
}

TEST(MvccStore, putReturnsThePreviousPairWhenAsked) {
  Harness h;
  auto request = put_request("a", "1");
  request.set_prev_kv(true);
  EXPECT_FALSE(h.put(request).value().has_prev_kv());
  request.set_value("2");
  auto second = h.put(request).value();
  ASSERT_TRUE(second.has_prev_kv());
  EXPECT_EQ(second.prev_kv().value(), "1");
  EXPECT_EQ(second.prev_kv().mod_revision(), 2);
  EXPECT_FALSE(h.put("a", "3").value().has_prev_kv());
}

TEST(MvccStore, putKeepsTheLeaseAndIgnoreFlagsKeepWhatIsThere) {
  Harness h;
  test::grant(h, 77).value();
  test::grant(h, 88).value();
  h.put(put_request("a", "1", 77)).value();
  EXPECT_EQ(only_kv(h.range(range_request("a"))).lease(), 77);

  auto keep_value = put_request("a", "", 88);
  keep_value.set_ignore_value(true);
  h.put(keep_value).value();
  auto kv = only_kv(h.range(range_request("a")));
  EXPECT_EQ(kv.value(), "1");
  EXPECT_EQ(kv.lease(), 88);
  EXPECT_EQ(kv.version(), 2);

  auto keep_lease = put_request("a", "2");
  keep_lease.set_ignore_lease(true);
  h.put(keep_lease).value();
  kv = only_kv(h.range(range_request("a")));
  EXPECT_EQ(kv.value(), "2");
  EXPECT_EQ(kv.lease(), 88);
}

TEST(MvccStore, putErrorsMatchEtcd) {
  Harness h;
  auto message = [&](const etcdserverpb::PutRequest& request) {
    auto response = h.put(request);
    return response.is_ok() ? std::string("ok") : response.status().message();
  };
  EXPECT_EQ(message(put_request("", "v")), kEmptyKeyMessage);
  auto ignore_value = put_request("missing", "");
  ignore_value.set_ignore_value(true);
  EXPECT_EQ(message(ignore_value), kKeyNotFoundMessage);
  auto ignore_lease = put_request("missing", "v");
  ignore_lease.set_ignore_lease(true);
  EXPECT_EQ(message(ignore_lease), kKeyNotFoundMessage);
  ignore_value.set_value("v");
  EXPECT_EQ(message(ignore_value), kValueProvidedMessage);
  ignore_lease.set_lease(5);
  EXPECT_EQ(message(ignore_lease), kLeaseProvidedMessage);
  EXPECT_EQ(h.store.revision(), 1);  // nothing took effect
  EXPECT_EQ(h.store.applied_index(), 5U);
}

TEST(MvccStore, deleteRangeCountsAndReturnsWhatItDeleted) {
  Harness h;
  for (const char* key : {"a", "b1", "b2", "c"}) h.put(key, key).value();
  auto request = test::delete_request("b", "c");
  request.set_prev_kv(true);
  auto response = h.del(request).value();
  EXPECT_EQ(response.deleted(), 2);
  ASSERT_EQ(response.prev_kvs_size(), 2);
  EXPECT_EQ(response.prev_kvs(0).key(), "b1");
  EXPECT_EQ(response.prev_kvs(1).value(), "b2");
  EXPECT_EQ(h.kvs("a", std::string("\0", 1)), (Strings{"a=a", "c=c"}));
  // Both deletes share one revision.
  EXPECT_EQ(h.store.revision(), 6);
  EXPECT_EQ(h.del(test::delete_request("")).status().message(), kEmptyKeyMessage);
  EXPECT_EQ(h.del(test::delete_request("a", std::string("\0", 1))).value().deleted(), 2);
}

TEST(MvccStore, compactionRefusesOlderReadsAndKeepsNewerOnesExact) {
  Harness h;
  h.put("a", "1").value();                   // 2
  h.put("b", "1").value();                   // 3
  h.put("a", "2").value();                   // 4
  h.del(test::delete_request("b")).value();  // 5
  h.put("a", "3").value();                   // 6
  h.put("c", "1").value();                   // 7
  std::vector<Strings> before;
  for (int64_t revision = 4; revision <= 7; ++revision) before.push_back(h.kvs("a", "z", revision));
  EXPECT_EQ(h.store.index().record_count(), 6U);

  auto compacted = h.compact(5);
  ASSERT_TRUE(compacted.is_ok()) << compacted.status().to_string();
  EXPECT_EQ(compacted.value().header().revision(), 7);
  EXPECT_EQ(h.store.compact_revision(), 5);
  EXPECT_EQ(h.kvs("a", "z", 4), Strings{"error: " + std::string(kCompactedMessage)});
  for (int64_t revision = 5; revision <= 7; ++revision)
    EXPECT_EQ(h.kvs("a", "z", revision), before[revision - 4]);
  // a keeps its version at 5 (rev 4) and 6; b is gone entirely; c untouched.
  EXPECT_EQ(h.store.index().record_count(), 3U);
  EXPECT_EQ(h.store.index().key_count(), 2U);
  EXPECT_EQ(only_kv(h.range(range_request("a", "", 5))).version(), 2);

  EXPECT_EQ(h.compact(5).status().message(), kCompactedMessage);
  EXPECT_EQ(h.compact(4).status().message(), kCompactedMessage);
  EXPECT_EQ(h.compact(8).status().message(), kFutureRevisionMessage);
  EXPECT_TRUE(h.compact(7).is_ok());
  EXPECT_EQ(h.kvs("a", "z"), (Strings{"a=3", "c=1"}));
  // Versions and create revisions survive their history being compacted away.
  h.put("a", "4").value();
  auto kv = only_kv(h.range(range_request("a")));
  EXPECT_EQ(kv.version(), 4);
  EXPECT_EQ(kv.create_revision(), 2);
}

TEST(MvccStore, garbageCommandsAreErrorsThatChangeNothing) {
  Harness h;
  h.put("a", "1").value();
  std::string before = h.store.snapshot();
  for (std::string bytes : {std::string("\xff\xff\xff"), std::string("\x0a\x05", 2), std::string("x"),
                            std::string("\x08\x01", 2)}) {
    auto result = decode_result<etcdserverpb::PutResponse>(h.apply_bytes(bytes));
    EXPECT_FALSE(result.is_ok());
  }
  EXPECT_EQ(h.store.snapshot().substr(20), before.substr(20));  // only the applied index moved
  EXPECT_EQ(h.kvs("a"), Strings{"a=1"});
  // Random bytes: whatever they decode to, the answer is a result, never a crash.
  Random random(7);
  for (int i = 0; i < 5000; ++i) {
    std::string bytes(random.uniform(40), '\0');
    for (char& c : bytes) c = static_cast<char>(random.next());
    synodpb::CommandResult result;
    EXPECT_TRUE(result.ParseFromString(h.apply_bytes(bytes)));
  }
  // An empty command (a leader's no-op) answers nothing.
  EXPECT_EQ(h.apply_bytes(""), "");
}

}  // namespace
}  // namespace synod::kv
