// Transactions in the MVCC store: compares on every target with every operator, missing keys and
// ranges in compares, branches, one revision for all writes, reads that see earlier writes of the same
// txn, nested txns, etcd's duplicate-key and too-many-operations rules, and all-or-nothing failure.
#include <gtest/gtest.h>

#include "kv/lease_test_util.h"
#include "kv/mvcc_errors.h"
#include "kv/mvcc_store.h"
#include "kv/mvcc_test_util.h"

namespace synod::kv {
namespace {

using etcdserverpb::Compare;
using test::compare_value;
using test::compare_version;
using test::delete_request;
using test::Harness;
using test::op;
using test::put_request;
using test::range_request;
using test::txn_request;
using Strings = std::vector<std::string>;

Compare compare(const std::string& key, Compare::CompareTarget target, Compare::CompareResult result,
                int64_t number) {
  Compare out;
  out.set_key(key);
  out.set_target(target);
  out.set_result(result);
  switch (target) {
    case Compare::VERSION: out.set_version(number); break;
    case Compare::CREATE: out.set_create_revision(number); break;
    case Compare::MOD: out.set_mod_revision(number); break;
    case Compare::LEASE: out.set_lease(number); break;
    default: break;
  }
  return out;
}

// Whether a txn with just `c` takes its success branch.
bool holds(Harness& h, const Compare& c) {
  auto response = h.txn(txn_request({c}, {}));
  EXPECT_TRUE(response.is_ok()) << response.status().to_string();
  return response.is_ok() && response.value().succeeded();
}

TEST(MvccTxn, comparesEveryTargetWithEveryOperator) {
  Harness h;
  test::grant(h, 9).value();                // leases leave the revision alone
  h.put(put_request("k", "m", 9)).value();  // rev 2
  h.put(put_request("k", "m", 9)).value();  // rev 3: version 2, create 2, mod 3, lease 9
  struct Case {
    Compare::CompareTarget target;
    int64_t actual;
  };
  for (Case c : {Case{Compare::VERSION, 2}, Case{Compare::CREATE, 2}, Case{Compare::MOD, 3},
                 Case{Compare::LEASE, 9}}) {
    SCOPED_TRACE(Compare::CompareTarget_Name(c.target));
    EXPECT_TRUE(holds(h, compare("k", c.target, Compare::EQUAL, c.actual)));
    EXPECT_FALSE(holds(h, compare("k", c.target, Compare::EQUAL, c.actual + 1)));
    EXPECT_TRUE(holds(h, compare("k", c.target, Compare::NOT_EQUAL, c.actual + 1)));
    EXPECT_FALSE(holds(h, compare("k", c.target, Compare::NOT_EQUAL, c.actual)));
    EXPECT_TRUE(holds(h, compare("k", c.target, Compare::GREATER, c.actual - 1)));
    EXPECT_FALSE(holds(h, compare("k", c.target, Compare::GREATER, c.actual)));
    EXPECT_TRUE(holds(h, compare("k", c.target, Compare::LESS, c.actual + 1)));
    EXPECT_FALSE(holds(h, compare("k", c.target, Compare::LESS, c.actual)));
  }
  EXPECT_TRUE(holds(h, compare_value("k", Compare::EQUAL, "m")));
  EXPECT_TRUE(holds(h, compare_value("k", Compare::GREATER, "a")));
  EXPECT_TRUE(holds(h, compare_value("k", Compare::LESS, "mm")));
  EXPECT_TRUE(holds(h, compare_value("k", Compare::NOT_EQUAL, "n")));
  EXPECT_FALSE(holds(h, compare_value("k", Compare::EQUAL, "")));
  // Compares read nothing and change nothing.
  EXPECT_EQ(h.store.revision(), 3);
}

TEST(MvccTxn, aMissingKeyHasVersionZeroAndNoValue) {
  Harness h;
  EXPECT_TRUE(holds(h, compare_version("nope", Compare::EQUAL, 0)));
  EXPECT_TRUE(holds(h, compare("nope", Compare::CREATE, Compare::EQUAL, 0)));
  // No value compare holds on a missing key, not even "not equal".
  EXPECT_FALSE(holds(h, compare_value("nope", Compare::EQUAL, "")));
  EXPECT_FALSE(holds(h, compare_value("nope", Compare::NOT_EQUAL, "x")));
}

TEST(MvccTxn, aRangeCompareMustHoldForEveryKey) {
  Harness h;
  h.put("a1", "x").value();
  h.put("a2", "x").value();
  auto over_range = [](Compare c) {
    c.set_range_end("a3");
    return c;
  };
  EXPECT_TRUE(holds(h, over_range(compare_value("a1", Compare::EQUAL, "x"))));
  h.put("a2", "y").value();
  EXPECT_FALSE(holds(h, over_range(compare_value("a1", Compare::EQUAL, "x"))));
  EXPECT_TRUE(holds(h, over_range(compare_version("a1", Compare::GREATER, 0))));
}

TEST(MvccTxn, theBranchRunsAndEveryWriteSharesOneRevision) {
  Harness h;
  h.put("a", "1").value();  // 2
  h.put("b", "1").value();  // 3
  auto request = txn_request({compare_value("a", Compare::EQUAL, "1")},
                             {op(put_request("a", "2")), op(delete_request("b")), op(put_request("c", "1")),
                              op(range_request("a", "z"))},
                             {op(put_request("failed", "1"))});
  auto response = h.txn(request);
  ASSERT_TRUE(response.is_ok()) << response.status().to_string();
  const auto& txn = response.value();
  EXPECT_TRUE(txn.succeeded());
  EXPECT_EQ(txn.header().revision(), 4);
  ASSERT_EQ(txn.responses_size(), 4);
  EXPECT_EQ(txn.responses(0).response_put().header().revision(), 4);
  EXPECT_EQ(txn.responses(1).response_delete_range().deleted(), 1);
  // The range sees the txn's own writes.
  const auto& range = txn.responses(3).response_range();
  ASSERT_EQ(range.kvs_size(), 2);
  EXPECT_EQ(range.kvs(0).value(), "2");
  EXPECT_EQ(range.kvs(1).key(), "c");
  EXPECT_EQ(range.header().revision(), 4);
  EXPECT_EQ(h.store.revision(), 4);
  EXPECT_EQ(h.kvs("a", "z"), (Strings{"a=2", "c=1"}));

  // The same txn again: the compare fails and the failure branch runs.
  auto again = h.txn(request).value();
  EXPECT_FALSE(again.succeeded());
  EXPECT_EQ(again.responses_size(), 1);
  EXPECT_EQ(h.kvs("failed"), Strings{"failed=1"});
  EXPECT_EQ(h.store.revision(), 5);
}

TEST(MvccTxn, aTxnThatOnlyReadsKeepsTheRevision) {
  Harness h;
  h.put("a", "1").value();
  auto response = h.txn(txn_request({}, {op(range_request("a")), op(delete_request("missing"))})).value();
  EXPECT_TRUE(response.succeeded());  // no compares: success
  EXPECT_EQ(response.header().revision(), 2);
  EXPECT_EQ(response.responses(0).response_range().kvs(0).value(), "1");
  EXPECT_EQ(h.store.revision(), 2);
}

TEST(MvccTxn, nestedTxnsChooseTheirBranchesBeforeAnyWrite) {
  Harness h;
  h.put("a", "1").value();  // 2
  // The outer txn writes a=2, but the nested compare still sees a=1 (etcd evaluates every compare on
  // the way against the state before the txn).
  auto nested = txn_request({compare_value("a", Compare::EQUAL, "1")}, {op(put_request("inner", "saw-1"))},
                            {op(put_request("inner", "saw-2"))});
  auto response = h.txn(txn_request({}, {op(put_request("a", "2")), op(nested)}));
  ASSERT_TRUE(response.is_ok()) << response.status().to_string();
  EXPECT_TRUE(response.value().responses(1).response_txn().succeeded());
  EXPECT_EQ(h.kvs("inner"), Strings{"inner=saw-1"});
  EXPECT_EQ(h.store.revision(), 3);
  EXPECT_EQ(h.range(range_request("inner")).value().kvs(0).mod_revision(), 3);
}

TEST(MvccTxn, duplicateWritesAreRefusedLikeEtcd) {
  Harness h;
  auto message = [&](const etcdserverpb::TxnRequest& request) {
    auto response = h.txn(request);
    return response.is_ok() ? std::string("ok") : response.status().message();
  };
  const std::string duplicate(kDuplicateKeyMessage);
  EXPECT_EQ(message(txn_request({}, {op(put_request("k", "1")), op(put_request("k", "2"))})), duplicate);
  EXPECT_EQ(message(txn_request({}, {op(put_request("k", "1")), op(delete_request("a", "z"))})), duplicate);
  EXPECT_EQ(message(txn_request({}, {op(delete_request("k")), op(put_request("k", "2"))})), duplicate);
  // A nested put against an outer delete, and against an outer put.
  auto nested_put = txn_request({}, {op(put_request("k", "1"))});
  EXPECT_EQ(message(txn_request({}, {op(delete_request("k")), op(nested_put)})), duplicate);
  EXPECT_EQ(message(txn_request({}, {op(put_request("k", "0")), op(nested_put)})), duplicate);
  // The success and failure branches of one nested txn never both run: the same key in both is fine.
  auto either = txn_request({}, {op(put_request("k", "1"))}, {op(put_request("k", "2"))});
  EXPECT_EQ(message(txn_request({}, {op(either)})), "ok");
  // ...and so are the outer txn's own branches.
  EXPECT_EQ(message(txn_request({}, {op(put_request("k", "1"))}, {op(put_request("k", "2"))})), "ok");
  // Two deletes of the same key are not writes that conflict.
  EXPECT_EQ(message(txn_request({}, {op(delete_request("k")), op(delete_request("a", "z"))})), "ok");
  EXPECT_EQ(h.store.revision(), 4);
}

TEST(MvccTxn, tooManyOperationsAndEmptyKeysAreRefused) {
  Harness h(MvccOptions{.max_txn_ops = 3});
  auto message = [&](const etcdserverpb::TxnRequest& request) {
    auto response = h.txn(request);
    return response.is_ok() ? std::string("ok") : response.status().message();
  };
  std::vector<etcdserverpb::RequestOp> four;
  for (const char* key : {"a", "b", "c", "d"}) four.push_back(op(put_request(key, "v")));
  EXPECT_EQ(message(txn_request({}, four)), kTooManyOpsMessage);
  four.pop_back();
  EXPECT_EQ(message(txn_request({}, four)), "ok");
  // A nested txn counts against what its parent left.
  auto nested = txn_request({}, {op(put_request("x", "v"))});
  EXPECT_EQ(message(txn_request({}, {op(put_request("p", "v")), op(put_request("q", "v")), op(nested)})),
            kTooManyOpsMessage);
  EXPECT_EQ(message(txn_request({compare_version("", Compare::EQUAL, 0)}, {})), kEmptyKeyMessage);
  EXPECT_EQ(message(txn_request({}, {op(put_request("", "v"))})), kEmptyKeyMessage);
  EXPECT_EQ(message(txn_request({}, {etcdserverpb::RequestOp()})), kKeyNotFoundMessage);
}

TEST(MvccTxn, aFailingTxnHasNoEffectAtAll) {
  Harness h;
  h.put("a", "1").value();
  auto ignore_value = put_request("missing", "");
  ignore_value.set_ignore_value(true);
  auto response = h.txn(txn_request({}, {op(put_request("a", "2")), op(ignore_value)}));
  EXPECT_EQ(response.status().message(), kKeyNotFoundMessage);
  // A range at a future revision fails the txn before anything is written.
  auto future = h.txn(txn_request({}, {op(put_request("a", "3")), op(range_request("a", "", 9))}));
  EXPECT_EQ(future.status().message(), kFutureRevisionMessage);
  EXPECT_EQ(h.kvs("a"), Strings{"a=1"});
  EXPECT_EQ(h.store.revision(), 2);
  EXPECT_EQ(h.store.index().record_count(), 1U);
  // Only the chosen branch is checked.
  auto unchosen = h.txn(txn_request({compare_value("a", Compare::EQUAL, "1")}, {op(put_request("b", "1"))},
                                    {op(range_request("a", "", 9))}));
  EXPECT_TRUE(unchosen.is_ok()) << unchosen.status().to_string();
}

TEST(MvccTxn, aRangeInsideATxnCanReadThePastButNotCompactedHistory) {
  Harness h;
  h.put("a", "1").value();  // 2
  h.put("a", "2").value();  // 3
  h.put("a", "3").value();  // 4
  ASSERT_TRUE(h.compact(3).is_ok());
  auto past = h.txn(txn_request({}, {op(range_request("a", "", 3))})).value();
  EXPECT_EQ(past.responses(0).response_range().kvs(0).value(), "2");
  EXPECT_EQ(h.txn(txn_request({}, {op(range_request("a", "", 2))})).status().message(), kCompactedMessage);
}

TEST(MvccTxn, deleteThenPutInOneTxnStartsANewIncarnation) {
  // etcd's duplicate rule lets a put in one nested txn precede a delete in a later one: both run at
  // the same revision, ordered by sub revision.
  Harness h;
  h.put("k", "old").value();  // 2
  auto response = h.txn(txn_request({}, {op(txn_request({}, {op(put_request("k", "new"))})),
                                         op(txn_request({}, {op(delete_request("k"))}))}));
  ASSERT_TRUE(response.is_ok()) << response.status().to_string();
  EXPECT_EQ(h.kvs("k"), Strings{});
  EXPECT_EQ(h.kvs("k", "", 2), Strings{"k=old"});
  h.put("k", "again").value();  // 4
  auto kv = h.range(range_request("k")).value().kvs(0);
  EXPECT_EQ(kv.version(), 1);
  EXPECT_EQ(kv.create_revision(), 4);
}

}  // namespace
}  // namespace synod::kv
