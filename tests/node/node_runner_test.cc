// The threaded node loop: three runners in one process, on real disks (temporary directories) and an
// in-process network, elect a leader, commit proposals from many client threads, serve linearizable
// reads at every member, and come back from their disks after a stop.
#include "node/node_runner.h"

#include <unistd.h>

#include <array>
#include <atomic>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "kv/map_command.h"
#include "kv/map_store.h"
#include "node/timed_storage.h"
#include "raft/config.h"
#include "sim/durable_store.h"
#include "sim/faulty_file_system.h"
#include "sim/raft_engine.h"
#include "storage/disk_storage.h"
#include "storage/posix_file_system.h"

namespace synod::node {
namespace {

using namespace std::chrono_literals;

struct Member {
  std::unique_ptr<storage::DiskStorage> storage;
  std::unique_ptr<kv::MapStore> map;
  std::unique_ptr<NodeRunner> runner;
};

class LocalCluster {
 public:
  explicit LocalCluster(std::string root) : root_(std::move(root)) {}
  ~LocalCluster() { stop(); }

  void start(uint64_t incarnation) {
    // Every member is built before any loop starts; loops find each other through `routes_` only.
    std::map<NodeId, std::unique_ptr<Node>> nodes;
    for (NodeId id : ids_) {
      Member& member = members_[id];
      storage::DiskStorageOptions options;
      options.dir = root_ + "/member" + std::to_string(id);
      options.cluster_id = 9;
      options.node_id = id;
      options.segment_bytes = 1 << 20;
      DurableState state;
      std::vector<std::string> notes;
      member.storage = storage::DiskStorage::open(fs_, options, state, notes).value();
      member.map = std::make_unique<kv::MapStore>();
      if (state.snapshot) {
        ASSERT_TRUE(member.map->restore(state.snapshot->data).is_ok());
      }
      raft::Config config;
      std::unique_ptr<Engine> engine =
          sim::raft_engine_factory(config)(id, ids_, 17 * id + incarnation, state).value();
      NodeOptions node_options;
      node_options.id = id;
      node_options.voters = ids_;
      node_options.incarnation = incarnation;
      node_options.snapshot_entries = 50;
      auto node = std::make_unique<Node>(node_options, std::move(engine), *member.map, *member.storage,
                                         [this](Message&& m) { route(std::move(m)); });
      nodes.emplace(id, std::move(node));
    }
    for (auto& [id, node] : nodes) {
      members_[id].runner = std::make_unique<NodeRunner>(std::move(node), 5ms);
      routes_[id] = members_[id].runner.get();
    }
  }
  void stop() {
    for (std::atomic<NodeRunner*>& route : routes_) route = nullptr;
    for (auto& [id, member] : members_) {
      if (member.runner) member.runner->stop();
    }
    members_.clear();
  }
  NodeRunner& runner(NodeId id) { return *members_.at(id).runner; }
  // Only for queries, which run on the member's loop thread.
  const kv::MapStore* map(NodeId id) { return members_.at(id).map.get(); }
  std::optional<NodeId> leader() {
    for (NodeId id : ids_) {
      if (runner(id).status().role == Role::kLeader) return id;
    }
    return std::nullopt;
  }
  NodeId wait_for_leader() {
    for (int i = 0; i < 1000; ++i) {
      if (std::optional<NodeId> id = leader()) return *id;
      std::this_thread::sleep_for(5ms);
    }
    ADD_FAILURE() << "no leader in 5 s";
    return kNoNode;
  }
  const std::vector<NodeId>& ids() const { return ids_; }

 private:
  void route(Message&& message) {
    // Runs on the sender's loop thread; the receiver queues it for its own loop.
    if (message.to >= routes_.size()) return;
    if (NodeRunner* runner = routes_[message.to].load()) runner->deliver(std::move(message));
  }

