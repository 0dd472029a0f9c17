// DiskStorage on the real file system: a node's durable state comes back after a reopen, snapshots
// are kept two deep with the log covering the older one, a damaged newest snapshot falls back to the
// older one, and a hole that cannot be covered stops recovery.
#include "storage/disk_storage.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <thread>

#include <gtest/gtest.h>

#include "storage/posix_file_system.h"

namespace synod::storage {
namespace {

class DiskStorageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/synod-disk-test-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    options_.dir = pattern;
    options_.cluster_id = 1;
    options_.node_id = 1;
    options_.segment_bytes = 4096;
  }
  void TearDown() override { std::filesystem::remove_all(options_.dir); }

  Result<std::unique_ptr<DiskStorage>> open(DurableState& state) {
    notes_.clear();
    return DiskStorage::open(fs_, options_, state, notes_);
  }

  static Ready batch(Index from, Index to, Term term, Index commit) {
    Ready ready;
    for (Index i = from; i <= to; ++i)
      ready.entries.push_back(Entry{term, i, EntryType::kNormal, std::string(150, 'x')});
    ready.hard_state = HardState{term, 1, commit};
    return ready;
  }
  static SnapshotPtr snapshot(Index index, Term term) {
    return std::make_shared<const Snapshot>(
        Snapshot{SnapshotMeta{index, term, ConfState{{1, 2, 3}}}, "state@" + std::to_string(index)});
  }
  std::vector<std::string> snapshot_files() {
    std::vector<std::string> names = fs_.list(options_.dir + "/snap").value();
    return names;
  }

  PosixFileSystem fs_;
  DiskStorageOptions options_;
  std::vector<std::string> notes_;
};

TEST_F(DiskStorageTest, theDurableStateComesBack) {
  {
    DurableState state;
    std::unique_ptr<DiskStorage> storage = open(state).value();
    EXPECT_TRUE(state.entries.empty());
    EXPECT_EQ(state.snapshot, nullptr);
    ASSERT_TRUE(storage->persist(batch(1, 10, 1, 4)).is_ok());
    ASSERT_TRUE(storage->persist(batch(8, 9, 2, 7)).is_ok());  // a new leader overwrote 8..10
  }
  DurableState state;
  ASSERT_TRUE(open(state).is_ok());
  ASSERT_EQ(state.entries.size(), 9U);
  EXPECT_EQ(state.entries.back().index, 9U);
  EXPECT_EQ(state.entries.back().term, 2U);
  EXPECT_EQ(state.hard_state, (HardState{2, 1, 7}));
}

TEST_F(DiskStorageTest, aSnapshotCompactsTheLogButKeepsTheOlderSnapshotCovered) {
  {
    DurableState state;
    std::unique_ptr<DiskStorage> storage = open(state).value();
    for (Index i = 1; i <= 100; i += 10) ASSERT_TRUE(storage->persist(batch(i, i + 9, 1, i + 9)).is_ok());
    ASSERT_TRUE(storage->save_snapshot(snapshot(40, 1)).is_ok());
    ASSERT_TRUE(storage->save_snapshot(snapshot(80, 1)).is_ok());
    ASSERT_TRUE(storage->save_snapshot(snapshot(90, 1)).is_ok());
  }
  EXPECT_EQ(snapshot_files().size(), 2U) << "the newest two are kept";
  DurableState state;
  ASSERT_TRUE(open(state).is_ok());
  ASSERT_NE(state.snapshot, nullptr);
  EXPECT_EQ(state.snapshot->meta.index, 90U);
  EXPECT_EQ(state.snapshot->data, "state@90");
  EXPECT_EQ(state.snapshot->meta.conf.voters, (std::vector<NodeId>{1, 2, 3}));
  ASSERT_FALSE(state.entries.empty());
  EXPECT_EQ(state.entries.front().index, 91U);
  EXPECT_EQ(state.entries.back().index, 100U);
}

