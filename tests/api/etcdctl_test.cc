// etcdctl 3.4 (Debian's etcd-client) against Synod's etcd services in process: the real client's
// put, get, get --prefix, del, txn, compaction, endpoint status and member list work and print what
// they print against etcd. Skipped when etcdctl is not installed.
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "api/backup.h"
#include "api/etcdctl_runner.h"
#include "api/server_fixture.h"

namespace synod::api {
namespace {

class EtcdctlTest : public test::ServerFixture {
 protected:
  void SetUp() override {
    if (!test::etcdctl_installed()) GTEST_SKIP() << test::kEtcdctl << " is not installed";
    start();
  }

  std::string etcdctl(const std::string& args, const std::string& input = "") {
    return test::run_etcdctl(endpoint(), args, input);
  }
};

TEST_F(EtcdctlTest, putGetPrefixAndDelete) {
  EXPECT_EQ(etcdctl("put foo bar"), "OK\n");
  EXPECT_EQ(etcdctl("put foo2 baz"), "OK\n");
  EXPECT_EQ(etcdctl("put other x"), "OK\n");
  EXPECT_EQ(etcdctl("get foo"), "foo\nbar\n");
  EXPECT_EQ(etcdctl("get --prefix foo"), "foo\nbar\nfoo2\nbaz\n");
  EXPECT_EQ(etcdctl("get --prefix foo --keys-only"), "foo\n\nfoo2\n\n");
  EXPECT_EQ(etcdctl("get foo --print-value-only"), "bar\n");
  EXPECT_EQ(etcdctl("get missing"), "");
  EXPECT_EQ(etcdctl("del foo"), "1\n");
  EXPECT_EQ(etcdctl("del --prefix foo"), "1\n");
  EXPECT_EQ(etcdctl("get --from-key ''"), "other\nx\n");
  // A read at an old revision, through the JSON output that shows revisions.
  EXPECT_EQ(etcdctl("get foo --rev=2"), "foo\nbar\n");
}

TEST_F(EtcdctlTest, txnTakesTheRightBranch) {
  EXPECT_EQ(etcdctl("put key1 v1"), "OK\n");
  std::string script = "value(\"key1\") = \"v1\"\n\nput key1 v2\nget key1\n\nget key1\n\n";
  EXPECT_EQ(etcdctl("txn", script), "SUCCESS\n\nOK\n\nkey1\nv2\n");
  EXPECT_EQ(etcdctl("txn", script), "FAILURE\n\nkey1\nv2\n");
}

TEST_F(EtcdctlTest, errorsReadLikeEtcds) {
  EXPECT_EQ(etcdctl("put a 1"), "OK\n");
  EXPECT_EQ(etcdctl("put a 2"), "OK\n");
  EXPECT_EQ(etcdctl("compaction 3"), "compacted revision 3\n");
  std::string old = etcdctl("get a --rev=2");
  EXPECT_NE(old.find("etcdserver: mvcc: required revision has been compacted"), std::string::npos) << old;
  std::string future = etcdctl("get a --rev=99");
  EXPECT_NE(future.find("etcdserver: mvcc: required revision is a future revision"), std::string::npos)
      << future;
}

TEST_F(EtcdctlTest, endpointStatusAndMemberList) {
  EXPECT_EQ(etcdctl("put k v"), "OK\n");
  std::string status = etcdctl("endpoint status");
  // endpoint, ID, version, DB size, is leader, is learner, raft term, raft index, applied index, errors
  EXPECT_NE(status.find(endpoint() + ", 8e9e05c52164694d, 3.4.0, "), std::string::npos) << status;
  EXPECT_NE(status.find(", true, false, 7, 42, 1, "), std::string::npos) << status;
  std::string members = etcdctl("member list");
  EXPECT_NE(
      members.find("8e9e05c52164694d, started, synod-1, http://127.0.0.1:2380, http://127.0.0.1:2379, false"),
      std::string::npos)
      << members;
  EXPECT_NE(members.find("2, unstarted, , http://127.0.0.2:2380, , true"), std::string::npos) << members;
}

}  // namespace
}  // namespace synod::api

namespace synod::api {
namespace {

TEST_F(EtcdctlTest, maintenanceCommands) {
  EXPECT_EQ(etcdctl("put k v"), "OK\n");
  std::string hash = etcdctl("endpoint hashkv");
  EXPECT_NE(hash.find(endpoint() + ", "), std::string::npos) << hash;
  EXPECT_EQ(hash.find("exit"), std::string::npos) << hash;
  EXPECT_EQ(etcdctl("alarm list"), "");
  EXPECT_NE(etcdctl("defrag").find("Finished defragmenting etcd member[" + endpoint() + "]"),
            std::string::npos);
  std::string file = std::filesystem::temp_directory_path() / ("synod-snapshot-" + std::to_string(getpid()));
  std::string saved = etcdctl("snapshot save " + file);
  EXPECT_NE(saved.find("Snapshot saved at " + file), std::string::npos) << saved;
  std::string bytes;
  {
    FILE* in = fopen(file.c_str(), "rb");
    ASSERT_NE(in, nullptr);
    std::array<char, 4096> buffer{};
    while (size_t n = fread(buffer.data(), 1, buffer.size(), in)) bytes.append(buffer.data(), n);
    fclose(in);
  }
  std::filesystem::remove(file);
  Result<std::string> inside = decode_backup(bytes);
  ASSERT_TRUE(inside.is_ok()) << inside.status().to_string();
  kv::MvccStore restored;
  ASSERT_TRUE(restored.restore(inside.value()).is_ok())
      << "etcdctl saved something that is not Synod's snapshot";
  EXPECT_EQ(restored.revision(), store_.revision());
  std::string add = etcdctl("member add x --peer-urls=http://127.0.0.1:9");
  EXPECT_NE(add.find("membership changes are not supported"), std::string::npos) << add;
  for (const char* command : {"member remove 1", "member update 1 --peer-urls=http://127.0.0.1:9",
                              "member promote 1", "member add y --learner --peer-urls=http://127.0.0.1:9"}) {
    std::string refused = etcdctl(command);
    EXPECT_NE(refused.find("membership changes are not supported"), std::string::npos)
        << command << ": " << refused;
  }
}

}  // namespace
}  // namespace synod::api
