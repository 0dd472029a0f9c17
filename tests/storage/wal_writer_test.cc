// Group commit: batches from many threads share fsyncs, each caller learns its batch is durable, and
// everything acknowledged is there after a reopen.
#include "storage/wal_writer.h"

#include <unistd.h>

#include <filesystem>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "storage/posix_file_system.h"

namespace synod::storage {
namespace {

TEST(WalWriter, concurrentCallersShareFsyncsAndEverythingAcknowledgedIsDurable) {
  char pattern[] = "/tmp/synod-writer-test-XXXXXX";
  ASSERT_NE(::mkdtemp(pattern), nullptr);
  PosixFileSystem fs;
  WalOptions options{std::string(pattern) + "/wal", 1, 1, 1 << 16};
  constexpr int kThreads = 8;
  constexpr int kPerThread = 40;
  {
    WalContents contents;
    std::unique_ptr<Wal> wal = Wal::open(fs, options, contents).value();
    WalWriter writer(*wal);
    std::mutex order;  // the log is one sequence: indexes are handed out in submission order
    Index next = 1;
    std::vector<std::thread> threads;
    std::atomic<int> failures{0};
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&] {
        for (int i = 0; i < kPerThread; ++i) {
          std::future<Result<Index>> done;
          Index index = 0;
          {
            std::lock_guard<std::mutex> lock(order);
            index = next++;
            done = writer.submit({Entry{1, index, EntryType::kNormal, std::string(100, 'x')}},
                                 HardState{1, 1, index});
          }
          Result<Index> durable = done.get();
          if (!durable.is_ok() || durable.value() < index) ++failures;
        }
      });
    }
    for (std::thread& thread : threads) thread.join();
    EXPECT_EQ(failures.load(), 0);
    EXPECT_EQ(writer.submissions(), uint64_t{kThreads * kPerThread});
    EXPECT_LE(writer.groups_written(), writer.submissions());
    std::cout << writer.submissions() << " submissions in " << writer.groups_written() << " fsyncs\n";
  }
  WalContents contents;
  ASSERT_TRUE(Wal::open(fs, options, contents).is_ok());
  ASSERT_EQ(contents.entries.size(), size_t{kThreads * kPerThread});
  EXPECT_EQ(contents.entries.back().index, Index{kThreads * kPerThread});
  EXPECT_EQ(contents.hard_state.commit, Index{kThreads * kPerThread});
  std::filesystem::remove_all(pattern);
}

TEST(WalWriter, aLaterBatchOverwritesAnEarlierOneInTheSameGroup) {
  char pattern[] = "/tmp/synod-writer-test-XXXXXX";
  ASSERT_NE(::mkdtemp(pattern), nullptr);
  PosixFileSystem fs;
  WalOptions options{std::string(pattern) + "/wal", 1, 1, 1 << 16};
  {
    WalContents contents;
    std::unique_ptr<Wal> wal = Wal::open(fs, options, contents).value();
    WalWriter writer(*wal);
    auto a = writer.submit({Entry{1, 1, EntryType::kNormal, "a"}, Entry{1, 2, EntryType::kNormal, "b"}},
                           std::nullopt);
    auto b = writer.submit({Entry{2, 2, EntryType::kNormal, "c"}}, HardState{2, 0, 1});
    EXPECT_TRUE(a.get().is_ok());
    EXPECT_TRUE(b.get().is_ok());
  }
  WalContents contents;
  ASSERT_TRUE(Wal::open(fs, options, contents).is_ok());
  ASSERT_EQ(contents.entries.size(), 2U);
  EXPECT_EQ(contents.entries[1].data, "c");
  EXPECT_EQ(contents.entries[1].term, 2U);
  std::filesystem::remove_all(pattern);
}

}  // namespace
}  // namespace synod::storage
