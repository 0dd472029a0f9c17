// Snapshots streamed in chunks: a follower's receiver rebuilds the leader's file exactly, refuses chunks
// out of order, and refuses a damaged stream at finish(); a crash mid-stream leaves only a temporary
// file that the next open removes.
#include <gtest/gtest.h>

#include "base/bytes.h"
#include "base/crc32c.h"
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

// A snapshot written as it is encoded: the file is the slices in order, whatever their sizes, and
// reads back as the same snapshot; dropped before commit(), nothing is left, not even a temporary file.
TEST_F(SnapshotStream, aFileWrittenSliceBySliceHoldsTheSlicesInOrder) {
  SnapshotMeta meta{900, 8, ConfState{{1, 2, 3}}};
  std::string expected;
  {
    std::unique_ptr<SnapshotFileWriter> abandoned = SnapshotFileWriter::start(follower, meta).value();
    ASSERT_TRUE(abandoned->append("half of a snapshot").is_ok());
  }
  EXPECT_TRUE(follower_disk.list("/snap").value().empty()) << "an abandoned file is removed";

  std::unique_ptr<SnapshotFileWriter> writer = SnapshotFileWriter::start(follower, meta).value();
  for (int i = 0; i < 200; ++i) {
    // Slices from empty to 64 KiB: more than 4 MiB in all, so some are synced on the way.
    std::string slice(static_cast<size_t>(i * 7919 % 65536), static_cast<char>('a' + i % 26));
    expected += slice;
    ASSERT_TRUE(writer->append(slice).is_ok());
  }
  ASSERT_GT(expected.size(), size_t{4} << 20U);
  ASSERT_TRUE(writer->commit().is_ok());
  Snapshot loaded = follower.load(meta).value();
  EXPECT_EQ(loaded.meta, meta);
  EXPECT_EQ(loaded.data, expected);
  EXPECT_EQ(follower_disk.list("/snap").value().size(), 1U) << "no temporary file is left";
  // The same bytes as a whole snapshot encodes to.
  std::string file = follower.read_chunk(meta, 0, follower.file_size(meta).value()).value();
  EXPECT_EQ(file, encode_snapshot_file(Snapshot{meta, expected}));
}

// Format 1 (the data's length before it) is still read; a format 2 file whose trailing length does not
// match what it holds is refused, even with a good checksum.
TEST(SnapshotFile, theFirstFormatIsStillReadAndABadLengthIsRefused) {
  Snapshot snapshot{SnapshotMeta{12, 3, ConfState{{1, 2, 3}}}, "the state"};
  ByteWriter v1;
  v1.put_bytes("SYNODSNP");
  v1.put_fixed32(1);
  v1.put_fixed64(12);
  v1.put_fixed64(3);
  v1.put_varint(3);
  for (uint64_t voter : {1, 2, 3}) v1.put_varint(voter);
  v1.put_fixed64(snapshot.data.size());
  v1.put_bytes(snapshot.data);
  uint32_t crc = crc32c(v1.data());
  v1.put_fixed32(crc);
  Result<Snapshot> decoded = decode_snapshot_file(v1.data());
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
  EXPECT_EQ(decoded.value(), snapshot);

  std::string v2 = encode_snapshot_file(snapshot);
  ASSERT_TRUE(decode_snapshot_file(v2).is_ok());
  // The data length (the 8 bytes before the checksum) one too large, the checksum made good again.
  std::string body = v2.substr(0, v2.size() - 4);
  body[body.size() - 8] = static_cast<char>(body[body.size() - 8] + 1);
  ByteWriter forged;
  forged.put_bytes(body);
  forged.put_fixed32(crc32c(body));
  Result<Snapshot> refused = decode_snapshot_file(forged.data());
  ASSERT_FALSE(refused.is_ok());
  EXPECT_EQ(refused.status().code(), ErrorCode::kCorruption);
  EXPECT_NE(refused.status().message().find("length"), std::string::npos) << refused.status().message();
  // Too short to hold a length at all.
  ByteWriter stub;
  stub.put_bytes(v2.substr(0, 8 + 4 + 8 + 8 + 4));
  stub.put_fixed32(crc32c(stub.data()));
  EXPECT_EQ(decode_snapshot_file(stub.data()).status().code(), ErrorCode::kCorruption);
}

}  // namespace
}  // namespace synod::storage
