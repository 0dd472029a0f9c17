// MVCC store snapshots, and the store against a model: snapshots restore byte for byte and the
// restored store behaves the same; a snapshot that is truncated, random or internally inconsistent is
// refused and leaves the store as it was; and random workloads (puts, deletes, txns, compactions) read
// back exactly what a naive model that copies the whole map at every revision says, at every revision
// still held.
#include <map>

#include <gtest/gtest.h>

#include "base/bytes.h"
#include "base/random.h"
#include "kv/lease_test_util.h"
#include "kv/mvcc_errors.h"
#include "kv/mvcc_store.h"
#include "kv/mvcc_test_util.h"

namespace synod::kv {
namespace {

using etcdserverpb::Compare;
using test::Harness;
using test::op;
using test::put_request;
using test::range_request;
using test::txn_request;

struct ModelKv {
  std::string value;
  int64_t create = 0;
  int64_t mod = 0;
  int64_t version = 0;
  int64_t lease = 0;
};
using ModelState = std::map<std::string, ModelKv>;

// The naive model: the whole map after every revision.
class Model {
 public:
  Model() : states_(2) {}  // revisions 0 and 1 are empty
  int64_t revision() const { return static_cast<int64_t>(states_.size()) - 1; }
  const ModelState& at(int64_t revision) const { return states_[revision]; }

  void put(ModelState& next, int64_t revision, const std::string& key, const std::string& value,
           int64_t lease) {
    ModelKv& kv = next[key];
    kv.create = kv.version == 0 ? revision : kv.create;
    kv.version++;
    kv.mod = revision;
    kv.value = value;
    kv.lease = lease;
  }
  void commit(ModelState next, bool changed) {
    if (changed) states_.push_back(std::move(next));
  }