TEST_F(DiskStorageTest, aDamagedNewestSnapshotFallsBackToTheOlderOne) {
  {
    DurableState state;
    std::unique_ptr<DiskStorage> storage = open(state).value();
    for (Index i = 1; i <= 100; i += 10) ASSERT_TRUE(storage->persist(batch(i, i + 9, 1, i + 9)).is_ok());
    ASSERT_TRUE(storage->save_snapshot(snapshot(60, 1)).is_ok());
    ASSERT_TRUE(storage->save_snapshot(snapshot(90, 1)).is_ok());
  }
  std::string newest = options_.dir + "/snap/" + snapshot_files().back();
  ASSERT_NE(newest.find("000000000000005a-"), std::string::npos) << newest;  // index 90 = 0x5a
  std::unique_ptr<File> file = fs_.open(newest, OpenMode::kOpenExisting).value();
  ASSERT_TRUE(file->write_at(30, "\xff").is_ok());
  file.reset();
  DurableState state;
  ASSERT_TRUE(open(state).is_ok());
  ASSERT_NE(state.snapshot, nullptr);
  EXPECT_EQ(state.snapshot->meta.index, 60U);
  EXPECT_EQ(state.entries.front().index, 61U);
  EXPECT_EQ(state.entries.back().index, 100U);
  ASSERT_FALSE(notes_.empty());
  EXPECT_NE(notes_.back().find("skipped a damaged snapshot"), std::string::npos) << notes_.back();
}

TEST_F(DiskStorageTest, aHoleTheLogCannotCoverStopsRecovery) {
  {
    DurableState state;
    std::unique_ptr<DiskStorage> storage = open(state).value();
    for (Index i = 1; i <= 100; i += 10) ASSERT_TRUE(storage->persist(batch(i, i + 9, 1, i + 9)).is_ok());
    ASSERT_TRUE(storage->save_snapshot(snapshot(60, 1)).is_ok());
    ASSERT_TRUE(storage->save_snapshot(snapshot(90, 1)).is_ok());
  }
  for (const std::string& name : snapshot_files())
    ASSERT_TRUE(fs_.remove(options_.dir + "/snap/" + name).is_ok());
  DurableState state;
  Result<std::unique_ptr<DiskStorage>> opened = open(state);
  ASSERT_FALSE(opened.is_ok());
  EXPECT_EQ(opened.status().code(), ErrorCode::kCorruption);
  EXPECT_NE(opened.status().message().find("hole"), std::string::npos) << opened.status().message();
}

TEST_F(DiskStorageTest, anInstalledSnapshotReplacesTheLog) {
  {
    DurableState state;
    std::unique_ptr<DiskStorage> storage = open(state).value();
    ASSERT_TRUE(storage->persist(batch(1, 5, 1, 2)).is_ok());
    Ready install;
    install.snapshot = snapshot(50, 3);
    install.hard_state = HardState{3, 0, 50};
    ASSERT_TRUE(storage->persist(install).is_ok());
    ASSERT_TRUE(storage->persist(batch(51, 52, 3, 50)).is_ok());
  }
  DurableState state;
  ASSERT_TRUE(open(state).is_ok());
  ASSERT_NE(state.snapshot, nullptr);
  EXPECT_EQ(state.snapshot->meta.index, 50U);
  ASSERT_EQ(state.entries.size(), 2U);
  EXPECT_EQ(state.entries.front().index, 51U);
}

// Multi-Paxos: an acceptor installing a leader's snapshot keeps the slots it accepted after it, and
// writes them again after the snapshot. A crash between the snapshot's marker and that write must not
// lose them (Raft's rule would: there the entries after a snapshot the log does not continue are a
// stale branch).
TEST_F(DiskStorageTest, aSnapshotTheLogDoesNotContinueKeepsLaterSlotsWhenAskedTo) {
  for (bool keep : {false, true}) {
    SCOPED_TRACE(keep ? "keep" : "raft");
    std::filesystem::remove_all(options_.dir);
    options_.keep_entries_after_snapshot = keep;
    {
      DurableState state;
      std::unique_ptr<DiskStorage> storage = open(state).value();
      ASSERT_TRUE(storage->persist(batch(1, 8, 2, 2)).is_ok());
      // The leader's snapshot at 5 carries another ballot than this acceptor's slot 5; the crash comes
      // before the kept slots 6..8 are written again.
      ASSERT_TRUE(storage->save_snapshot(snapshot(5, 7)).is_ok());
    }
    for (int reopen = 0; reopen < 2; ++reopen) {
      DurableState state;
      ASSERT_TRUE(open(state).is_ok());
      ASSERT_NE(state.snapshot, nullptr);
      EXPECT_EQ(state.snapshot->meta.index, 5U);
      if (keep) {
        ASSERT_EQ(state.entries.size(), 3U);
        EXPECT_EQ(state.entries.front().index, 6U);
        EXPECT_EQ(state.entries.back().index, 8U);
      } else {
        EXPECT_TRUE(state.entries.empty());
      }
    }
  }
}

