// The MVCC store's sliced snapshot (kv/mvcc_snapshot_writer.h): with random writes between the slices
// (new keys on both sides of the cursor, deletes, txns, lease grants and revokes), the bytes are exactly
// the one-shot snapshot of the moment it began; a compaction or a restore first finishes it; an
// abandoned writer leaves the store free for the next.
#include "kv/mvcc_snapshot_writer.h"

#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "base/random.h"
#include "kv/lease_test_util.h"
#include "kv/mvcc_store.h"
#include "kv/mvcc_test_util.h"

namespace synod::kv {
namespace {

using etcdserverpb::Compare;
using test::Harness;
using test::op;
using test::put_request;
using test::txn_request;

// Forty keys, so that writes during a snapshot both overwrite keys it holds and create new ones before
// and after its cursor.
std::string random_key(Random& random) {
  return "k" + std::to_string(10 + random.uniform(40));
}

// Writes that change the store without dropping history: everything but a compaction.
void random_writes(Harness& h, Random& random, int count) {
  for (int i = 0; i < count; ++i) {
    std::string key = random_key(random);
    switch (random.uniform(8)) {
      case 0:
      case 1:
      case 2: {
        int64_t lease = static_cast<int64_t>(random.uniform(3));
        if (lease != 0 && !h.store.leases().contains(lease)) lease = 0;
        ASSERT_TRUE(h.put(put_request(key, std::string(random.uniform(40), 'v'), lease)).is_ok());
        break;
      }
      case 3:
        ASSERT_TRUE(h.del(test::delete_request(key, random.chance(1, 2) ? "" : random_key(random))).is_ok());
        break;
      case 4:
      case 5: {
        std::string other = random_key(random);
        auto request = txn_request({test::compare_version(key, Compare::GREATER, 1)},
                                   {op(put_request(other, "t")), op(put_request(other + "x", "u"))},
                                   {op(test::delete_request(other))});
        ASSERT_TRUE(h.txn(request).is_ok());
        break;
      }
      case 6: {
        int64_t lease = 1 + static_cast<int64_t>(random.uniform(2));
        if (h.store.leases().contains(lease)) {
          ASSERT_TRUE(test::revoke(h, lease).is_ok());  // deletes its keys in one revision
        } else {
          ASSERT_TRUE(test::grant(h, lease).is_ok());
        }
        break;
      }
      case 7:
        // A put that fails half way through a txn is rolled back: a key it created goes again.
        (void)h.txn(txn_request({}, {op(put_request(key + "new", "n")), op(put_request(key, "x", 99))}));
        break;
    }
  }
}

Harness& filled(Harness& h, Random& random) {
  EXPECT_TRUE(test::grant(h, 1).is_ok());
  random_writes(h, random, 300);
  return h;
}

TEST(MvccSnapshotWriter, slicesWithWritesBetweenThemGiveTheSnapshotOfTheStart) {
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    Random random(seed);
    Harness h;
    filled(h, random);
    std::string expected = h.store.snapshot();
    Index index = h.store.applied_index();
    int64_t revision = h.store.revision();

    std::unique_ptr<SnapshotWriter> writer = h.store.begin_snapshot();
    // Drained after every slice, as the node hands each one to storage.
    std::string sliced;
    int slices = 1;
    while (!writer->write_some(1 + random.uniform(64))) {
      sliced += writer->drain();
      random_writes(h, random, 1 + static_cast<int>(random.uniform(3)));
      ++slices;
    }
    sliced += writer->drain();
    EXPECT_TRUE(writer->drain().empty()) << "nothing is handed over twice";
    EXPECT_GT(slices, 20);
    EXPECT_GT(h.store.revision(), revision) << "the writes went on";
    EXPECT_EQ(writer->index(), index);
    EXPECT_EQ(sliced, expected);

    // And it restores to the store as it was.
    MvccStore restored;
    ASSERT_TRUE(restored.restore(sliced).is_ok());
    EXPECT_EQ(restored.revision(), revision);
    EXPECT_EQ(restored.snapshot(), expected);
  }
}

TEST(MvccSnapshotWriter, aWholeBudgetIsOneSliceAndEqualsTheOneShotSnapshot) {
  Random random(7);
  Harness h;
  filled(h, random);
  std::unique_ptr<SnapshotWriter> writer = h.store.begin_snapshot();
  EXPECT_TRUE(writer->write_some(SIZE_MAX));
  EXPECT_EQ(writer->drain(), h.store.snapshot());
  // An empty store too.
  Harness empty;
  std::unique_ptr<SnapshotWriter> none = empty.store.begin_snapshot();
  EXPECT_TRUE(none->write_some(1));
  EXPECT_EQ(none->drain(), empty.store.snapshot());
}

TEST(MvccSnapshotWriter, aCompactionFinishesTheSnapshotInProgressFirst) {
  Random random(11);
  Harness h;
  filled(h, random);
  std::string expected = h.store.snapshot();
  std::unique_ptr<SnapshotWriter> writer = h.store.begin_snapshot();
  ASSERT_FALSE(writer->write_some(16));
  random_writes(h, random, 5);
  ASSERT_TRUE(h.compact(h.store.revision()).is_ok());
  // The compaction dropped records the snapshot holds: it was finished before them.
  auto* mvcc_writer = dynamic_cast<MvccSnapshotWriter*>(writer.get());
  ASSERT_NE(mvcc_writer, nullptr);
  EXPECT_TRUE(mvcc_writer->done());
  EXPECT_TRUE(writer->write_some(16));
  EXPECT_EQ(writer->drain(), expected);
  EXPECT_NE(h.store.snapshot(), expected);
}

TEST(MvccSnapshotWriter, aRestoreFinishesTheSnapshotInProgressFirst) {
  Random random(13);
  Harness h;
  filled(h, random);
  std::string expected = h.store.snapshot();
  Harness other;
  random_writes(other, random, 50);
  std::unique_ptr<SnapshotWriter> writer = h.store.begin_snapshot();
  ASSERT_FALSE(writer->write_some(16));
  ASSERT_TRUE(h.store.restore(other.store.snapshot()).is_ok());
  EXPECT_TRUE(writer->write_some(16));
  EXPECT_EQ(writer->drain(), expected);
  EXPECT_EQ(h.store.snapshot(), other.store.snapshot());
}

TEST(MvccSnapshotWriter, anAbandonedWriterLeavesTheStoreFreeForTheNext) {
  Random random(17);
  Harness h;
  filled(h, random);
  {
    std::unique_ptr<SnapshotWriter> abandoned = h.store.begin_snapshot();
    ASSERT_FALSE(abandoned->write_some(16));
  }
  random_writes(h, random, 5);
  std::string expected = h.store.snapshot();
  std::unique_ptr<SnapshotWriter> writer = h.store.begin_snapshot();
  while (!writer->write_some(100)) random_writes(h, random, 1);
  EXPECT_EQ(writer->drain(), expected);
  // The compaction after it has nothing left to finish.
  writer.reset();
  EXPECT_TRUE(h.compact(h.store.revision()).is_ok());
}

TEST(MvccSnapshotWriter, aFinishedWriterOutlivesItsStore) {
  Random random(19);
  std::unique_ptr<SnapshotWriter> writer;
  std::string expected;
  {
    Harness h;
    filled(h, random);
    expected = h.store.snapshot();
    writer = h.store.begin_snapshot();
    ASSERT_TRUE(writer->write_some(SIZE_MAX));
  }
  EXPECT_TRUE(writer->write_some(1));
  EXPECT_EQ(writer->drain(), expected);
}

}  // namespace
}  // namespace synod::kv
