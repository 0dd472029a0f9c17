// Three members in one process, each a NodeRunner (node/node_runner.h) on its own disk, talking only
// over the TCP transport on loopback: they elect a leader, commit writes and serve linearizable reads;
// when the leader's transport goes away the others elect a new one and go on.
#include <unistd.h>

#include <array>
#include <atomic>
#include <filesystem>
#include <thread>

#include <gtest/gtest.h>

#include "kv/map_command.h"
#include "kv/map_store.h"
#include "node/node_runner.h"
#include "raft/config.h"
#include "sim/raft_engine.h"
#include "storage/disk_storage.h"
#include "storage/posix_file_system.h"
#include "transport/tcp_transport.h"

namespace synod {
namespace {

using namespace std::chrono_literals;

struct Member {
  std::unique_ptr<storage::DiskStorage> storage;
  std::unique_ptr<kv::MapStore> map;
  std::unique_ptr<transport::TcpTransport> transport;
  std::unique_ptr<node::NodeRunner> runner;
  std::atomic<node::NodeRunner*> inbox{nullptr};  // where the transport hands messages
};

class TcpCluster {
 public:
  explicit TcpCluster(std::string root) : root_(std::move(root)) {
    for (NodeId id : ids_) {
      Member& member = members_[id];
      transport::TcpTransportOptions options;
      options.cluster_id = 5;
      options.self = id;
      member.transport = transport::TcpTransport::start(options, [&member](Message&& message) {
                           if (node::NodeRunner* runner = member.inbox.load())
                             runner->deliver(std::move(message));
                         }).value();
    }
    for (NodeId id : ids_) {
      for (NodeId peer : ids_) {
        if (peer != id) members_[id].transport->set_peer(peer, "127.0.0.1", members_[peer].transport->port());
      }
    }
    for (NodeId id : ids_) {
      Member& member = members_[id];
      storage::DiskStorageOptions options;
      options.dir = root_ + "/m" + std::to_string(id);
      options.cluster_id = 5;
      options.node_id = id;
      options.segment_bytes = 1 << 20;
      DurableState state;
      std::vector<std::string> notes;
      member.storage = storage::DiskStorage::open(fs_, options, state, notes).value();
      member.map = std::make_unique<kv::MapStore>();
      std::unique_ptr<Engine> engine =
          sim::raft_engine_factory(raft::Config{})(id, ids_, 31 * id, state).value();
      node::NodeOptions node_options;
      node_options.id = id;
      node_options.voters = ids_;
      node_options.incarnation = 1;
      transport::TcpTransport* out = member.transport.get();
      auto node = std::make_unique<node::Node>(node_options, std::move(engine), *member.map, *member.storage,
                                               [out](Message&& m) { out->send(std::move(m)); });
      member.runner = std::make_unique<node::NodeRunner>(std::move(node), 5ms);
      member.inbox = member.runner.get();
    }
  }
  ~TcpCluster() {
    for (NodeId id : ids_) members_[id].inbox = nullptr;
    for (NodeId id : ids_) {
      if (members_[id].runner) members_[id].runner->stop();
    }
    for (NodeId id : ids_) members_[id].transport.reset();
  }

  // Cuts a member off: its transport closes (peers redial in vain) and its loop stops.
  void kill(NodeId id) {
    members_[id].inbox = nullptr;
    members_[id].runner->stop();  // first: its loop sends through the transport
    members_[id].transport.reset();
  }
  bool alive(NodeId id) { return members_[id].transport != nullptr; }
  std::optional<NodeId> leader() {
    for (NodeId id : ids_) {
      if (alive(id) && members_[id].runner->status().role == Role::kLeader) return id;
    }
    return std::nullopt;
  }
  NodeId wait_for_leader(std::optional<NodeId> other_than = std::nullopt) {
    for (int i = 0; i < 2000; ++i) {
      std::optional<NodeId> id = leader();
      if (id && id != other_than) return *id;
      std::this_thread::sleep_for(5ms);
    }
    ADD_FAILURE() << "no leader in 10 s";
    return kNoNode;
  }
  Result<std::string> put(NodeId at, uint64_t sequence, const std::string& key, const std::string& value) {
    auto done =
        members_[at].runner->propose(kv::MapCommand{kv::MapOp::kPut, 1, sequence, key, value, ""}.encode());
    if (done.wait_for(5s) != std::future_status::ready) return Status(ErrorCode::kTimedOut, "no answer");
    return done.get();
  }
  Result<std::string> get(NodeId at, const std::string& key) {
    const kv::MapStore* map = members_[at].map.get();
    auto done = members_[at].runner->read([map, key] { return map->get(key).value_or("<absent>"); });
    if (done.wait_for(5s) != std::future_status::ready) return Status(ErrorCode::kTimedOut, "no answer");
    return done.get();
  }
  const std::vector<NodeId>& ids() const { return ids_; }

 private:
  std::string root_;
  storage::PosixFileSystem fs_;
  std::vector<NodeId> ids_{1, 2, 3};
  std::map<NodeId, Member> members_;
};

TEST(TcpCluster, threeMembersOverTcpCommitReadAndSurviveTheLossOfTheLeader) {
  char pattern[] = "/tmp/synod-tcp-cluster-XXXXXX";
  ASSERT_NE(::mkdtemp(pattern), nullptr);
  {
    TcpCluster cluster(pattern);
    NodeId leader = cluster.wait_for_leader();
    uint64_t sequence = 0;
    for (int i = 1; i <= 50; ++i) {
      Result<std::string> put = cluster.put(leader, ++sequence, "x", std::to_string(i));
      ASSERT_TRUE(put.is_ok()) << put.status().to_string();
    }
    for (NodeId id : cluster.ids()) {
      Result<std::string> value = cluster.get(id, "x");
      ASSERT_TRUE(value.is_ok()) << "member " << id << ": " << value.status().to_string();
      EXPECT_EQ(value.value(), "50") << "member " << id;
    }

    cluster.kill(leader);
    NodeId next = cluster.wait_for_leader(leader);
    ASSERT_NE(next, leader);
    Result<std::string> put = Status(ErrorCode::kUnavailable, "not tried");
    for (int attempt = 0; attempt < 50 && !put.is_ok(); ++attempt) {
      put = cluster.put(cluster.wait_for_leader(leader), ++sequence, "x", "after");
    }
    ASSERT_TRUE(put.is_ok()) << put.status().to_string();
    for (NodeId id : cluster.ids()) {
      if (id == leader) continue;
      Result<std::string> value = Status(ErrorCode::kUnavailable, "not tried");
      for (int attempt = 0; attempt < 50 && !value.is_ok(); ++attempt) value = cluster.get(id, "x");
      ASSERT_TRUE(value.is_ok()) << "member " << id << ": " << value.status().to_string();
      EXPECT_EQ(value.value(), "after") << "member " << id;
    }
  }
  std::filesystem::remove_all(pattern);
}

}  // namespace
}  // namespace synod
