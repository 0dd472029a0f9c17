// `synodctl wal verify DIR`: reports a healthy member, names the file and offset of corruption (exit
// 1), and reports a torn tail it would repair without touching the directory.
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>

#include <gtest/gtest.h>

#include "storage/disk_storage.h"
#include "storage/posix_file_system.h"
#include "storage/segment.h"
#include "support/run_tool.h"

namespace synod::storage {
namespace {

using testing_support::ToolRun;

ToolRun run_synodctl(const std::string& args) {
  return testing_support::run_tool(SYNODCTL, args);
}

class SynodctlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/synodctl-test-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
    DiskStorageOptions options;
    options.dir = dir_;
    options.cluster_id = 42;
    options.node_id = 3;
    DurableState state;
    std::vector<std::string> notes;
    std::unique_ptr<DiskStorage> storage = DiskStorage::open(fs_, options, state, notes).value();
    Ready ready;
    for (Index i = 1; i <= 5; ++i) ready.entries.push_back(Entry{2, i, EntryType::kNormal, "entry"});
    ready.hard_state = HardState{2, 3, 4};
    ASSERT_TRUE(storage->persist(ready).is_ok());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string segment() {
    std::vector<std::string> names = fs_.list(dir_ + "/wal").value();
    return dir_ + "/wal/" + names.at(0);
  }

  PosixFileSystem fs_;
  std::string dir_;
};

TEST_F(SynodctlTest, aHealthyMemberIsReported) {
  ToolRun run = run_synodctl("wal verify " + dir_);
  EXPECT_EQ(run.exit_status, 0) << run.output;
  EXPECT_NE(run.output.find("cluster 42, node 3"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("entries: 1 .. 5 (last term 2)"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("hard state: term 2, vote 3, commit 4"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("\nOK\n"), std::string::npos) << run.output;
}

TEST_F(SynodctlTest, corruptionIsNamedWithItsFileAndOffset) {
  std::unique_ptr<File> file = fs_.open(segment(), OpenMode::kOpenExisting).value();
  ASSERT_TRUE(file->write_at(kSegmentHeaderBytes + 2, "\x55").is_ok());
  file.reset();
  ToolRun run = run_synodctl("wal verify " + dir_);
  EXPECT_EQ(run.exit_status, 1) << run.output;
  EXPECT_NE(run.output.find("CORRUPT"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find(segment() + " at offset " + std::to_string(kSegmentHeaderBytes)),
            std::string::npos)
      << run.output;
}

TEST_F(SynodctlTest, aTornTailIsReportedButLeftAlone) {
  std::unique_ptr<File> file = fs_.open(segment(), OpenMode::kOpenExisting).value();
  std::string data = file->read_at(0, 4096).value();
  size_t end = kSegmentHeaderBytes;
  while (end + 8 <= data.size() && data.substr(end, 8) != std::string(8, '\0')) end += 8;
  ASSERT_TRUE(file->write_at(end, "\x30\x00\x00\x00torn").is_ok());
  std::string before = file->read_at(0, 1 << 20).value();
  file.reset();
  ToolRun run = run_synodctl("wal verify " + dir_);
  EXPECT_EQ(run.exit_status, 0) << run.output;
  EXPECT_NE(run.output.find("would truncate a torn tail"), std::string::npos) << run.output;
  EXPECT_EQ(fs_.open(segment(), OpenMode::kReadOnly).value()->read_at(0, 1 << 20).value(), before)
      << "verify must not change the directory";
}

TEST(Synodctl, badUsageAndMissingDirectoriesAreClearErrors) {
  EXPECT_EQ(run_synodctl("wal frobnicate /tmp").exit_status, 2);
  ToolRun run = run_synodctl("wal verify /nonexistent-synod-dir");
  EXPECT_EQ(run.exit_status, 1);
  EXPECT_NE(run.output.find("not a Synod data directory"), std::string::npos) << run.output;
}

}  // namespace
}  // namespace synod::storage
