#include "server/local_cluster.h"

#include <thread>

#include "raft/raft.h"

namespace synod::server {

LocalCluster::LocalCluster(LocalClusterOptions options) : options_(std::move(options)) {
  for (NodeId id = 1; id <= options_.members; ++id) {
    ids_.push_back(id);
    members_.emplace(id, std::make_unique<Member>());
  }
}

LocalCluster::~LocalCluster() {
  for (NodeId id : ids_) {
    if (alive(id)) kill(id);
  }
}

Status LocalCluster::start(std::vector<std::string>* notes) {
  for (NodeId id : ids_) {
    Status started = start_member(id, notes);
    if (!started.is_ok()) return started;
  }
  return Status::ok();
}

Status LocalCluster::start_member(NodeId id, std::vector<std::string>* notes) {
  Member& member = *members_.at(id);
  // The transport first: its port is how the others reach this member (kept across restarts).
  transport::TcpTransportOptions transport_options;
  transport_options.cluster_id = options_.cluster_id;
  transport_options.self = id;
  transport_options.listen_port = member.port;
  Member* target = &member;
  Result<std::unique_ptr<transport::TcpTransport>> transport =
      transport::TcpTransport::start(transport_options, [target](Message&& message) {
        if (node::NodeRunner* runner = target->inbox.load()) runner->deliver(std::move(message));
      });
  if (!transport.is_ok()) return transport.status();
  member.transport = std::move(transport).value();
  member.port = member.transport->port();
  for (NodeId peer : ids_) {
    Member& other = *members_.at(peer);
    if (peer == id || other.port == 0) continue;
    member.transport->set_peer(peer, "127.0.0.1", other.port);
    if (other.transport) other.transport->set_peer(id, "127.0.0.1", member.port);
  }

  storage::DiskStorageOptions storage_options;
  storage_options.dir = options_.root + "/member" + std::to_string(id);
  storage_options.cluster_id = options_.cluster_id;
  storage_options.node_id = id;
  DurableState state;
  std::vector<std::string> recovery_notes;
  Result<std::unique_ptr<storage::DiskStorage>> storage =
      storage::DiskStorage::open(fs_, storage_options, state, recovery_notes);
  if (notes != nullptr) notes->insert(notes->end(), recovery_notes.begin(), recovery_notes.end());
  if (!storage.is_ok()) return storage.status();
  member.storage = std::move(storage).value();
  member.map = std::make_unique<kv::MapStore>();
  if (state.snapshot) {
    Status restored = member.map->restore(state.snapshot->data);
    if (!restored.is_ok()) return restored;
  }

  raft::Config config;
  config.id = id;
  config.voters = ids_;
  config.seed =
      std::chrono::steady_clock::now().time_since_epoch().count() + id;  // a real server's randomness
  Result<std::unique_ptr<raft::Raft>> raft = raft::Raft::create(config, state);
  if (!raft.is_ok()) return raft.status();

  node::NodeOptions node_options;
  node_options.id = id;
  node_options.voters = ids_;
  node_options.incarnation = ++member.incarnation;
  node_options.snapshot_entries = options_.snapshot_entries;
  transport::TcpTransport* out = member.transport.get();
  auto node = std::make_unique<node::Node>(node_options, std::unique_ptr<Engine>(std::move(raft).value()),
                                           *member.map, *member.storage,
                                           [out](Message&& message) { out->send(std::move(message)); });
  member.runner = std::make_unique<node::NodeRunner>(std::move(node), options_.tick);
  member.inbox = member.runner.get();
  return Status::ok();
}

void LocalCluster::kill(NodeId id) {
  Member& member = *members_.at(id);
  member.inbox = nullptr;
  if (member.runner) member.runner->stop();  // first: its loop sends through the transport
  member.transport.reset();
  member.runner.reset();
  member.storage.reset();
  member.map.reset();
}

Status LocalCluster::restart(NodeId id, std::vector<std::string>* notes) {
  if (alive(id)) return Status(ErrorCode::kInvalidArgument, "member " + std::to_string(id) + " is running");
  return start_member(id, notes);
}

bool LocalCluster::alive(NodeId id) const {
  return members_.at(id)->runner != nullptr;
}

std::optional<NodeId> LocalCluster::leader() const {
  for (NodeId id : ids_) {
    if (alive(id) && members_.at(id)->runner->status().role == Role::kLeader) return id;
  }
  return std::nullopt;
}

NodeId LocalCluster::wait_for_leader(std::chrono::milliseconds limit) const {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (std::optional<NodeId> id = leader()) return *id;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return kNoNode;
}

Result<kv::MapResult> LocalCluster::request(NodeId at, const kv::MapCommand& command,
                                            std::chrono::milliseconds timeout) {
  if (!alive(at)) return Status(ErrorCode::kUnavailable, "member " + std::to_string(at) + " is down");
  Member& member = *members_.at(at);
  std::future<Result<std::string>> answer;
  if (command.op == kv::MapOp::kGet) {
    const kv::MapStore* map = member.map.get();
    std::string key = command.key;
    answer = member.runner->read([map, key] {
      kv::MapResult result;
      result.value = map->get(key);
      return result.encode();
    });
  } else {
    answer = member.runner->propose(command.encode());
  }
  if (answer.wait_for(timeout) != std::future_status::ready) {
    return Status(ErrorCode::kTimedOut, "no answer from member " + std::to_string(at) + " in time");
  }
  Result<std::string> bytes = answer.get();
  if (!bytes.is_ok()) return bytes.status();
  return kv::MapResult::decode(bytes.value());
}

}  // namespace synod::server
