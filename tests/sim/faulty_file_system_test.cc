// The fault-injecting file system: POSIX-like semantics while nothing goes wrong, and exactly the
// documented damage when something does (crashes losing, keeping or tearing unsynced pages and
// reverting unsynced directory entries, ENOSPC, one-shot and random EIO, fsyncgate, bit rot).
#include "sim/faulty_file_system.h"

#include <algorithm>
#include <bit>
#include <map>
#include <memory>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace synod::sim {

// For readable failure messages.
void PrintTo(const DirtyPage& page, std::ostream* out) {
  *out << page.path << "#" << page.page;
}

namespace {

using storage::File;
using storage::OpenMode;

constexpr uint64_t kPage = FaultyFileSystem::kPageSize;

std::unique_ptr<File> open_file(FaultyFileSystem& fs, const std::string& path, OpenMode mode) {
  Result<std::unique_ptr<File>> file = fs.open(path, mode);
  EXPECT_TRUE(file.is_ok()) << file.status().to_string();
  return file.is_ok() ? std::move(file).value() : nullptr;
}

// A file "d/name" with `durable` written, synced and its creation dir-synced.
std::unique_ptr<File> durable_file(FaultyFileSystem& fs, const std::string& name,
                                   const std::string& durable) {
  EXPECT_TRUE(fs.make_dirs("d").is_ok());
  std::unique_ptr<File> file = open_file(fs, "d/" + name, OpenMode::kCreateNew);
  EXPECT_TRUE(file->write_at(0, durable).is_ok());
  EXPECT_TRUE(file->sync().is_ok());
  EXPECT_TRUE(fs.sync_dir("d").is_ok());
  return file;
}

std::string read_all(FaultyFileSystem& fs, const std::string& path) {
  Result<std::string> contents = fs.contents(path);
  EXPECT_TRUE(contents.is_ok()) << contents.status().to_string();
  return contents.is_ok() ? contents.value() : "";
}

auto every_page(PageFate fate) {
  return [fate](const DirtyPage&) { return fate; };
}

// Every file's path and contents, for comparing whole file systems.
std::map<std::string, std::string> snapshot(FaultyFileSystem& fs, const std::string& dir) {
  std::map<std::string, std::string> files;
  std::vector<std::string> names = fs.list(dir).value();
  for (const std::string& name : names) {
    std::string path = storage::join_path(dir, name);
    files[path] = read_all(fs, path);
  }
  return files;
}

TEST(FaultyFileSystem, writesReadsAndHolesReadAsZeros) {
  FaultyFileSystem fs;
  std::unique_ptr<File> file = open_file(fs, "f", OpenMode::kCreateNew);
  EXPECT_EQ(file->size().value(), 0U);
  ASSERT_TRUE(file->write_at(10, "abc").is_ok());
  EXPECT_EQ(file->size().value(), 13U);
  EXPECT_EQ(file->read_at(0, 13).value(), std::string(10, '\0') + "abc");
  EXPECT_EQ(file->read_at(11, 100).value(), "bc") << "a read past the end is short";
  EXPECT_EQ(file->read_at(13, 5).value(), "");
  EXPECT_EQ(file->read_at(1000, 5).value(), "");
  // A write across a page boundary, far past the end: the gap reads as zeros.
  std::string across(100, 'x');
  ASSERT_TRUE(file->write_at(3 * kPage - 50, across).is_ok());
  EXPECT_EQ(file->size().value(), 3 * kPage + 50);
  EXPECT_EQ(file->read_at(3 * kPage - 60, 120).value(), std::string(10, '\0') + across);
  EXPECT_EQ(file->read_at(kPage, 10).value(), std::string(10, '\0'));
  // An overwrite in the middle leaves the size alone; an empty write past the end does not extend.
  ASSERT_TRUE(file->write_at(11, "Z").is_ok());
  ASSERT_TRUE(file->write_at(10 * kPage, "").is_ok());
  EXPECT_EQ(file->size().value(), 3 * kPage + 50);
  EXPECT_EQ(file->read_at(10, 3).value(), "aZc");
  EXPECT_EQ(read_all(fs, "f").size(), 3 * kPage + 50);
}

TEST(FaultyFileSystem, truncateShrinksAndRegrowsWithZerosAlsoAfterSyncAndCrash) {
  FaultyFileSystem fs;
  std::unique_ptr<File> file = durable_file(fs, "f", std::string(2 * kPage + 100, 'x'));
  ASSERT_TRUE(file->truncate(10).is_ok());
  EXPECT_EQ(file->size().value(), 10U);
  EXPECT_EQ(file->read_at(0, 100).value(), std::string(10, 'x'));
  ASSERT_TRUE(file->truncate(3 * kPage).is_ok());
  EXPECT_EQ(file->size().value(), 3 * kPage);
  std::string expected = std::string(10, 'x') + std::string(3 * kPage - 10, '\0');
  EXPECT_EQ(read_all(fs, "d/f"), expected);
  // Before the sync a crash brings the old size and content back; after it the new ones stay.
  EXPECT_EQ(fs.durable_contents("d/f").value(), std::string(2 * kPage + 100, 'x'));
  ASSERT_TRUE(file->sync().is_ok());
  EXPECT_EQ(fs.durable_contents("d/f").value(), expected);
  fs.crash_with(every_page(PageFate::kLost), false);
  EXPECT_EQ(read_all(fs, "d/f"), expected);
}

TEST(FaultyFileSystem, preallocateOnlyGrowsIsSparseAndKeepsTheSizeForWritesInside) {
  FaultyFileSystem fs;
  std::unique_ptr<File> file = open_file(fs, "f", OpenMode::kCreateNew);
  constexpr uint64_t k64MiB = 64ULL << 20U;
  ASSERT_TRUE(file->preallocate(k64MiB).is_ok());
  EXPECT_EQ(file->size().value(), k64MiB);
  EXPECT_EQ(fs.used_bytes(), k64MiB);
  EXPECT_EQ(file->read_at(k64MiB / 2, 8).value(), std::string(8, '\0'));
  ASSERT_TRUE(file->write_at(100, "record").is_ok());
  EXPECT_EQ(file->size().value(), k64MiB);
  ASSERT_TRUE(file->preallocate(kPage).is_ok());
  EXPECT_EQ(file->size().value(), k64MiB) << "preallocate never shrinks";
  EXPECT_EQ(file->read_at(100, 6).value(), "record");
  EXPECT_EQ(fs.dirty_pages(), (std::vector<DirtyPage>{{"f", 0}}));
}

TEST(FaultyFileSystem, openModesDirectoriesAndListing) {
  FaultyFileSystem fs;
  EXPECT_EQ(fs.open("nodir/f", OpenMode::kCreateNew).status().code(), ErrorCode::kNotFound);
  ASSERT_TRUE(fs.make_dirs("a/b/c").is_ok());
  ASSERT_TRUE(fs.make_dirs("a/b/").is_ok());
  EXPECT_TRUE(fs.exists("a") && fs.exists("a/b") && fs.exists("a/b/c"));
  std::unique_ptr<File> file = open_file(fs, "a/z", OpenMode::kCreateNew);
  ASSERT_TRUE(file->write_at(0, "data").is_ok());
  open_file(fs, "a/a", OpenMode::kCreateNew);
  EXPECT_EQ(fs.list("a").value(), (std::vector<std::string>{"a", "b", "z"}));
  EXPECT_EQ(fs.list("a/b/").value(), (std::vector<std::string>{"c"}));
  EXPECT_EQ(fs.list("a/b/c").value(), std::vector<std::string>{});
  EXPECT_EQ(fs.list("a/missing").status().code(), ErrorCode::kNotFound);

  EXPECT_EQ(fs.open("a/z", OpenMode::kCreateNew).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(fs.open("a/b", OpenMode::kOpenExisting).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(fs.open("a/y", OpenMode::kOpenExisting).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(fs.open("a/y", OpenMode::kReadOnly).status().code(), ErrorCode::kNotFound);
  EXPECT_FALSE(fs.exists("a/y"));
  EXPECT_EQ(fs.remove("a/y").code(), ErrorCode::kNotFound);
  EXPECT_EQ(fs.rename("a/y", "a/w").code(), ErrorCode::kNotFound);
  EXPECT_EQ(fs.make_dirs("a/z/sub").code(), ErrorCode::kInvalidArgument);

  std::unique_ptr<File> reader = open_file(fs, "a/z", OpenMode::kReadOnly);
  EXPECT_EQ(reader->read_at(0, 10).value(), "data");
  EXPECT_EQ(reader->write_at(0, "x").code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(reader->truncate(0).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(reader->preallocate(kPage).code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(reader->sync().is_ok());
  EXPECT_EQ(read_all(fs, "a/z"), "data");

  // Rename replaces the target; handles follow the inode, not the name.
  ASSERT_TRUE(fs.rename("a/z", "a/a").is_ok());
  EXPECT_FALSE(fs.exists("a/z"));
  EXPECT_EQ(read_all(fs, "a/a"), "data");
  ASSERT_TRUE(file->write_at(4, "!").is_ok());
  EXPECT_EQ(read_all(fs, "a/a"), "data!");
  ASSERT_TRUE(fs.remove("a/a").is_ok());
  EXPECT_EQ(fs.list("a").value(), (std::vector<std::string>{"b"}));
  EXPECT_EQ(file->read_at(0, 5).value(), "data!") << "an unlinked file stays readable through its handle";
}

TEST(FaultyFileSystem, unsyncedWritesAreLostAtACrashAndSyncedOnesSurvive) {
  FaultyFileSystem fs;
  std::unique_ptr<File> file = durable_file(fs, "f", "hello");
  ASSERT_TRUE(file->write_at(0, "J").is_ok());
  ASSERT_TRUE(file->write_at(5, "world").is_ok());
  ASSERT_TRUE(file->write_at(kPage + 1, "far").is_ok());
  EXPECT_EQ(fs.durable_contents("d/f").value(), "hello");
  fs.crash_with(every_page(PageFate::kLost), false);
  EXPECT_EQ(read_all(fs, "d/f"), "hello");
  std::unique_ptr<File> reopened = open_file(fs, "d/f", OpenMode::kOpenExisting);
  EXPECT_EQ(reopened->size().value(), 5U);
  EXPECT_TRUE(fs.dirty_pages().empty());
}

TEST(FaultyFileSystem, keptPagesSurviveWithTheirNewContent) {
  FaultyFileSystem fs;
  std::unique_ptr<File> file = durable_file(fs, "f", "hello");
  ASSERT_TRUE(file->write_at(0, "J").is_ok());
  ASSERT_TRUE(file->write_at(5, "world").is_ok());
  fs.crash_with(every_page(PageFate::kKept), false);
  EXPECT_EQ(read_all(fs, "d/f"), "Jelloworld");
  EXPECT_EQ(fs.durable_contents("d/f").value(), "Jelloworld") << "after a crash volatile is durable";
}

TEST(FaultyFileSystem, aTornPageHasItsFirstHalfOfSectorsNewAndTheRestOld) {
  FaultyFileSystem fs;
  std::unique_ptr<File> file = durable_file(fs, "f", std::string(kPage, 'a'));
  ASSERT_TRUE(file->write_at(0, std::string(kPage, 'b')).is_ok());
  std::unique_ptr<File> fresh = durable_file(fs, "g", "");
  ASSERT_TRUE(fresh->write_at(0, std::string(3000, 'c')).is_ok());
  fs.crash_with(every_page(PageFate::kTorn), false);
  EXPECT_EQ(read_all(fs, "d/f"), std::string(kPage / 2, 'b') + std::string(kPage / 2, 'a'));
  // Past the durable size the torn page's new sectors extend the file, up to its volatile size.
  EXPECT_EQ(read_all(fs, "d/g"), std::string(kPage / 2, 'c'));
}

TEST(FaultyFileSystem, aKeptPagePastTheDurableSizeExtendsTheFileOverLostOnes) {
  FaultyFileSystem fs;
  std::unique_ptr<File> file = durable_file(fs, "f", std::string(100, 'a'));
  ASSERT_TRUE(file->write_at(100, std::string(kPage, 'b')).is_ok());  // pages 0 and 1
  ASSERT_TRUE(file->write_at(2 * kPage, "tail").is_ok());             // page 2
  ASSERT_EQ(fs.dirty_pages(), (std::vector<DirtyPage>{{"d/f", 0}, {"d/f", 1}, {"d/f", 2}}));
  fs.crash_with([](const DirtyPage& page) { return page.page == 2 ? PageFate::kKept : PageFate::kLost; },
                false);
  EXPECT_EQ(read_all(fs, "d/f"), std::string(100, 'a') + std::string(2 * kPage - 100, '\0') + "tail");
}

TEST(FaultyFileSystem, aCreatedFileVanishesAtACrashUnlessItsDirectoryWasSynced) {
  FaultyFileSystem fs;
  ASSERT_TRUE(fs.make_dirs("d").is_ok());
  std::unique_ptr<File> file = open_file(fs, "d/new", OpenMode::kCreateNew);
  ASSERT_TRUE(file->write_at(0, "data").is_ok());
  ASSERT_TRUE(file->sync().is_ok());
  fs.crash_with(every_page(PageFate::kKept), false);
  EXPECT_FALSE(fs.exists("d/new"));
  EXPECT_EQ(fs.list("d").value(), std::vector<std::string>{});

  file = open_file(fs, "d/new", OpenMode::kCreateNew);
  ASSERT_TRUE(file->write_at(0, "data").is_ok());
  ASSERT_TRUE(file->sync().is_ok());
  ASSERT_TRUE(fs.sync_dir("d").is_ok());
  fs.crash_with(every_page(PageFate::kLost), false);
  EXPECT_EQ(read_all(fs, "d/new"), "data");

  // Kept directory changes keep an unsynced creation, with only its durable (here: no) data.
  file = open_file(fs, "d/other", OpenMode::kCreateNew);
  ASSERT_TRUE(file->write_at(0, "lost").is_ok());
  fs.crash_with(every_page(PageFate::kLost), true);
  EXPECT_EQ(read_all(fs, "d/other"), "");
}

TEST(FaultyFileSystem, aRenameRevertsAtACrashUnlessItsDirectoryWasSynced) {
  FaultyFileSystem fs;
  durable_file(fs, "old", "old target");
  durable_file(fs, "tmp", "new content");
  ASSERT_TRUE(fs.rename("d/tmp", "d/old").is_ok());
  EXPECT_EQ(read_all(fs, "d/old"), "new content");
  fs.crash_with(every_page(PageFate::kKept), false);
  EXPECT_EQ(read_all(fs, "d/old"), "old target");
  EXPECT_EQ(read_all(fs, "d/tmp"), "new content");

  ASSERT_TRUE(fs.rename("d/tmp", "d/old").is_ok());
  ASSERT_TRUE(fs.sync_dir("d").is_ok());
  fs.crash_with(every_page(PageFate::kLost), false);
  EXPECT_EQ(read_all(fs, "d/old"), "new content");
  EXPECT_FALSE(fs.exists("d/tmp"));
}

TEST(FaultyFileSystem, aRemovedFileReappearsWithItsDurableDataUnlessItsDirectoryWasSynced) {
  FaultyFileSystem fs;
  std::unique_ptr<File> file = durable_file(fs, "f", "durable");
  ASSERT_TRUE(file->write_at(0, "VOLATILE").is_ok());
  ASSERT_TRUE(fs.remove("d/f").is_ok());
  EXPECT_FALSE(fs.exists("d/f"));
  EXPECT_EQ(fs.dirty_pages(), (std::vector<DirtyPage>{{"d/f", 0}})) << "listed under its synced name";
  fs.crash_with(every_page(PageFate::kLost), false);
  EXPECT_EQ(read_all(fs, "d/f"), "durable");

  ASSERT_TRUE(fs.remove("d/f").is_ok());
  ASSERT_TRUE(fs.sync_dir("d").is_ok());
  fs.crash_with(every_page(PageFate::kKept), false);
  EXPECT_FALSE(fs.exists("d/f"));
}

TEST(FaultyFileSystem, handlesFromBeforeACrashAreDead) {
  FaultyFileSystem fs;
  std::unique_ptr<File> file = durable_file(fs, "f", "abc");
  std::unique_ptr<File> reader = open_file(fs, "d/f", OpenMode::kReadOnly);
  fs.crash_with(every_page(PageFate::kKept), true);
  for (File* dead : {file.get(), reader.get()}) {
    EXPECT_EQ(dead->read_at(0, 3).status().code(), ErrorCode::kIoError);
    EXPECT_EQ(dead->size().status().code(), ErrorCode::kIoError);
    EXPECT_EQ(dead->sync().code(), ErrorCode::kIoError);
  }
  Status write = file->write_at(0, "x");
  EXPECT_EQ(write.code(), ErrorCode::kIoError);
  EXPECT_NE(write.message().find("file handle from before a crash"), std::string::npos) << write.message();
  EXPECT_EQ(file->truncate(0).code(), ErrorCode::kIoError);
  EXPECT_EQ(file->preallocate(kPage).code(), ErrorCode::kIoError);
  EXPECT_EQ(read_all(fs, "d/f"), "abc");
  std::unique_ptr<File> fresh = open_file(fs, "d/f", OpenMode::kOpenExisting);
  EXPECT_EQ(fresh->read_at(0, 3).value(), "abc");
  EXPECT_TRUE(fresh->write_at(3, "d").is_ok());
}

TEST(FaultyFileSystem, growingPastTheSpaceLimitFailsWithNoSpaceAndChangesNothing) {
  FaultyFileSystem fs;
  fs.set_space_limit(10000);
  std::unique_ptr<File> file = open_file(fs, "f", OpenMode::kCreateNew);
  ASSERT_TRUE(file->write_at(0, std::string(8000, 'a')).is_ok());
  Status full = file->write_at(7000, std::string(4000, 'b'));
  EXPECT_EQ(full.code(), ErrorCode::kNoSpace) << full.to_string();
  EXPECT_EQ(read_all(fs, "f"), std::string(8000, 'a'));
  EXPECT_EQ(fs.stats().writes, 1U);
  EXPECT_TRUE(file->write_at(7000, std::string(1000, 'b')).is_ok()) << "overwrites need no space";
  EXPECT_EQ(file->preallocate(10001).code(), ErrorCode::kNoSpace);
  EXPECT_EQ(file->truncate(10001).code(), ErrorCode::kNoSpace);
  EXPECT_EQ(file->size().value(), 8000U);
  std::unique_ptr<File> other = open_file(fs, "g", OpenMode::kCreateNew);
  EXPECT_EQ(other->write_at(0, std::string(2001, 'c')).code(), ErrorCode::kNoSpace);
  EXPECT_EQ(other->size().value(), 0U);
  EXPECT_TRUE(other->write_at(0, std::string(2000, 'c')).is_ok()) << "exactly at the limit is fine";
  EXPECT_EQ(fs.used_bytes(), 10000U);
  ASSERT_TRUE(file->truncate(0).is_ok());
  EXPECT_TRUE(other->preallocate(10000).is_ok()) << "a shrink frees space";
  fs.clear_space_limit();
  EXPECT_TRUE(file->write_at(0, std::string(100000, 'd')).is_ok());
}

TEST(FaultyFileSystem, oneShotWriteFailureChangesNothingAndFiresOnce) {
  FaultyFileSystem fs;
  std::unique_ptr<File> file = open_file(fs, "f", OpenMode::kCreateNew);
  fs.fail_after(FaultOp::kWrite, 1);
  EXPECT_TRUE(file->write_at(0, "one").is_ok());
  EXPECT_EQ(file->write_at(3, "two").code(), ErrorCode::kIoError);
  EXPECT_EQ(read_all(fs, "f"), "one");
  EXPECT_TRUE(file->write_at(3, "three").is_ok());
  EXPECT_EQ(read_all(fs, "f"), "onethree");
  EXPECT_EQ(fs.stats().writes, 2U);
  EXPECT_EQ(fs.stats().bytes_written, 8U);
  EXPECT_EQ(fs.stats().injected_failures, 1U);
}

TEST(FaultyFileSystem, fsyncgateAFailedSyncLosesThePagesAndARetriedSyncLies) {
  FaultyFileSystem fs;
  std::unique_ptr<File> file = durable_file(fs, "f", "old!");
  ASSERT_TRUE(file->write_at(0, "new!").is_ok());
  fs.fail_after(FaultOp::kSync, 0);
  EXPECT_EQ(file->sync().code(), ErrorCode::kIoError);
  EXPECT_EQ(file->read_at(0, 4).value(), "new!") << "the page cache still has the new data";
  EXPECT_TRUE(fs.dirty_pages().empty()) << "and believes it clean";
  EXPECT_TRUE(file->sync().is_ok()) << "so the retry succeeds";
  EXPECT_EQ(fs.stats().syncs, 2U);  // durable_file's and the retry
  EXPECT_EQ(fs.durable_contents("d/f").value(), "old!");
  fs.crash_with(every_page(PageFate::kKept), false);
  EXPECT_EQ(read_all(fs, "d/f"), "old!") << "without having written anything";
}

TEST(FaultyFileSystem, fsyncgateAppendedDataComesBackAsZerosAfterARetriedSync) {
  FaultyFileSystem fs;
  std::unique_ptr<File> file = durable_file(fs, "f", "head");
  ASSERT_TRUE(file->write_at(4, "tail").is_ok());
  fs.fail_after(FaultOp::kSync, 0);
  EXPECT_EQ(file->sync().code(), ErrorCode::kIoError);
  EXPECT_TRUE(file->sync().is_ok());
  fs.crash_with(every_page(PageFate::kKept), false);
  EXPECT_EQ(read_all(fs, "d/f"), std::string("head") + std::string(4, '\0'));
}

TEST(FaultyFileSystem, aFailedSyncDirLeavesTheEntriesUnsyncedAndARetryWorks) {
  FaultyFileSystem fs;
  ASSERT_TRUE(fs.make_dirs("d").is_ok());
  open_file(fs, "d/f", OpenMode::kCreateNew);
  fs.fail_after(FaultOp::kSyncDir, 0);
  EXPECT_EQ(fs.sync_dir("d").code(), ErrorCode::kIoError);
  fs.crash_with(every_page(PageFate::kKept), false);
  EXPECT_FALSE(fs.exists("d/f"));
  open_file(fs, "d/f", OpenMode::kCreateNew);
  fs.fail_after(FaultOp::kSyncDir, 0);
  EXPECT_EQ(fs.sync_dir("d").code(), ErrorCode::kIoError);
  EXPECT_TRUE(fs.sync_dir("d").is_ok());
  fs.crash_with(every_page(PageFate::kKept), false);
  EXPECT_TRUE(fs.exists("d/f"));
  EXPECT_EQ(fs.stats().sync_dirs, 1U);
  EXPECT_EQ(fs.stats().injected_failures, 2U);
}

TEST(FaultyFileSystem, randomFailuresAreDeterministicGivenTheirSeed) {
  auto failures = [](uint64_t seed) {
    FaultyFileSystem fs;
    fs.set_random_failures(Random(seed), 300'000, 300'000);
    std::unique_ptr<File> file = open_file(fs, "f", OpenMode::kCreateNew);
    std::string outcomes;
    for (int i = 0; i < 64; ++i) {
      outcomes += file->write_at(0, "x").is_ok() ? 'w' : '-';
      outcomes += file->sync().is_ok() ? 's' : '-';
    }
    EXPECT_EQ(fs.stats().injected_failures,
              static_cast<uint64_t>(std::count(outcomes.begin(), outcomes.end(), '-')));
    return outcomes;
  };
  std::string first = failures(5);
  EXPECT_EQ(first, failures(5));
  EXPECT_NE(first, failures(6));
  EXPECT_NE(first.find('-'), std::string::npos);
  EXPECT_NE(first.find('w'), std::string::npos);
}

TEST(FaultyFileSystem, flipBitChangesExactlyOneBitOfVolatileAndDurableContent) {
  FaultyFileSystem fs;
  std::string original(2 * kPage, 'q');
  std::unique_ptr<File> file = durable_file(fs, "f", original);
  ASSERT_TRUE(fs.flip_bit("d/f", kPage + 5, 3).is_ok());
  std::string rotten = file->read_at(0, 2 * kPage).value();
  ASSERT_EQ(rotten.size(), original.size());
  int differing_bits = 0;
  for (size_t i = 0; i < original.size(); ++i) {
    differing_bits +=
        std::popcount(static_cast<unsigned>(static_cast<unsigned char>(rotten[i] ^ original[i])));
  }
  EXPECT_EQ(differing_bits, 1);
  EXPECT_EQ(rotten[kPage + 5], static_cast<char>('q' ^ 8));
  EXPECT_EQ(fs.durable_contents("d/f").value(), rotten);
  EXPECT_TRUE(fs.dirty_pages().empty()) << "bit rot is not a write";
  fs.crash_with(every_page(PageFate::kLost), false);
  EXPECT_EQ(read_all(fs, "d/f"), rotten);
  EXPECT_EQ(fs.flip_bit("d/f", 2 * kPage, 0).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(fs.flip_bit("d/f", 0, 8).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(fs.flip_bit("d/missing", 0, 0).code(), ErrorCode::kNotFound);
}

// Many files with unsynced pages and unsynced directory changes, then a random crash.
std::map<std::string, std::string> random_crash(uint64_t seed, std::vector<DirtyPage>* dirty = nullptr) {
  FaultyFileSystem fs;
  std::vector<std::unique_ptr<File>> files;
  for (int i = 0; i < 6; ++i) {
    std::string name = "f" + std::to_string(i);
    files.push_back(durable_file(fs, name, std::string(3 * kPage, static_cast<char>('a' + i))));
    EXPECT_TRUE(files.back()->write_at(0, std::string(4 * kPage, static_cast<char>('A' + i))).is_ok());
  }
  EXPECT_TRUE(fs.make_dirs("e").is_ok());
  open_file(fs, "e/created", OpenMode::kCreateNew);
  if (dirty != nullptr) *dirty = fs.dirty_pages();
  Random random(seed);
  fs.crash(random);
  std::map<std::string, std::string> files_after = snapshot(fs, "d");
  for (auto& [path, contents] : snapshot(fs, "e")) files_after[path] = contents;
  return files_after;
}

TEST(FaultyFileSystem, aRandomCrashIsDeterministicGivenItsSeed) {
  std::map<std::string, std::string> first = random_crash(11);
  EXPECT_EQ(first, random_crash(11));
  bool seed_matters = false;
  for (uint64_t seed = 12; seed < 20; ++seed) seed_matters |= random_crash(seed) != first;
  EXPECT_TRUE(seed_matters);
}

TEST(FaultyFileSystem, aRandomCrashLeavesEachPageNewOldOrTornAtASectorBoundary) {
  std::set<std::string> page_kinds;
  bool created_kept = false;
  bool created_lost = false;
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    std::vector<DirtyPage> dirty;
    std::map<std::string, std::string> files = random_crash(seed, &dirty);
    ASSERT_EQ(dirty.size(), 6U * 4);
    (files.contains("e/created") ? created_kept : created_lost) = true;
    for (int i = 0; i < 6; ++i) {
      const std::string& contents = files.at("d/f" + std::to_string(i));
      char old_byte = static_cast<char>('a' + i);
      char new_byte = static_cast<char>('A' + i);
      ASSERT_GE(contents.size(), 3 * kPage);
      ASSERT_LE(contents.size(), 4 * kPage);
      for (uint64_t page = 0; page * kPage < contents.size(); ++page) {
        std::string bytes = contents.substr(page * kPage, kPage);
        size_t new_bytes = bytes.find_first_not_of(new_byte);
        if (new_bytes == std::string::npos) new_bytes = bytes.size();
        // The rest is old content, or (for page 3, past the durable size) nothing or zeros.
        char rest = page < 3 ? old_byte : '\0';
        ASSERT_EQ(bytes.find_first_not_of(rest, new_bytes), std::string::npos) << "seed " << seed;
        ASSERT_EQ(new_bytes % FaultyFileSystem::kSectorSize, 0U);
        page_kinds.insert(new_bytes == 0 ? "old" : new_bytes == kPage ? "new" : "torn");
      }
    }
  }
  EXPECT_EQ(page_kinds, (std::set<std::string>{"old", "new", "torn"}));
  EXPECT_TRUE(created_kept && created_lost) << "directories keep or revert their changes at random";
}

TEST(FaultyFileSystem, dirtyPagesListsExactlyTheUnsyncedPages) {
  FaultyFileSystem fs;
  ASSERT_TRUE(fs.make_dirs("d").is_ok());
  std::unique_ptr<File> f = open_file(fs, "d/f", OpenMode::kCreateNew);
  std::unique_ptr<File> g = open_file(fs, "d/g", OpenMode::kCreateNew);
  EXPECT_TRUE(fs.dirty_pages().empty());
  ASSERT_TRUE(f->write_at(2 * kPage + 10, "x").is_ok());
  ASSERT_TRUE(f->write_at(kPage - 1, "yz").is_ok());  // pages 0 and 1
  ASSERT_TRUE(g->write_at(5 * kPage, "w").is_ok());
  EXPECT_EQ(fs.dirty_pages(), (std::vector<DirtyPage>{{"d/f", 0}, {"d/f", 1}, {"d/f", 2}, {"d/g", 5}}));
  ASSERT_TRUE(f->sync().is_ok());
  EXPECT_EQ(fs.dirty_pages(), (std::vector<DirtyPage>{{"d/g", 5}}));
  ASSERT_TRUE(g->write_at(0, "v").is_ok());
  ASSERT_TRUE(g->truncate(kPage).is_ok());
  EXPECT_EQ(fs.dirty_pages(), (std::vector<DirtyPage>{{"d/g", 0}})) << "truncated pages are not dirty";
  ASSERT_TRUE(fs.rename("d/g", "d/h").is_ok());
  EXPECT_EQ(fs.dirty_pages(), (std::vector<DirtyPage>{{"d/h", 0}})) << "named by the volatile name";
  fs.crash_with(every_page(PageFate::kKept), true);
  EXPECT_TRUE(fs.dirty_pages().empty());
  EXPECT_EQ(fs.list("d").value(), (std::vector<std::string>{"f", "h"}));
  // Never synced, so its size comes from the kept page: up to the volatile size.
  EXPECT_EQ(read_all(fs, "d/h"), "v" + std::string(kPage - 1, '\0'));
  EXPECT_EQ(fs.stats().crashes, 1U);
}

}  // namespace
}  // namespace synod::sim
