// etcdctl 3.4's watch against Synod's Watch service in process: `etcdctl watch` runs in the background,
// the test writes through etcdctl, and etcdctl's output must be what it prints against etcd. Skipped
// when etcdctl is not installed.
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "api/server_fixture.h"
#include "kv/watch_hub.h"

namespace synod::api {
namespace {

constexpr const char* kEtcdctl = "/usr/bin/etcdctl";

// A command running in the background with its stdout and stderr in a pipe.
class Background {
 public:
  explicit Background(const std::string& command) {
    int fds[2];
    if (pipe(fds) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(fds[1], STDOUT_FILENO);
      dup2(fds[1], STDERR_FILENO);
      close(fds[0]);
      close(fds[1]);
      execl("/bin/sh", "sh", "-c", ("exec " + command).c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    close(fds[1]);
    fd_ = fds[0];
  }
  ~Background() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
    if (fd_ >= 0) close(fd_);
  }
  Background(const Background&) = delete;
  Background& operator=(const Background&) = delete;

  // Reads until the output so far equals `wanted` or 20 seconds pass; returns the output.
  std::string read_until(const std::string& wanted) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (output_ != wanted && output_.size() < wanted.size() + 4096 &&
           std::chrono::steady_clock::now() < deadline) {
      pollfd fd{fd_, POLLIN, 0};
      if (poll(&fd, 1, 100) <= 0) continue;
      std::array<char, 4096> buffer{};
      ssize_t n = read(fd_, buffer.data(), buffer.size());
      if (n <= 0) break;
      output_.append(buffer.data(), static_cast<size_t>(n));
    }
    return output_;
  }

 private:
  pid_t pid_ = -1;
  int fd_ = -1;
  std::string output_;
};

class WatchEtcdctlTest : public test::ServerFixture {
 protected:
  void SetUp() override {
    if (access(kEtcdctl, X_OK) != 0) GTEST_SKIP() << kEtcdctl << " is not installed";
    start();
  }

  std::string command(const std::string& args) const {
    return std::string("env ETCDCTL_API=3 ") + kEtcdctl + " --endpoints=" + endpoint() +
           " --dial-timeout=5s --command-timeout=20s " + args;
  }
  std::string etcdctl(const std::string& args) {
    // Bounded: a watch that is never canceled would otherwise hang the test.
    FILE* pipe = popen(("timeout 30 " + command(args) + " 2>&1").c_str(), "r");
    if (pipe == nullptr) return "popen failed";
    std::string output;
    std::array<char, 4096> buffer{};
    while (size_t n = fread(buffer.data(), 1, buffer.size(), pipe)) output.append(buffer.data(), n);
    pclose(pipe);
    return output;
  }
  // Waits until the hub holds `count` watchers: etcdctl prints nothing when its watch is created.
  bool wait_for_watchers(size_t count) {
    for (int i = 0; i < 400; ++i) {
      if (backend_.watch_hub().watcher_count() == count) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }
};

TEST_F(WatchEtcdctlTest, watchPrintsPutsAndDeletes) {
  Background watch(command("watch foo"));
  ASSERT_TRUE(wait_for_watchers(1));
  EXPECT_EQ(etcdctl("put foo bar"), "OK\n");
  EXPECT_EQ(etcdctl("put other x"), "OK\n");
  EXPECT_EQ(etcdctl("del foo"), "1\n");
  std::string wanted = "PUT\nfoo\nbar\nDELETE\nfoo\n\n";
  EXPECT_EQ(watch.read_until(wanted), wanted);
}

TEST_F(WatchEtcdctlTest, watchPrefixFromAnOldRevisionReplaysTheHistory) {
  EXPECT_EQ(etcdctl("put foo 1"), "OK\n");   // 2
  EXPECT_EQ(etcdctl("put bar 2"), "OK\n");   // 3
  EXPECT_EQ(etcdctl("put foo2 3"), "OK\n");  // 4
  EXPECT_EQ(etcdctl("del foo"), "1\n");      // 5
  Background watch(command("watch --prefix foo --rev 2"));
  std::string replayed = "PUT\nfoo\n1\nPUT\nfoo2\n3\nDELETE\nfoo\n\n";
  EXPECT_EQ(watch.read_until(replayed), replayed);
  EXPECT_EQ(etcdctl("put foo3 4"), "OK\n");
  EXPECT_EQ(watch.read_until(replayed + "PUT\nfoo3\n4\n"), replayed + "PUT\nfoo3\n4\n");
}

TEST_F(WatchEtcdctlTest, watchPrevKvPrintsThePreviousVersion) {
  EXPECT_EQ(etcdctl("put foo old"), "OK\n");  // 2
  // From the next revision, so no write can slip in before the watch exists.
  Background watch(command("watch --prev-kv foo --rev 3"));
  EXPECT_EQ(etcdctl("put foo new"), "OK\n");
  EXPECT_EQ(etcdctl("del foo"), "1\n");
  std::string wanted = "PUT\nfoo\nold\nfoo\nnew\nDELETE\nfoo\nnew\nfoo\n\n";
  EXPECT_EQ(watch.read_until(wanted), wanted);
}

TEST_F(WatchEtcdctlTest, watchFromACompactedRevisionFailsLikeEtcd) {
  EXPECT_EQ(etcdctl("put a 1"), "OK\n");
  EXPECT_EQ(etcdctl("put a 2"), "OK\n");
  EXPECT_EQ(etcdctl("compaction 3"), "compacted revision 3\n");
  std::string output = etcdctl("watch a --rev 2");
  EXPECT_NE(output.find("required revision has been compacted"), std::string::npos) << output;
}

}  // namespace
}  // namespace synod::api
