#include "server/process.h"

#include <signal.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace synod::server {
namespace {

TEST(ChildProcessTest, ReportsExitStatusAndOutput) {
  std::string output =
      std::filesystem::temp_directory_path() / ("synod-process-" + std::to_string(::getpid()));
  std::filesystem::remove(output);
  Result<ChildProcess> child = ChildProcess::spawn("/bin/sh", {"-c", "echo hello; exit 3"}, output);
  ASSERT_TRUE(child.is_ok()) << child.status().to_string();
  std::optional<int> status = child.value().wait_for(std::chrono::seconds(10));
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(describe_wait_status(*status), "exited with status 3");
  std::ifstream in(output);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "hello");
  std::filesystem::remove(output);
}

TEST(ChildProcessTest, KillAndStop) {
  Result<ChildProcess> sleeper = ChildProcess::spawn("/bin/sleep", {"30"}, "");
  ASSERT_TRUE(sleeper.is_ok());
  ChildProcess child = std::move(sleeper).value();
  EXPECT_TRUE(child.running());
  EXPECT_FALSE(child.poll().has_value());
  child.signal(SIGSTOP);
  // A stopped child still stops cleanly: stop() continues it before SIGTERM.
  int status = child.stop(std::chrono::seconds(5));
  EXPECT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGTERM);
  EXPECT_FALSE(child.running());
  EXPECT_NE(describe_wait_status(status).find("killed by signal 15"), std::string::npos);
}

TEST(ChildProcessTest, FreePortsAreUsable) {
  Result<uint16_t> port = free_port();
  ASSERT_TRUE(port.is_ok()) << port.status().to_string();
  EXPECT_GT(port.value(), 0);
  EXPECT_FALSE(free_port("not-an-ip").is_ok());
}

}  // namespace
}  // namespace synod::server
