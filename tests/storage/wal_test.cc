// The write-ahead log on the real file system: what is appended comes back after a reopen, overwrites
// and snapshots are replayed, segments rotate and are released, a torn tail is truncated with a note,
// and damage anywhere else stops recovery with an error naming the file and offset.
#include "storage/wal.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include <gtest/gtest.h>

#include "storage/posix_file_system.h"
#include "storage/segment.h"

namespace synod::storage {
namespace {

class WalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/synod-wal-test-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    root_ = pattern;
    options_.dir = root_ + "/wal";
    options_.cluster_id = 7;
    options_.node_id = 2;
    options_.segment_bytes = 4096;
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  std::unique_ptr<Wal> open(WalContents& contents) {
    Result<std::unique_ptr<Wal>> wal = Wal::open(fs_, options_, contents);
    EXPECT_TRUE(wal.is_ok()) << wal.status().to_string();
    return wal.is_ok() ? std::move(wal).value() : nullptr;
  }
  Status open_status() {
    WalContents contents;
    Result<std::unique_ptr<Wal>> wal = Wal::open(fs_, options_, contents);
    return wal.is_ok() ? Status::ok() : wal.status();
  }
  std::vector<std::string> segments() {
    std::vector<std::string> names;
    std::vector<std::string> listed = fs_.list(options_.dir).value();
    for (const std::string& name : listed) {
      if (parse_segment_name(name)) names.push_back(name);
    }
    return names;
  }
  std::string segment_path(size_t i) { return options_.dir + "/" + segments().at(i); }

  static std::vector<Entry> entries(Index from, Index to, Term term, size_t bytes = 10) {
    std::vector<Entry> out;
    for (Index i = from; i <= to; ++i) {
      out.push_back(Entry{term, i, EntryType::kNormal, std::string(bytes, static_cast<char>('a' + i % 26))});
    }
    return out;
  }

