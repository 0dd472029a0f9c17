// A LocalCluster (server/local_cluster.h): three members in one process, each on its own disk, talking
// only over TCP on loopback. They elect a leader, commit writes, serve linearizable reads at every
// member, go on when the leader is killed, and the killed member comes back from its disk and catches
// up.
#include <unistd.h>

#include <filesystem>
#include <thread>

#include <gtest/gtest.h>

#include "server/local_cluster.h"

namespace synod::server {
namespace {

using namespace std::chrono_literals;

// Sends `command` to the leader (whoever that is) until it is answered.
Result<kv::MapResult> until_answered(LocalCluster& cluster, const kv::MapCommand& command) {
  Result<kv::MapResult> result = Status(ErrorCode::kUnavailable, "not tried");
  for (int attempt = 0; attempt < 100 && !result.is_ok(); ++attempt) {
    NodeId leader = cluster.wait_for_leader();
    if (leader == kNoNode) break;
    result = cluster.request(leader, command);
    if (!result.is_ok()) std::this_thread::sleep_for(10ms);
  }
  return result;
}

std::optional<std::string> read_at(LocalCluster& cluster, NodeId id, const std::string& key) {
  for (int attempt = 0; attempt < 100; ++attempt) {
    Result<kv::MapResult> result = cluster.request(id, kv::MapCommand{kv::MapOp::kGet, 0, 0, key, "", ""});
    if (result.is_ok()) return result.value().value.value_or("<absent>");
    std::this_thread::sleep_for(10ms);
  }
  return std::nullopt;
}

TEST(LocalCluster, threeMembersOverTcpCommitReadSurviveTheLeadersDeathAndRecoverIt) {
  char pattern[] = "/tmp/synod-local-cluster-XXXXXX";
  ASSERT_NE(::mkdtemp(pattern), nullptr);
  {
    LocalClusterOptions options;
    options.root = pattern;
    options.tick = 5ms;
    options.snapshot_entries = 20;  // the restarted member may need a snapshot to catch up
    LocalCluster cluster(options);
    ASSERT_TRUE(cluster.start().is_ok());
    ASSERT_NE(cluster.wait_for_leader(), kNoNode);
    uint64_t sequence = 0;
    for (int i = 1; i <= 50; ++i) {
      Result<kv::MapResult> put =
          until_answered(cluster, kv::MapCommand{kv::MapOp::kPut, 1, ++sequence, "x", std::to_string(i), ""});
      ASSERT_TRUE(put.is_ok()) << put.status().to_string();
    }
    for (NodeId id : cluster.ids()) EXPECT_EQ(read_at(cluster, id, "x"), "50") << "member " << id;

    NodeId old_leader = cluster.wait_for_leader();
    cluster.kill(old_leader);
    for (int i = 51; i <= 100; ++i) {
      Result<kv::MapResult> put =
          until_answered(cluster, kv::MapCommand{kv::MapOp::kPut, 1, ++sequence, "x", std::to_string(i), ""});
      ASSERT_TRUE(put.is_ok()) << put.status().to_string();
    }
    Result<kv::MapResult> cas =
        until_answered(cluster, kv::MapCommand{kv::MapOp::kCas, 1, ++sequence, "x", "cas", "100"});
    ASSERT_TRUE(cas.is_ok());
    EXPECT_TRUE(cas.value().succeeded);

    ASSERT_TRUE(cluster.restart(old_leader).is_ok());
    EXPECT_EQ(read_at(cluster, old_leader, "x"), "cas") << "the restarted member caught up";
  }
  std::filesystem::remove_all(pattern);
}

}  // namespace
}  // namespace synod::server
