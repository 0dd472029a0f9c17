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

#include "api/etcdctl_runner.h"
#include "api/server_fixture.h"
#include "kv/watch_hub.h"

namespace synod::api {
namespace {

using test::Background;

class WatchEtcdctlTest : public test::ServerFixture {
 protected:
  void SetUp() override {
    if (!test::etcdctl_installed()) GTEST_SKIP() << test::kEtcdctl << " is not installed";
    start();
  }

  std::string command(const std::string& args) const { return test::etcdctl_command(endpoint(), args); }
  std::string etcdctl(const std::string& args) { return test::run_etcdctl(endpoint(), args); }
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