// A snapshot can be read back (to refill a detached one for a follower) only once it is durable and
// marked: a background write counts from the persist that marks it; a damaged file is an error.
TEST_F(DiskStorageTest, aSnapshotIsReadBackOnceDurableAndADamagedOneIsAnError) {
  options_.background_snapshots = true;
  SnapshotMeta at40{40, 1, ConfState{{1, 2, 3}}};
  {
    DurableState state;
    std::unique_ptr<DiskStorage> storage = open(state).value();
    EXPECT_EQ(storage->reloadable_snapshot_index(), 0U);
    EXPECT_EQ(storage->reload_snapshot(at40).status().code(), ErrorCode::kNotFound);
    ASSERT_TRUE(storage->persist(batch(1, 50, 1, 50)).is_ok());
    ASSERT_TRUE(storage->save_snapshot(snapshot(40, 1)).is_ok());
    // Marked by a later persist once the writer is done; save_snapshot of the next one waits for it.
    ASSERT_TRUE(storage->save_snapshot(snapshot(45, 1)).is_ok());
    EXPECT_GE(storage->reloadable_snapshot_index(), 40U);
    Result<SnapshotPtr> reloaded = storage->reload_snapshot(at40);
    ASSERT_TRUE(reloaded.is_ok()) << reloaded.status().message();
    EXPECT_EQ(*reloaded.value(), *snapshot(40, 1));
    EXPECT_EQ(storage->reload_snapshot(SnapshotMeta{40, 2, {}}).status().code(), ErrorCode::kNotFound)
        << "no file holds index 40 at term 2";
  }
  DurableState state;
  std::unique_ptr<DiskStorage> storage = open(state).value();
  ASSERT_NE(state.snapshot, nullptr);
  SnapshotMeta newest = state.snapshot->meta;
  EXPECT_EQ(storage->reloadable_snapshot_index(), newest.index) << "recovery started from it";
  ASSERT_TRUE(storage->reload_snapshot(newest).is_ok());
  std::string path = options_.dir + "/snap/" + snapshot_files().back();
  std::unique_ptr<File> file = fs_.open(path, OpenMode::kOpenExisting).value();
  ASSERT_TRUE(file->write_at(30, "\xff").is_ok());
  file.reset();
  EXPECT_EQ(storage->reload_snapshot(newest).status().code(), ErrorCode::kCorruption);
}

}  // namespace
}  // namespace synod::storage

