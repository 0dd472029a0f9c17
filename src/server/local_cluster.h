// LocalCluster: N Synod members in one process, each with its own data directory on the real disk,
// talking only over TCP on loopback: the node loop (node/node_runner.h), Raft, the write-ahead log and
// snapshots (storage/disk_storage.h), the peer transport (transport/tcp_transport.h) and the
// replicated map. The demo runs one; integration tests use it to kill and restart members.
//
// Clients call put/get/cas/remove on any member with a client id and sequence (the map's session, so
// a retry takes effect once); a call that is not answered in time returns kTimedOut.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "kv/map_command.h"
#include "kv/map_store.h"
#include "node/node_runner.h"
#include "storage/disk_storage.h"
#include "storage/posix_file_system.h"
#include "transport/tcp_transport.h"

namespace synod::server {

struct LocalClusterOptions {
  std::string root;  // each member keeps its data in root/member<id>
  size_t members = 3;
  uint64_t cluster_id = 1;
  std::chrono::milliseconds tick{10};
  uint64_t snapshot_entries = 1000;
};

class LocalCluster {
 public:
  explicit LocalCluster(LocalClusterOptions options);
  ~LocalCluster();
  LocalCluster(const LocalCluster&) = delete;
  LocalCluster& operator=(const LocalCluster&) = delete;

  // Starts every member (recovering what its directory holds). Notes from recovery go to `notes`.
  Status start(std::vector<std::string>* notes = nullptr);
  // Stops a member as a crash would (its loop and sockets go; its disk stays).
  void kill(NodeId id);
  // Starts a killed member again from its disk.
  Status restart(NodeId id, std::vector<std::string>* notes = nullptr);

  const std::vector<NodeId>& ids() const { return ids_; }
  bool alive(NodeId id) const;
  std::optional<NodeId> leader() const;
  // Waits until some live member leads; kNoNode after `limit`.
  NodeId wait_for_leader(std::chrono::milliseconds limit = std::chrono::seconds(10)) const;

  // One request to one member. Writes go through the log; a get is a linearizable read.
  Result<kv::MapResult> request(NodeId at, const kv::MapCommand& command,
                                std::chrono::milliseconds timeout = std::chrono::seconds(2));

 private:
  struct Member {
    std::unique_ptr<storage::DiskStorage> storage;
    std::unique_ptr<kv::MapStore> map;
    std::unique_ptr<transport::TcpTransport> transport;
    std::unique_ptr<node::NodeRunner> runner;
    std::atomic<node::NodeRunner*> inbox{nullptr};
    uint64_t incarnation = 0;
    uint16_t port = 0;
  };

  Status start_member(NodeId id, std::vector<std::string>* notes);

  LocalClusterOptions options_;
  std::vector<NodeId> ids_;
  storage::PosixFileSystem fs_;
  std::map<NodeId, std::unique_ptr<Member>> members_;
};

}  // namespace synod::server