  std::string root_;
  storage::PosixFileSystem fs_;
  std::vector<NodeId> ids_{1, 2, 3};
  std::map<NodeId, Member> members_;
  std::array<std::atomic<NodeRunner*>, 4> routes_{};
};

std::string put(uint64_t client, uint64_t sequence, const std::string& key, const std::string& value) {
  return kv::MapCommand{kv::MapOp::kPut, client, sequence, key, value, ""}.encode();
}

// Every member answers a linearizable read of each client's key with that client's last write.
void expect_reads(LocalCluster& cluster, int clients, const std::string& expected) {
  for (NodeId id : cluster.ids()) {
    for (int c = 1; c <= clients; ++c) {
      std::string key = "k" + std::to_string(c);
      const kv::MapStore* map = cluster.map(id);
      Result<std::string> value = Status(ErrorCode::kUnavailable, "not asked");
      for (int attempt = 0; attempt < 100 && !value.is_ok(); ++attempt) {
        auto read = cluster.runner(id).read([map, key] { return map->get(key).value_or("<absent>"); });
        if (read.wait_for(2s) == std::future_status::ready) value = read.get();
        if (!value.is_ok()) std::this_thread::sleep_for(10ms);
      }
      ASSERT_TRUE(value.is_ok()) << "member " << id << ": " << value.status().to_string();
      EXPECT_EQ(value.value(), expected) << "member " << id << " key " << key;
    }
  }
}

TEST(NodeRunner, aThreeMemberClusterCommitsFromManyThreadsAndRecoversFromDisk) {
  char pattern[] = "/tmp/synod-runner-test-XXXXXX";
  ASSERT_NE(::mkdtemp(pattern), nullptr);
  std::string root = pattern;
  constexpr int kClients = 4;
  constexpr int kPerClient = 40;
  {
    LocalCluster cluster(root);
    cluster.start(1);
    cluster.wait_for_leader();
    std::atomic<int> committed{0};
    std::vector<std::thread> clients;
    for (int c = 1; c <= kClients; ++c) {
      clients.emplace_back([&, c] {
        for (int i = 1; i <= kPerClient; ++i) {
          for (int attempt = 0; attempt < 200; ++attempt) {
            std::optional<NodeId> leader = cluster.leader();
            NodeId target = leader.value_or(cluster.ids()[attempt % 3]);
            auto done = cluster.runner(target).propose(put(c, i, "k" + std::to_string(c), std::to_string(i)));
            if (done.wait_for(2s) == std::future_status::ready && done.get().is_ok()) {
              ++committed;
              break;
            }
            std::this_thread::sleep_for(5ms);
          }
        }
      });
    }
    for (std::thread& client : clients) client.join();
    EXPECT_EQ(committed.load(), kClients * kPerClient);

    expect_reads(cluster, kClients, std::to_string(kPerClient));
  }
  {
    // Stopped and started again: everything comes back from the disks, and the cluster goes on.
    LocalCluster cluster(root);
    cluster.start(2);
    cluster.wait_for_leader();
    expect_reads(cluster, kClients, std::to_string(kPerClient));
  }
  std::filesystem::remove_all(root);
}

TEST(NodeRunner, aStorageFailureStopsTheLoopAndFailsEveryRequest) {
  sim::FaultyFileSystem disk;
  storage::DiskStorageOptions options;
  options.dir = "/member";
  options.node_id = 1;
  options.segment_bytes = 1 << 16;
  DurableState state;
  std::vector<std::string> notes;
  std::unique_ptr<storage::DiskStorage> storage =
      storage::DiskStorage::open(disk, options, state, notes).value();
  kv::MapStore map;
  std::unique_ptr<Engine> engine = sim::raft_engine_factory(raft::Config{})(1, {1}, 5, state).value();
  NodeOptions node_options;
  node_options.id = 1;
  node_options.voters = {1};
  node_options.incarnation = 1;
  NodeRunner runner(std::make_unique<Node>(node_options, std::move(engine), map, *storage, [](Message&&) {}),
                    2ms);
  for (int i = 0; i < 500 && runner.status().role != Role::kLeader; ++i) std::this_thread::sleep_for(2ms);
  ASSERT_EQ(runner.status().role, Role::kLeader);
  auto first = runner.propose(put(1, 1, "x", "1"));
  ASSERT_EQ(first.wait_for(5s), std::future_status::ready);
  ASSERT_TRUE(first.get().is_ok());

  disk.fail_after(sim::FaultOp::kSync, 0);  // the next fsync fails
  auto failed = runner.propose(put(1, 2, "x", "2"));
  ASSERT_EQ(failed.wait_for(5s), std::future_status::ready);
  Result<std::string> result = failed.get();
  ASSERT_FALSE(result.is_ok());
  EXPECT_EQ(result.status().code(), ErrorCode::kIoError) << result.status().to_string();
  for (int i = 0; i < 500 && runner.failure().is_ok(); ++i) std::this_thread::sleep_for(2ms);
  EXPECT_NE(runner.failure().message().find("the node stopped"), std::string::npos)
      << runner.failure().to_string();
  auto later = runner.propose(put(1, 3, "x", "3"));
  ASSERT_EQ(later.wait_for(1s), std::future_status::ready);
  EXPECT_FALSE(later.get().is_ok()) << "a stopped node accepts nothing";
}

}  // namespace
}  // namespace synod::node

