// etcdctl 3.4's lock against Synod. etcdctl runs etcd's client-side Mutex recipe over KV, Lease and
// Watch, so these tests check that it excludes, and that it queues together with the server-side Lock
// service (both use name/<lease hex> keys ordered by create revision). Skipped when etcdctl is not
// installed.
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <vector>

#include "api/etcdctl_runner.h"
#include "api/lock_test_util.h"

namespace synod::api::test {
namespace {

using namespace std::chrono_literals;

class LockEtcdctlTest : public RecipeFixture {
 protected:
  void SetUp() override {
    if (access(kEtcdctl, X_OK) != 0) GTEST_SKIP() << kEtcdctl << " is not installed";
    RecipeFixture::SetUp();
  }
  std::string command(const std::string& args) const { return etcdctl_command(endpoint(), args); }
};

TEST_F(LockEtcdctlTest, etcdctlLockWaitsForAServerSideHolderThenRunsItsCommand) {
  int64_t lease = grant();
  v3lockpb::LockResponse held;
  ASSERT_TRUE(lock("shared", lease, held).ok());

  Background contender(command("lock shared -- sh -c 'echo held $ETCD_LOCK_KEY'"));
  ASSERT_TRUE(wait_for_keys("shared/", 2));
  EXPECT_EQ(contender.read_for(300ms), "") << "etcdctl ran its command while the lock was held";

  ASSERT_TRUE(unlock(held.key()).ok());
  std::string output = contender.read_until_contains("\n");
  EXPECT_EQ(output.rfind("held shared/", 0), 0u) << output;
  EXPECT_TRUE(contender.wait_exit(10s));
  // etcdctl unlocks when its command ends.
  EXPECT_TRUE(wait_for_keys("shared/", 0));
}

TEST_F(LockEtcdctlTest, aServerSideLockWaitsForEtcdctlToLetGo) {
  Background holder(command("lock held-by-etcdctl"));
  std::string output = holder.read_until_contains("\n");
  EXPECT_EQ(output.rfind("held-by-etcdctl/", 0), 0u) << output;

  int64_t lease = grant();
  auto waiter = std::async(std::launch::async, [&] {
    v3lockpb::LockResponse response;
    return lock("held-by-etcdctl", lease, response);
  });
  ASSERT_TRUE(wait_for_keys("held-by-etcdctl/", 2));
  EXPECT_EQ(waiter.wait_for(300ms), std::future_status::timeout) << "two holders at once";
  holder.stop(SIGTERM);  // etcdctl releases the lock (its session's lease) on SIGTERM
  grpc::Status status = waiter.get();
  EXPECT_TRUE(status.ok()) << status.error_message();
}

TEST_F(LockEtcdctlTest, twoEtcdctlContendersNeverRunTheirCommandsTogether) {
  std::filesystem::path log =
      std::filesystem::temp_directory_path() / ("synod-lock-etcdctl-" + std::to_string(getpid()));
  std::filesystem::remove(log);
  auto body = [&](const std::string& who) {
    return command("lock two -- sh -c 'echo " + who + "-in >> " + log.string() + "; sleep 0.5; echo " + who +
                   "-out >> " + log.string() + "'");
  };
  {
    Background a(body("a"));
    Background b(body("b"));
    EXPECT_TRUE(a.wait_exit(30s));
    EXPECT_TRUE(b.wait_exit(30s));
  }
  std::ifstream in(log);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  std::filesystem::remove(log);
  ASSERT_EQ(lines.size(), 4u);
  // Each command's in and out are adjacent: the other one never ran in between.
  EXPECT_EQ(lines[0].substr(0, 1), lines[1].substr(0, 1));
  EXPECT_EQ(lines[2].substr(0, 1), lines[3].substr(0, 1));
  EXPECT_NE(lines[0].substr(0, 1), lines[2].substr(0, 1));
  EXPECT_EQ(lines[0].substr(1), "-in");
  EXPECT_EQ(lines[1].substr(1), "-out");
  EXPECT_TRUE(wait_for_keys("two/", 0));
}

}  // namespace
}  // namespace synod::api::test