  PosixFileSystem fs_;
  std::string root_;
  WalOptions options_;
};

TEST_F(WalTest, whatWasAppendedComesBackAfterAReopen) {
  {
    WalContents contents;
    std::unique_ptr<Wal> wal = open(contents);
    ASSERT_NE(wal, nullptr);
    EXPECT_TRUE(contents.entries.empty());
    ASSERT_TRUE(wal->append(entries(1, 5, 1), HardState{1, 2, 3}).is_ok());
    ASSERT_TRUE(wal->append({}, HardState{2, 0, 5}).is_ok());
  }
  WalContents contents;
  std::unique_ptr<Wal> wal = open(contents);
  ASSERT_NE(wal, nullptr);
  EXPECT_EQ(contents.entries, entries(1, 5, 1));
  EXPECT_EQ(contents.hard_state, (HardState{2, 0, 5}));
  EXPECT_TRUE(contents.notes.empty());
  EXPECT_EQ(wal->last_index(), 5U);
}

TEST_F(WalTest, anOverwrittenSuffixStaysOverwritten) {
  {
    WalContents contents;
    std::unique_ptr<Wal> wal = open(contents);
    ASSERT_TRUE(wal->append(entries(1, 6, 1), std::nullopt).is_ok());
    ASSERT_TRUE(wal->append(entries(4, 5, 2), HardState{2, 1, 3}).is_ok());
    EXPECT_EQ(wal->last_index(), 5U);
  }
  WalContents contents;
  std::unique_ptr<Wal> wal = open(contents);
  std::vector<Entry> expected = entries(1, 3, 1);
  for (const Entry& e : entries(4, 5, 2)) expected.push_back(e);
  EXPECT_EQ(contents.entries, expected);
  Result<std::vector<Entry>> read = wal->read(3, 6);
  ASSERT_TRUE(read.is_ok()) << read.status().to_string();
  EXPECT_EQ(read.value(), std::vector<Entry>(expected.begin() + 2, expected.end()));
}

TEST_F(WalTest, segmentsRotateAndReadsSpanThem) {
  WalContents contents;
  std::unique_ptr<Wal> wal = open(contents);
  for (Index i = 1; i <= 60; i += 3)
    ASSERT_TRUE(wal->append(entries(i, i + 2, 1, 200), HardState{1, 1, i}).is_ok());
  EXPECT_GT(segments().size(), 3U);
  Result<std::vector<Entry>> read = wal->read(1, 61);
  ASSERT_TRUE(read.is_ok()) << read.status().to_string();
  EXPECT_EQ(read.value(), entries(1, 60, 1, 200));
  wal.reset();
  std::unique_ptr<Wal> reopened = open(contents);
  EXPECT_EQ(contents.entries, entries(1, 60, 1, 200));
  EXPECT_EQ(contents.hard_state.commit, 58U);
}

TEST_F(WalTest, aSnapshotMarkerLetsOldSegmentsGo) {
  WalContents contents;
  std::unique_ptr<Wal> wal = open(contents);
  for (Index i = 1; i <= 60; i += 3)
    ASSERT_TRUE(wal->append(entries(i, i + 2, 1, 200), HardState{1, 1, i}).is_ok());
  size_t before = segments().size();
  ASSERT_TRUE(wal->append_snapshot(SnapshotRecord{50, 1}).is_ok());
  ASSERT_TRUE(wal->release_through(50).is_ok());
  EXPECT_LT(segments().size(), before);
  EXPECT_LE(wal->first_index(), 51U);
  wal.reset();
  std::unique_ptr<Wal> reopened = open(contents);
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(contents.snapshot, (SnapshotRecord{50, 1}));
  ASSERT_FALSE(contents.entries.empty());
  EXPECT_LE(contents.entries.front().index, 51U) << "entries after the snapshot are all there";
  EXPECT_GT(contents.entries.front().index, 1U) << "released segments are gone";
  EXPECT_EQ(contents.entries.back(), entries(60, 60, 1, 200).back());
  EXPECT_EQ(contents.hard_state.commit, 58U) << "the hard state survives the release of its segment";
}

TEST_F(WalTest, anInstalledSnapshotReplacesTheLog) {
  WalContents contents;
  std::unique_ptr<Wal> wal = open(contents);
  ASSERT_TRUE(wal->append(entries(1, 5, 1), std::nullopt).is_ok());
  ASSERT_TRUE(wal->append_snapshot(SnapshotRecord{100, 4}).is_ok());
  ASSERT_TRUE(wal->append(entries(101, 102, 4), std::nullopt).is_ok());
  wal.reset();
  std::unique_ptr<Wal> reopened = open(contents);
  EXPECT_EQ(contents.snapshot.index, 100U);
  EXPECT_EQ(contents.entries, entries(101, 102, 4));
}

TEST_F(WalTest, aTornTailIsTruncatedWithANoteAndTheLogGoesOn) {
  {
    WalContents contents;
    std::unique_ptr<Wal> wal = open(contents);
    ASSERT_TRUE(wal->append(entries(1, 3, 1), std::nullopt).is_ok());
  }
  // Half a record where the next batch would go: the write the crash interrupted.
  std::string last = segment_path(segments().size() - 1);
  std::unique_ptr<File> file = fs_.open(last, OpenMode::kOpenExisting).value();
  std::string garbage = "\x40\x00\x00\x00\x12\x34\x56\x78\x02partial";
  uint64_t end = 0;
  {
    WalContents contents;
    std::unique_ptr<Wal> probe = open(contents);
    ASSERT_NE(probe, nullptr);
  }
  // Find the end of the records: the first all-zero 8 bytes after the header.
  std::string data = file->read_at(0, 4096).value();
  for (end = kSegmentHeaderBytes; end + 8 <= data.size(); end += 8) {
    if (data.substr(end, 8) == std::string(8, '\0')) break;
  }
  ASSERT_TRUE(file->write_at(end, garbage).is_ok());
  file.reset();

  WalContents contents;
  std::unique_ptr<Wal> wal = open(contents);
  ASSERT_NE(wal, nullptr);
  EXPECT_EQ(contents.entries, entries(1, 3, 1));
  ASSERT_EQ(contents.notes.size(), 1U);
  EXPECT_NE(contents.notes[0].find("torn tail of " + std::to_string(garbage.size()) + " bytes"),
            std::string::npos)
      << contents.notes[0];
  ASSERT_TRUE(wal->append(entries(4, 4, 1), std::nullopt).is_ok());
  wal.reset();
  std::unique_ptr<Wal> again = open(contents);
  EXPECT_EQ(contents.entries, entries(1, 4, 1));
  EXPECT_TRUE(contents.notes.empty()) << "the residue is gone for good";
}

TEST_F(WalTest, damageToSyncedDataInTheLastSegmentIsCorruptionNotATornTail) {
  {
    WalContents contents;
    std::unique_ptr<Wal> wal = open(contents);
    ASSERT_TRUE(wal->append(entries(1, 2, 1), std::nullopt).is_ok());
    ASSERT_TRUE(
        wal->append(entries(3, 4, 1), std::nullopt).is_ok());  // its batch record vouches for the first
  }
  std::string last = segment_path(segments().size() - 1);
  std::unique_ptr<File> file = fs_.open(last, OpenMode::kOpenExisting).value();
  std::string data = file->read_at(0, 4096).value();
  size_t at = data.find(std::string(10, 'b'));  // entry 1's payload
  ASSERT_NE(at, std::string::npos);
  ASSERT_TRUE(file->write_at(at, "X").is_ok());
  file.reset();
  Status status = open_status();
  ASSERT_EQ(status.code(), ErrorCode::kCorruption) << status.to_string();
  EXPECT_NE(status.message().find(last), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("shows it had been synced"), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("remove this member's data directory"), std::string::npos);
}

TEST_F(WalTest, damageInASealedSegmentIsCorruption) {
  {
    WalContents contents;
    std::unique_ptr<Wal> wal = open(contents);
    for (Index i = 1; i <= 60; i += 3)
      ASSERT_TRUE(wal->append(entries(i, i + 2, 1, 200), std::nullopt).is_ok());
  }
  ASSERT_GT(segments().size(), 2U);
  std::string first = segment_path(0);
  std::unique_ptr<File> file = fs_.open(first, OpenMode::kOpenExisting).value();
  ASSERT_TRUE(file->write_at(kSegmentHeaderBytes + 3, "\x7f").is_ok());
  file.reset();
  Status status = open_status();
  ASSERT_EQ(status.code(), ErrorCode::kCorruption) << status.to_string();
  EXPECT_NE(status.message().find(first + " at offset " + std::to_string(kSegmentHeaderBytes)),
            std::string::npos)
      << status.message();
}

TEST_F(WalTest, aMissingSegmentIsCorruption) {
  {
    WalContents contents;
    std::unique_ptr<Wal> wal = open(contents);
    for (Index i = 1; i <= 90; i += 3)
      ASSERT_TRUE(wal->append(entries(i, i + 2, 1, 200), std::nullopt).is_ok());
  }
  ASSERT_GT(segments().size(), 3U);
  ASSERT_TRUE(fs_.remove(segment_path(1)).is_ok());
  Status status = open_status();
  ASSERT_EQ(status.code(), ErrorCode::kCorruption);
  EXPECT_NE(status.message().find("is missing"), std::string::npos) << status.message();
}

TEST_F(WalTest, aLogOfAnotherNodeOrClusterIsRefused) {
  {
    WalContents contents;
    std::unique_ptr<Wal> wal = open(contents);
    ASSERT_TRUE(wal->append(entries(1, 1, 1), std::nullopt).is_ok());
  }
  options_.node_id = 3;
  Status status = open_status();
  ASSERT_EQ(status.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(status.message().find("wrong data directory"), std::string::npos) << status.message();
}

TEST_F(WalTest, aSegmentLeftHalfStartedIsRemoved) {
  {
    WalContents contents;
    std::unique_ptr<Wal> wal = open(contents);
    ASSERT_TRUE(wal->append(entries(1, 1, 1), std::nullopt).is_ok());
  }
  std::string temp = options_.dir + "/" + segment_name(2, 2) + ".tmp";
  ASSERT_TRUE(fs_.open(temp, OpenMode::kCreateNew).value()->write_at(0, "junk").is_ok());
  WalContents contents;
  std::unique_ptr<Wal> wal = open(contents);
  ASSERT_NE(wal, nullptr);
  EXPECT_FALSE(fs_.exists(temp));
  ASSERT_EQ(contents.notes.size(), 1U);
  EXPECT_EQ(contents.entries, entries(1, 1, 1));
}

}  // namespace
}  // namespace synod::storage
