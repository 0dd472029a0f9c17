// The `synod` binary's command line, run as a user would: every mistake is a clear error and exit 2,
// before anything is written to disk.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "server/process.h"
#include "support/run_tool.h"

namespace synod::server {
namespace {

using testing_support::run_tool;
using testing_support::ToolRun;

class SynodCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("synod-cli-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  ToolRun synod(const std::string& arguments) { return run_tool(SYNOD_BINARY, arguments); }
  std::string member_flags() {
    uint16_t peer = free_port().value();
    uint16_t client = free_port().value();
    return "--name a --data-dir " + (dir_ / "a").string() +
           " --listen-peer-urls http://127.0.0.1:" + std::to_string(peer) +
           " --listen-client-urls http://127.0.0.1:" + std::to_string(client);
  }

  std::filesystem::path dir_;
};

TEST_F(SynodCliTest, HelpAndVersion) {
  ToolRun help = synod("--help");
  EXPECT_EQ(help.exit_status, 0);
  for (const char* flag :
       {"--name", "--data-dir", "--listen-peer-urls", "--listen-client-urls", "--advertise-client-urls",
        "--initial-advertise-peer-urls", "--initial-cluster", "--initial-cluster-state",
        "--initial-cluster-token", "--heartbeat-interval", "--election-timeout", "--snapshot-count",
        "--max-request-bytes", "--listen-metrics-urls", "--log-level", "--engine", "local"}) {
    EXPECT_NE(help.output.find(flag), std::string::npos) << "--help does not mention " << flag;
  }
  ToolRun version = synod("--version");
  EXPECT_EQ(version.exit_status, 0);
  EXPECT_NE(version.output.find("synod 0."), std::string::npos) << version.output;
  EXPECT_EQ(synod("local --help").exit_status, 0);
}

TEST_F(SynodCliTest, MistakesAreClearErrorsAndWriteNothing) {
  struct Case {
    std::string arguments;
    std::string says;
  };
  std::vector<Case> cases = {
      {"--no-such-flag", "no-such-flag"},
      {"--heartbeat-interval abc", "heartbeat-interval"},
      {"--log-level chatty", "log-level"},
      {"--engine pbft", "engine"},
      {member_flags() + " --election-timeout 200", "at least 5 times"},
      {member_flags() + " --advertise-client-urls https://127.0.0.1:1", "TLS is not supported"},
      {member_flags() + " --initial-cluster b=http://127.0.0.1:1", "not one of the members"},
      {member_flags() + " --initial-cluster-state existing", "membership changes"},
      {"local --nodes 0", "nodes"},
      {member_flags() + " --max-txn-ops 0", "--max-txn-ops"},
      {member_flags() + " --quota-backend-bytes lots", "quota-backend-bytes"},
  };
  for (const Case& c : cases) {
    ToolRun run = synod(c.arguments);
    EXPECT_NE(run.exit_status, 0) << c.arguments;
    EXPECT_NE(run.output.find(c.says), std::string::npos) << c.arguments << "\n" << run.output;
  }
  // Flag mistakes exit 2; the refusal of an existing-cluster join comes from the member (exit 1).
  EXPECT_EQ(synod("--no-such-flag").exit_status, 2);
  EXPECT_FALSE(std::filesystem::exists(dir_ / "a" / "synod.meta"));
}

// `synod snapshot restore` refuses what it cannot restore, with the reason, and leaves no member behind.
TEST_F(SynodCliTest, RestoreRefusesMissingOrDamagedBackupsAndUsedDataDirs) {
  std::string flags = member_flags();
  ToolRun missing = synod("snapshot restore " + (dir_ / "none.db").string() + " " + flags);
  EXPECT_EQ(missing.exit_status, 1);
  EXPECT_NE(missing.output.find("cannot read the backup"), std::string::npos) << missing.output;

  std::string garbage = (dir_ / "garbage.db").string();
  {
    std::ofstream out(garbage, std::ios::binary);
    out << std::string(4096, 'g');
  }
  ToolRun damaged = synod("snapshot restore " + garbage + " " + flags);
  EXPECT_EQ(damaged.exit_status, 1);
  EXPECT_NE(damaged.output.find("not a usable Synod backup"), std::string::npos) << damaged.output;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "a"));
  EXPECT_FALSE(std::filesystem::exists(dir_ / "a.restoring"));

  std::filesystem::create_directories(dir_ / "a");
  { std::ofstream(dir_ / "a" / "something") << "x"; }
  ToolRun used = synod("snapshot restore " + garbage + " " + flags);
  EXPECT_EQ(used.exit_status, 1);
  EXPECT_NE(used.output.find("is not empty"), std::string::npos) << used.output;

  EXPECT_EQ(synod("snapshot restore").exit_status, 2) << "the backup is required";
  EXPECT_EQ(synod("snapshot").exit_status, 2);
}

}  // namespace
}  // namespace synod::server
