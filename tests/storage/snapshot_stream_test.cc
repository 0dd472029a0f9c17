// Snapshots streamed in chunks: a follower's receiver rebuilds the leader's file exactly, refuses chunks
// out of order, and refuses a damaged stream at finish(); a crash mid-stream leaves only a temporary
// file that the next open removes.
#include <gtest/gtest.h>

#include "sim/faulty_file_system.h"
#include "storage/snapshot_store.h"

namespace synod::storage {
namespace {

Snapshot big_snapshot() {
  Snapshot snapshot;
  snapshot.meta = SnapshotMeta{500, 7, ConfState{{1, 2, 3}}};
  for (int i = 0; i < 20000; ++i) snapshot.data += static_cast<char>('a' + i % 23);
  return snapshot;
}

// A leader's and a follower's snapshot directories on their own disks, the leader holding a snapshot.
class SnapshotStream : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(leader.open(notes).is_ok());
    ASSERT_TRUE(follower.open(notes).is_ok());
    ASSERT_TRUE(leader.save(snapshot).is_ok());
  }

  sim::FaultyFileSystem leader_disk;
  sim::FaultyFileSystem follower_disk;
  SnapshotStore leader{leader_disk, "/snap"};
  SnapshotStore follower{follower_disk, "/snap"};
  std::vector<std::string> notes;
  Snapshot snapshot = big_snapshot();
};

TEST_F(SnapshotStream, chunksRebuildTheSnapshotExactly) {
  uint64_t size = leader.file_size(snapshot.meta).value();
  std::unique_ptr<SnapshotReceiver> receiver = SnapshotReceiver::start(follower, snapshot.meta).value();
  for (uint64_t offset = 0; offset < size; offset += 4096) {
    std::string chunk = leader.read_chunk(snapshot.meta, offset, 4096).value();
    ASSERT_TRUE(receiver->append(offset, chunk).is_ok());
  }
  EXPECT_EQ(receiver->received(), size);
  Result<Snapshot> received = receiver->finish();
  ASSERT_TRUE(received.is_ok()) << received.status().to_string();
  EXPECT_EQ(received.value(), snapshot);
  std::optional<Snapshot> loaded = follower.load_newest(notes).value();
  ASSERT_TRUE(loaded.has_value());
  EXPECT_EQ(*loaded, snapshot);
}

TEST_F(SnapshotStream, chunksOutOfOrderAndDamagedStreamsAreRefused) {
  uint64_t size = leader.file_size(snapshot.meta).value();

  std::unique_ptr<SnapshotReceiver> receiver = SnapshotReceiver::start(follower, snapshot.meta).value();
  EXPECT_FALSE(receiver->append(4096, "skipped ahead").is_ok());
  for (uint64_t offset = 0; offset < size; offset += 4096) {
    std::string chunk = leader.read_chunk(snapshot.meta, offset, 4096).value();
    if (offset == 8192) chunk[10] ^= 0x01;  // damaged on the way
    ASSERT_TRUE(receiver->append(offset, chunk).is_ok());
  }
  Result<Snapshot> received = receiver->finish();
  ASSERT_FALSE(received.is_ok());
  EXPECT_EQ(received.status().code(), ErrorCode::kCorruption);
  EXPECT_TRUE(follower.list().value().empty()) << "a damaged stream never becomes a snapshot";
  receiver.reset();

  // A crash mid-stream leaves a temporary file; the next open removes it.
  std::unique_ptr<SnapshotReceiver> partial = SnapshotReceiver::start(follower, snapshot.meta).value();
  ASSERT_TRUE(partial->append(0, leader.read_chunk(snapshot.meta, 0, 4096).value()).is_ok());
  partial.reset();
  notes.clear();
  SnapshotStore reopened(follower_disk, "/snap");
  ASSERT_TRUE(reopened.open(notes).is_ok());
  ASSERT_EQ(notes.size(), 1U);
  EXPECT_NE(notes[0].find("left unfinished"), std::string::npos);
  EXPECT_TRUE(follower_disk.list("/snap").value().empty());
}

}  // namespace
}  // namespace synod::storage