namespace synod::node {
namespace {

// Transfers answer once the target leads, and refuse at once on a member that does not lead.
TEST(NodeRunner, leaderTransferCompletesWhenTheTargetLeads) {
  char pattern[] = "/tmp/synod-transfer-test-XXXXXX";
  ASSERT_NE(::mkdtemp(pattern), nullptr);
  LocalCluster cluster(pattern);
  cluster.start(1);
  NodeId leader = cluster.wait_for_leader();
  ASSERT_NE(leader, kNoNode);
  NodeId target = leader == 3 ? 1 : leader + 1;
  NodeId bystander = 6 - leader - target;

  std::promise<Result<std::string>> refused;
  cluster.runner(bystander).transfer_leader(target, 100,
                                            [&](Result<std::string> r) { refused.set_value(r); });
  Result<std::string> not_leader = refused.get_future().get();
  ASSERT_FALSE(not_leader.is_ok());
  EXPECT_EQ(not_leader.status().code(), ErrorCode::kNotLeader);

  std::promise<Result<std::string>> moved;
  cluster.runner(leader).transfer_leader(target, 400, [&](Result<std::string> r) { moved.set_value(r); });
  auto answer = moved.get_future();
  ASSERT_EQ(answer.wait_for(10s), std::future_status::ready);
  Result<std::string> result = answer.get();
  ASSERT_TRUE(result.is_ok()) << result.status().to_string();
  // The old leader heard from the new one, which publishes its own status at the end of its loop turn.
  for (int i = 0; i < 200 && cluster.runner(target).status().role != Role::kLeader; ++i) {
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_EQ(cluster.runner(target).status().role, Role::kLeader);
  cluster.stop();
  std::filesystem::remove_all(pattern);
}

}  // namespace
}  // namespace synod::node

namespace synod::node {
namespace {

// A storage whose persist() takes a while once asked to, as a disk stalled behind other writes would.
class SlowStore final : public Storage {
 public:
  Status persist(const Ready& ready) override {
    if (slow) std::this_thread::sleep_for(60ms);
    return inner_.persist(ready);
  }
  Status save_snapshot(SnapshotPtr snapshot) override { return inner_.save_snapshot(std::move(snapshot)); }
  std::atomic<bool> slow{false};

 private:
  sim::DurableStore inner_;
};

// Every turn of the loop is reported with where its time went, so a server can log the turns that hold
// its heartbeats back; TimedStorage says how much of it was the disk.
TEST(NodeRunner, eachTurnIsTimedAndAHeldPersistShowsInIt) {
  SlowStore slow_store;
  TimedStorage timed(slow_store);
  kv::MapStore map;
  std::unique_ptr<Engine> engine =
      sim::raft_engine_factory(raft::Config{})(1, {1}, 5, DurableState{}).value();
  NodeOptions node_options;
  node_options.id = 1;
  node_options.voters = {1};
  node_options.incarnation = 1;
  std::mutex mutex;
  std::vector<NodeRunner::TurnTiming> turns;  // guarded by mutex
  std::vector<std::chrono::nanoseconds> persisting;
  NodeRunner runner(std::make_unique<Node>(node_options, std::move(engine), map, timed, [](Message&&) {}),
                    2ms, [&](const NodeRunner::TurnTiming& turn) {
                      std::lock_guard lock(mutex);
                      turns.push_back(turn);
                      persisting.push_back(timed.take_persist_time());
                    });
  for (int i = 0; i < 500 && runner.status().role != Role::kLeader; ++i) std::this_thread::sleep_for(2ms);
  ASSERT_EQ(runner.status().role, Role::kLeader);

  slow_store.slow = true;
  auto put_one = runner.propose(put(1, 1, "x", "1"));
  ASSERT_EQ(put_one.wait_for(5s), std::future_status::ready);
  ASSERT_TRUE(put_one.get().is_ok());
  runner.stop();

  std::lock_guard lock(mutex);
  bool held = false;
  for (size_t i = 0; i < turns.size(); ++i) {
    if (turns[i].inputs_handled >= 1 && persisting[i] >= 60ms) {
      held = true;
      EXPECT_GE(turns[i].ready, persisting[i]) << "persist runs inside process_ready()";
    }
  }
  EXPECT_TRUE(held) << "the turn that took the proposal shows the 60 ms persist";
}

}  // namespace
}  // namespace synod::node