 private:
  std::vector<ModelState> states_;
};

std::string random_key(Random& random) {
  return std::string(1, static_cast<char>('a' + random.uniform(6)));
}

// Runs a random workload on `h` and the model, checking every answer as it goes.
void run_workload(Harness& h, Model& model, Random& random, int steps, int64_t& compacted) {
  // The leases the puts name must exist; grants leave the revision, and so the model, alone.
  for (int64_t lease : {1, 2}) {
    if (!h.store.leases().contains(lease)) test::grant(h, lease).value();
  }
  for (int step = 0; step < steps; ++step) {
    int64_t revision = model.revision();
    ModelState next = model.at(revision);
    switch (random.uniform(10)) {
      case 0:
      case 1:
      case 2:
      case 3: {
        std::string key = random_key(random);
        std::string value = std::to_string(random.uniform(4));
        int64_t lease = static_cast<int64_t>(random.uniform(3));
        ASSERT_TRUE(h.put(put_request(key, value, lease)).is_ok());
        model.put(next, revision + 1, key, value, lease);
        model.commit(next, true);
        break;
      }
      case 4:
      case 5: {
        std::string begin = random_key(random);
        std::string end = random.chance(1, 2) ? "" : random_key(random);
        auto response = h.del(test::delete_request(begin, end));
        ASSERT_TRUE(response.is_ok());
        size_t erased = 0;
        for (auto it = next.begin(); it != next.end();) {
          bool in = end.empty() ? it->first == begin : (it->first >= begin && it->first < end);
          it = in ? (++erased, next.erase(it)) : std::next(it);
        }
        EXPECT_EQ(response.value().deleted(), static_cast<int64_t>(erased));
        model.commit(next, erased > 0);
        break;
      }
      case 6:
      case 7:
      case 8: {
        // if key == value then put other=value' else delete other
        std::string key = random_key(random);
        std::string value = std::to_string(random.uniform(4));
        std::string other = random_key(random);
        std::string other_value = std::to_string(random.uniform(4));
        auto request = txn_request({test::compare_value(key, Compare::EQUAL, value)},
                                   {op(put_request(other, other_value))}, {op(test::delete_request(other))});
        auto response = h.txn(request);
        ASSERT_TRUE(response.is_ok()) << response.status().to_string();
        auto found = next.find(key);
        bool holds = found != next.end() && found->second.value == value;
        EXPECT_EQ(response.value().succeeded(), holds);
        if (holds) {
          model.put(next, revision + 1, other, other_value, 0);
          model.commit(next, true);
        } else {
          model.commit(next, next.erase(other) > 0);
        }
        break;
      }
      case 9: {
        if (!random.chance(1, 3)) break;
        int64_t target = static_cast<int64_t>(random.between(0, static_cast<uint64_t>(revision)));
        auto response = h.compact(target);
        if (target <= compacted) {
          EXPECT_EQ(response.status().message(), kCompactedMessage);
        } else {
          ASSERT_TRUE(response.is_ok());
          compacted = target;
        }
        break;
      }
    }
    ASSERT_EQ(h.store.revision(), model.revision());
  }
}

// Every revision still held reads back as the model says.
void check_against_model(const Harness& h, const Model& model, int64_t compacted) {
  for (int64_t revision = std::max<int64_t>(compacted, 1); revision <= model.revision(); ++revision) {
    auto response = h.range(range_request(std::string("\0", 1), std::string("\0", 1), revision));
    ASSERT_TRUE(response.is_ok()) << response.status().to_string();
    const ModelState& state = model.at(revision);
    ASSERT_EQ(response.value().kvs_size(), static_cast<int>(state.size())) << "at revision " << revision;
    int i = 0;
    for (const auto& [key, kv] : state) {
      const mvccpb::KeyValue& got = response.value().kvs(i++);
      EXPECT_EQ(got.key(), key);
      EXPECT_EQ(got.value(), kv.value);
      EXPECT_EQ(got.create_revision(), kv.create);
      EXPECT_EQ(got.mod_revision(), kv.mod);
      EXPECT_EQ(got.version(), kv.version);
      EXPECT_EQ(got.lease(), kv.lease);
    }
  }
  if (compacted > 1) {
    auto refused = h.range(range_request("a", "", compacted - 1));
    EXPECT_EQ(refused.status().message(), kCompactedMessage);
  }
}

TEST(MvccModel, randomWorkloadsReadBackLikeTheModelAtEveryRevision) {
  for (uint64_t seed = 1; seed <= 30; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    Random random(seed);
    Harness h;
    Model model;
    int64_t compacted = 0;
    run_workload(h, model, random, 300, compacted);
    check_against_model(h, model, compacted);
    if (HasFatalFailure()) return;
  }
}

TEST(MvccSnapshot, restoresByteForByteAndBehavesTheSame) {
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    Random random(seed);
    Harness h;
    Model model;
    int64_t compacted = 0;
    run_workload(h, model, random, 200, compacted);
    std::string snapshot = h.store.snapshot();

    Harness restored;
    ASSERT_TRUE(restored.store.restore(snapshot).is_ok());
    EXPECT_EQ(restored.store.snapshot(), snapshot);
    EXPECT_EQ(restored.store.applied_index(), h.store.applied_index());
    EXPECT_EQ(restored.store.revision(), h.store.revision());
    EXPECT_EQ(restored.store.compact_revision(), h.store.compact_revision());
    EXPECT_EQ(restored.store.approximate_bytes(), h.store.approximate_bytes());
    check_against_model(restored, model, compacted);

    // Both go on identically.
    Random again(seed * 1000);
    Model model_copy = model;
    int64_t compacted_copy = compacted;
    Random same(seed * 1000);
    run_workload(h, model, again, 100, compacted);
    run_workload(restored, model_copy, same, 100, compacted_copy);
    EXPECT_EQ(restored.store.snapshot(), h.store.snapshot());
  }
}

TEST(MvccSnapshot, anEmptyStoreRoundTrips) {
  MvccStore store;
  MvccStore restored;
  ASSERT_TRUE(restored.restore(store.snapshot()).is_ok());
  EXPECT_EQ(restored.snapshot(), store.snapshot());
  EXPECT_EQ(restored.revision(), 1);
}

TEST(MvccSnapshot, garbageIsRefusedAndChangesNothing) {
  Harness source;
  test::grant(source, 5).value();
  source.put(put_request("alpha", "1", 5)).value();
  source.put("beta", "2").value();
  source.put("alpha", "3").value();
  source.del(test::delete_request("beta")).value();
  std::string good = source.store.snapshot();

  Harness target;
  target.put("kept", "yes").value();
  const std::string before = target.store.snapshot();
  auto refused = [&](const std::string& data) {
    Status status = target.store.restore(data);
    EXPECT_EQ(target.store.snapshot(), before);
    return !status.is_ok() && status.code() == ErrorCode::kCorruption;
  };
  for (size_t length = 0; length < good.size(); ++length) {
    EXPECT_TRUE(refused(good.substr(0, length))) << "prefix of " << length << " bytes";
  }
  EXPECT_TRUE(refused(good + "x"));
  Random random(3);
  for (int i = 0; i < 3000; ++i) {
    std::string bytes = good;
    // Flip a few bytes: any flip the decoder cannot rule out must still give a consistent store.
    for (uint64_t flips = random.between(1, 3); flips > 0; --flips) {
      bytes[random.uniform(bytes.size())] = static_cast<char>(random.next());
    }
    MvccStore probe;
    if (probe.restore(bytes).is_ok()) {
      EXPECT_EQ(probe.snapshot(), bytes);  // what it accepted, it reproduces
      auto all = probe.range(range_request(std::string("\0", 1), std::string("\0", 1)));
      EXPECT_TRUE(all.is_ok());
    }
  }
}

// Snapshots put together by hand, each breaking one invariant the store relies on.
TEST(MvccSnapshot, inconsistentHistoriesAreRefused) {
  struct Record {
    uint64_t main, sub, create, version, lease;
    std::string value;
  };
  auto encode = [](uint64_t revision, uint64_t compact,
                   std::vector<std::pair<std::string, std::vector<Record>>> keys) {
    ByteWriter out;
    out.put_string("synod-mvcc-1");
    out.put_varint(9);  // applied index
    out.put_varint(revision);
    out.put_varint(compact);
    out.put_varint(keys.size());
    for (const auto& [key, records] : keys) {
      out.put_string(key);
      out.put_varint(records.size());
      for (const Record& r : records) {
        for (uint64_t field : {r.main, r.sub, r.create, r.version, r.lease}) out.put_varint(field);
        out.put_string(r.value);
      }
    }
    return std::move(out).take();
  };
  MvccStore store;
  EXPECT_TRUE(
      store.restore(encode(5, 0, {{"a", {{2, 0, 2, 1, 0, "x"}, {3, 0, 2, 2, 0, "y"}, {4, 0, 0, 0, 0, ""}}}}))
          .is_ok());
  std::vector<std::string> bad = {
      encode(5, 6, {}),                              // compacted beyond the revision
      encode(0, 0, {}),                              // revision 0
      encode(5, 0, {{"", {{2, 0, 2, 1, 0, "x"}}}}),  // empty key
      encode(5, 0, {{"b", {{2, 0, 2, 1, 0, "x"}}}, {"a", {{3, 0, 3, 1, 0, "x"}}}}),  // keys out of order
      encode(5, 0, {{"a", {}}}),                                                     // no records
      encode(5, 0, {{"a", {{6, 0, 6, 1, 0, "x"}}}}),                                 // beyond the revision
      encode(5, 0, {{"a", {{3, 0, 3, 1, 0, "x"}, {2, 0, 3, 2, 0, "y"}}}}),           // records out of order
      encode(5, 0, {{"a", {{2, 0, 0, 0, 0, ""}}}}),                         // starts with a tombstone
      encode(5, 0, {{"a", {{2, 0, 2, 1, 0, "x"}, {3, 0, 0, 0, 0, "z"}}}}),  // a tombstone with a value
      encode(5, 0, {{"a", {{2, 0, 2, 1, 0, "x"}, {3, 0, 2, 3, 0, "y"}}}}),  // a version skipped
      encode(5, 0, {{"a", {{2, 0, 2, 1, 0, "x"}, {3, 0, 3, 2, 0, "y"}}}}),  // create revision changed
      encode(5, 0, {{"a", {{2, 0, 4, 1, 0, "x"}}}}),                        // created after it was written
      encode(
          5, 0,
          {{"a", {{2, 0, 2, 1, 0, "x"}, {3, 0, 0, 0, 0, ""}, {4, 0, 2, 2, 0, "y"}}}}),  // after a tombstone
      encode(5, 0, {{"a", {{2, 0, 2, UINT64_MAX, 0, "x"}, {3, 0, 2, 0, 0, "y"}}}}),     // negative version
  };
  for (size_t i = 0; i < bad.size(); ++i) {
    Status status = store.restore(bad[i]);
    EXPECT_EQ(status.code(), ErrorCode::kCorruption) << "case " << i;
  }
}

}  // namespace
}  // namespace synod::kv