namespace synod::storage {
namespace {

// Background snapshot writes (the server's mode): save_snapshot() returns before the file is durable; the
// log's marker follows at a later persist() once it is, and old segments go only then. Closing in between
// loses nothing: the next open adopts the written file (or, had it not been finished, the log still covers
// everything).
TEST_F(DiskStorageTest, aBackgroundSnapshotIsMarkedByALaterPersistOrAdoptedOnReopen) {
  options_.background_snapshots = true;
  {
    DurableState state;
    std::unique_ptr<DiskStorage> storage = open(state).value();
    for (Index i = 1; i <= 100; i += 10) ASSERT_TRUE(storage->persist(batch(i, i + 9, 1, i + 9)).is_ok());
    ASSERT_TRUE(storage->save_snapshot(snapshot(40, 1)).is_ok());
    ASSERT_TRUE(storage->save_snapshot(snapshot(80, 1)).is_ok());  // waits for the first, marks it
    EXPECT_GT(storage->wal().first_index(), 1U) << "the first snapshot's marker let old segments go";
    ASSERT_TRUE(storage->persist(batch(101, 110, 1, 110)).is_ok());
    ASSERT_TRUE(storage->save_snapshot(snapshot(100, 1)).is_ok());
    // Closed with the last one possibly unmarked: the older ones are only let go after its marker.
  }
  EXPECT_LE(snapshot_files().size(), 3U);
  DurableState state;
  ASSERT_TRUE(open(state).is_ok());
  ASSERT_NE(state.snapshot, nullptr);
  EXPECT_EQ(state.snapshot->meta.index, 100U);
  EXPECT_EQ(state.snapshot->data, "state@100");
  ASSERT_FALSE(state.entries.empty());
  EXPECT_EQ(state.entries.back().index, 110U);
  EXPECT_EQ(state.hard_state.commit, 110U);
}

// An installed snapshot (from a leader) waits for a background write of an older one, so the markers
// stay in order and recovery finds the installed one.
TEST_F(DiskStorageTest, anInstalledSnapshotFollowsABackgroundOne) {
  options_.background_snapshots = true;
  {
    DurableState state;
    std::unique_ptr<DiskStorage> storage = open(state).value();
    ASSERT_TRUE(storage->persist(batch(1, 50, 1, 50)).is_ok());
    ASSERT_TRUE(storage->save_snapshot(snapshot(30, 1)).is_ok());
    Ready install;
    install.snapshot = snapshot(200, 3);
    install.hard_state = HardState{3, 2, 200};
    ASSERT_TRUE(storage->persist(install).is_ok());
  }
  DurableState state;
  ASSERT_TRUE(open(state).is_ok());
  ASSERT_NE(state.snapshot, nullptr);
  EXPECT_EQ(state.snapshot->meta.index, 200U);
  EXPECT_TRUE(state.entries.empty());
  EXPECT_EQ(state.hard_state, (HardState{3, 2, 200}));
}

// A snapshot streamed a slice at a time (the node's way), in both modes: the file is the slices in
// order, it counts as durable only once finished and written, and it is what a reopen starts from. One
// abandoned half way leaves no file and no marker, and the log keeps everything.
TEST_F(DiskStorageTest, aStreamedSnapshotIsItsSlicesInOrderAndAnAbandonedOneLeavesNothing) {
  for (bool background : {false, true}) {
    SCOPED_TRACE(background ? "background" : "direct");
    std::filesystem::remove_all(options_.dir);
    options_.background_snapshots = background;
    SnapshotMeta at50{50, 1, ConfState{{1, 2, 3}}};
    std::string expected;
    {
      DurableState state;
      std::unique_ptr<DiskStorage> storage = open(state).value();
      ASSERT_TRUE(storage->persist(batch(1, 60, 1, 60)).is_ok());
      {
        std::unique_ptr<SnapshotSink> abandoned = storage->begin_snapshot(SnapshotMeta{20, 1, {}}).value();
        ASSERT_TRUE(abandoned->append("half of it").is_ok());
      }
      // Beginning the next one settles the abandoned one, which leaves nothing behind.
      std::unique_ptr<SnapshotSink> sink = storage->begin_snapshot(at50).value();
      EXPECT_EQ(storage->reloadable_snapshot_index(), 0U);
      for (const std::string& name : snapshot_files()) {
        EXPECT_EQ(name.find("0000000000000014-"), std::string::npos) << "left behind: " << name;
      }
      for (int i = 0; i < 150; ++i) {
        std::string slice(static_cast<size_t>(i * 7919 % 65536), static_cast<char>('a' + i % 26));
        expected += slice;
        ASSERT_TRUE(sink->append(slice).is_ok());
      }
      EXPECT_EQ(storage->reloadable_snapshot_index(), 0U) << "not durable before it is finished";
      ASSERT_TRUE(sink->finish().is_ok());
      sink.reset();
      // In the background a later persist marks a finished snapshot, once the writer is done.
      Index next = 61;
      auto persist_until_marked = [&](Index index) {
        for (int i = 0; storage->reloadable_snapshot_index() < index && i < 10'000; ++i, ++next) {
          ASSERT_TRUE(storage->persist(batch(next, next, 1, next)).is_ok());
          if (background) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        ASSERT_EQ(storage->reloadable_snapshot_index(), index);
      };
      ASSERT_NO_FATAL_FAILURE(persist_until_marked(50));
      Result<SnapshotPtr> reloaded = storage->reload_snapshot(at50);
      ASSERT_TRUE(reloaded.is_ok()) << reloaded.status().to_string();
      EXPECT_EQ(reloaded.value()->data, expected);
      // Two more: the oldest file goes (in the background, on the writer thread), two are kept.
      for (Index at : {Index{55}, Index{58}}) {
        std::unique_ptr<SnapshotSink> later = storage->begin_snapshot(SnapshotMeta{at, 1, {}}).value();
        ASSERT_TRUE(later->append("state@" + std::to_string(at)).is_ok());
        ASSERT_TRUE(later->finish().is_ok());
      }
      ASSERT_NO_FATAL_FAILURE(persist_until_marked(58));
      std::vector<std::string> files = snapshot_files();
      std::sort(files.begin(), files.end());
      ASSERT_EQ(files.size(), 2U);
      EXPECT_EQ(files[0].substr(0, 16), "0000000000000037");  // 55
      EXPECT_EQ(files[1].substr(0, 16), "000000000000003a");  // 58
    }
    DurableState state;
    ASSERT_TRUE(open(state).is_ok());
    ASSERT_NE(state.snapshot, nullptr);
    EXPECT_EQ(state.snapshot->meta.index, 58U);
    EXPECT_EQ(state.snapshot->data, "state@58");
    ASSERT_FALSE(state.entries.empty());
    EXPECT_EQ(state.entries.front().index, 59U);
  }
}

}  // namespace
}  // namespace synod::storage
