// ServerConfig: what one `synod` member is told on its command line, parsed and checked before anything
// touches the disk or the network. Flag names and meanings follow etcd's where they are the same
// (tools/synod/main.cc maps flags onto this struct), so an etcd operator's habits carry over.
//
// Member ids: etcd derives ids from hashes of peer URLs; Synod numbers the members of --initial-cluster
// 1..N in the order of their names. Small ids keep logs and the simulator's traces readable, and the
// cluster id (a hash of the token and every member's name and peer URLs) still makes two differently
// configured clusters refuse each other's peers at the handshake.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "consensus/types.h"

namespace synod::server {

// http://host:port. TLS (https) is not supported yet and is refused by name.
struct Url {
  std::string host;
  uint16_t port = 0;
  std::string text() const;
};
Result<Url> parse_url(std::string_view text);
// A comma-separated list of URLs, at least one.
Result<std::vector<Url>> parse_urls(std::string_view text);

struct ClusterMember {
  std::string name;
  NodeId id = kNoNode;
  std::vector<Url> peer_urls;
};

// "name1=http://h:p,name2=http://h:p" (a name may appear more than once, with several URLs). Members
// come back sorted by name and numbered from 1.
Result<std::vector<ClusterMember>> parse_initial_cluster(std::string_view text);
uint64_t cluster_id_of(std::string_view token, const std::vector<ClusterMember>& members);

enum class EngineKind { kRaft, kPaxos };
std::string_view engine_name(EngineKind engine);
Result<EngineKind> parse_engine(std::string_view text);

struct ServerConfig {
  std::string name = "default";
  std::string data_dir;  // default: <name>.synod
  std::vector<Url> listen_peer_urls;
  std::vector<Url> listen_client_urls;
  std::vector<Url> advertise_client_urls;
  std::vector<Url> initial_advertise_peer_urls;
  std::vector<ClusterMember> initial_cluster;
  bool initial_cluster_new = true;  // --initial-cluster-state new|existing
  std::string initial_cluster_token = "synod-cluster";
  std::chrono::milliseconds heartbeat_interval{100};
  std::chrono::milliseconds election_timeout{1000};
  uint64_t snapshot_count = 100'000;
  uint64_t max_request_bytes = 1536 * 1024;
  // etcd's --max-txn-ops. Every member must use the same value: it decides whether a committed txn
  // applies.
  uint64_t max_txn_ops = 128;
  // etcd's --quota-backend-bytes: 0 is etcd's default (2 GiB), negative turns the quota off.
  int64_t quota_backend_bytes = 0;
  std::vector<Url> listen_metrics_urls;
  std::string log_level = "info";
  EngineKind engine = EngineKind::kRaft;

  // Checks the flags together: this member is in the initial cluster, timeouts make sense, etc.
  Status validate() const;
  // This member's entry in initial_cluster (validate() first).
  const ClusterMember& self() const;
  uint64_t cluster_id() const { return cluster_id_of(initial_cluster_token, initial_cluster); }
  // Election timeout in heartbeat ticks: the node loop ticks once per heartbeat interval.
  int election_ticks() const;
};

}  // namespace synod::server
