// synod: one member of a Synod cluster, or (`synod local`) a whole cluster on this machine, or
// (`synod snapshot restore BACKUP ...`) a new member's data dir made from a backup.
//
// Flags follow etcd's names where the meaning is the same, so
//   synod --name a --data-dir a.synod --listen-peer-urls http://127.0.0.1:2380
//         --listen-client-urls http://127.0.0.1:2379 --initial-cluster a=http://127.0.0.1:2380,...
// starts a member that etcdctl can talk to. Exit status: 0 after a clean stop (SIGTERM, SIGINT), 1 when
// the member fails (a storage error, a port in use), 2 on bad flags.
#include <CLI/CLI.hpp>
#include <iostream>

#include <absl/synchronization/mutex.h>

#include "server/local_launcher.h"
#include "server/log.h"
#include "server/restore.h"
#include "server/server.h"
#include "server/server_config.h"

namespace {

using synod::Result;
using synod::Status;
using synod::server::ServerConfig;

struct Flags {
  std::string name = "default";
  std::string data_dir;
  std::string listen_peer_urls = "http://localhost:2380";
  std::string listen_client_urls = "http://localhost:2379";
  std::string advertise_client_urls;
  std::string initial_advertise_peer_urls;
  std::string initial_cluster;
  std::string initial_cluster_state = "new";
  std::string initial_cluster_token = "synod-cluster";
  int64_t heartbeat_interval = 100;
  int64_t election_timeout = 1000;
  uint64_t snapshot_count = 100'000;
  uint64_t max_request_bytes = 1536 * 1024;
  uint64_t max_txn_ops = 128;
  int64_t quota_backend_bytes = 0;
  std::string listen_metrics_urls;
  std::string log_level = "info";
  std::string engine = "raft";
};

void add_member_flags(CLI::App& app, Flags& flags) {
  app.add_option("--name", flags.name, "Human-readable name of this member")->capture_default_str();
  app.add_option("--data-dir", flags.data_dir,
                 "Where this member keeps its log and snapshots (default: <name>.synod)");
  app.add_option("--listen-peer-urls", flags.listen_peer_urls, "URL to listen on for peer traffic")
      ->capture_default_str();
  app.add_option("--listen-client-urls", flags.listen_client_urls,
                 "Comma-separated URLs to serve the etcd v3 gRPC API on")
      ->capture_default_str();
  app.add_option("--advertise-client-urls", flags.advertise_client_urls,
                 "Client URLs to tell clients (default: --listen-client-urls)");
  app.add_option("--initial-advertise-peer-urls", flags.initial_advertise_peer_urls,
                 "This member's peer URLs, as listed in --initial-cluster");
  app.add_option("--initial-cluster", flags.initial_cluster,
                 "Every member at bootstrap: name1=http://host:port,name2=... (default: this member alone)");
  app.add_option("--initial-cluster-state", flags.initial_cluster_state, "new or existing")
      ->check(CLI::IsMember({"new", "existing"}))
      ->capture_default_str();
  app.add_option("--initial-cluster-token", flags.initial_cluster_token,
                 "Tells clusters apart: members with different tokens refuse each other")
      ->capture_default_str();
  app.add_option("--heartbeat-interval", flags.heartbeat_interval, "Milliseconds between leader heartbeats")
      ->check(CLI::Range(int64_t{1}, int64_t{10'000}))
      ->capture_default_str();
  app.add_option("--election-timeout", flags.election_timeout,
                 "Milliseconds without a leader before a follower campaigns")
      ->check(CLI::Range(int64_t{1}, int64_t{50'000}))
      ->capture_default_str();
  app.add_option("--snapshot-count", flags.snapshot_count, "Applied entries between snapshots")
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 40U))
      ->capture_default_str();
  app.add_option("--max-request-bytes", flags.max_request_bytes, "Largest client request accepted")
      ->capture_default_str();
  app.add_option("--max-txn-ops", flags.max_txn_ops,
                 "Most operations in one txn (every member must use the same value)")
      ->capture_default_str();
  app.add_option("--quota-backend-bytes", flags.quota_backend_bytes,
                 "Raise the NOSPACE alarm when the store would pass this size (0: 2 GiB; < 0: no quota)")
      ->capture_default_str();
  app.add_option("--listen-metrics-urls", flags.listen_metrics_urls, "URL to serve /metrics and /health on");
  app.add_option("--log-level", flags.log_level, "debug, info, warn, error, panic or fatal")
      ->check(CLI::IsMember({"debug", "info", "warn", "error", "panic", "fatal"}))
      ->capture_default_str();
  app.add_option("--engine", flags.engine, "Consensus engine: raft or paxos (recorded in the data dir)")
      ->check(CLI::IsMember({"raft", "paxos"}))
      ->capture_default_str();
}

Result<ServerConfig> to_config(const Flags& flags) {
  using namespace synod::server;
  ServerConfig config;
  config.name = flags.name;
  config.data_dir = flags.data_dir.empty() ? flags.name + ".synod" : flags.data_dir;
  SYNOD_TRY_ASSIGN(config.listen_peer_urls, parse_urls(flags.listen_peer_urls));
  SYNOD_TRY_ASSIGN(config.listen_client_urls, parse_urls(flags.listen_client_urls));
  if (flags.advertise_client_urls.empty()) {
    config.advertise_client_urls = config.listen_client_urls;
  } else {
    SYNOD_TRY_ASSIGN(config.advertise_client_urls, parse_urls(flags.advertise_client_urls));
  }
  std::string advertise_peers =
      flags.initial_advertise_peer_urls.empty() ? flags.listen_peer_urls : flags.initial_advertise_peer_urls;
  SYNOD_TRY_ASSIGN(config.initial_advertise_peer_urls, parse_urls(advertise_peers));
  std::string cluster = flags.initial_cluster;
  if (cluster.empty()) cluster = flags.name + "=" + config.initial_advertise_peer_urls.front().text();
  SYNOD_TRY_ASSIGN(config.initial_cluster, parse_initial_cluster(cluster));
  config.initial_cluster_new = flags.initial_cluster_state == "new";
  config.initial_cluster_token = flags.initial_cluster_token;
  config.heartbeat_interval = std::chrono::milliseconds(flags.heartbeat_interval);
  config.election_timeout = std::chrono::milliseconds(flags.election_timeout);
  config.snapshot_count = flags.snapshot_count;
  config.max_request_bytes = flags.max_request_bytes;
  config.max_txn_ops = flags.max_txn_ops;
  config.quota_backend_bytes = flags.quota_backend_bytes;
  if (!flags.listen_metrics_urls.empty()) {
    SYNOD_TRY_ASSIGN(config.listen_metrics_urls, parse_urls(flags.listen_metrics_urls));
  }
  config.log_level = flags.log_level;
  SYNOD_TRY_ASSIGN(config.engine, parse_engine(flags.engine));
  SYNOD_TRY(config.validate());
  return config;
}

int run_member(const Flags& flags) {
  Result<ServerConfig> config = to_config(flags);
  if (!config.is_ok()) {
    std::cerr << "synod: " << config.status().message() << "\n";
    return 2;
  }
  Status logging = synod::server::init_logging(config.value().log_level, config.value().name);
  if (!logging.is_ok()) {
    std::cerr << "synod: " << logging.message() << "\n";
    return 2;
  }
  return synod::server::run_until_signalled(config.value());
}

int run_restore(const Flags& flags, const std::string& backup) {
  Result<ServerConfig> config = to_config(flags);
  if (!config.is_ok()) {
    std::cerr << "synod snapshot restore: " << config.status().message() << "\n";
    return 2;
  }
  std::vector<std::string> notes;
  Status restored = synod::server::restore_member(config.value(), backup, notes);
  if (!restored.is_ok()) {
    std::cerr << "synod snapshot restore: " << restored.message() << "\n";
    return 1;
  }
  for (const std::string& note : notes) std::cout << note << "\n";
  std::cout << "start it with the same --name, --data-dir, --initial-cluster and --initial-cluster-token\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Debian builds abseil with its mutex deadlock detector on, which records a lock graph on every gRPC
  // mutex acquisition (2-4 % of a member's CPU under load). Synod's own locks are std::mutex.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  CLI::App app{"synod: a consensus-backed coordination service that speaks the etcd v3 API"};
  app.set_version_flag("--version", "synod " SYNOD_VERSION);
  Flags flags;
  add_member_flags(app, flags);

  synod::server::LocalOptions local;
  CLI::App* local_command =
      app.add_subcommand("local", "Run a whole cluster on this machine (loopback, free ports), until Ctrl-C");
  local_command->add_option("--nodes", local.nodes, "How many members")
      ->check(CLI::Range(1, 9))
      ->capture_default_str();
  local_command->add_option("--data", local.data, "Where the members keep their data (kept between runs)")
      ->capture_default_str();
  local_command->add_option("--engine", local.engine, "raft or paxos")
      ->check(CLI::IsMember({"raft", "paxos"}))
      ->capture_default_str();
  local_command->add_option("--snapshot-count", local.snapshot_count, "Applied entries between snapshots")
      ->capture_default_str();
  local_command->add_option("--log-level", local.log_level, "Members' log level")->capture_default_str();

  CLI::App* snapshot_command = app.add_subcommand("snapshot", "Backups");
  snapshot_command->require_subcommand(1);
  CLI::App* restore_command =
      snapshot_command->add_subcommand("restore",
                                       "Make a new member's data dir from a backup (etcdctl snapshot save); "
                                       "run it for every member of the new "
                                       "cluster with the same backup and --initial-cluster, then start them");
  Flags restore_flags;
  std::string backup;
  restore_command->add_option("backup", backup, "The backup file")->required();
  add_member_flags(*restore_command, restore_flags);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    int code = app.exit(error);  // prints help, the version, or the error and a hint
    return code == 0 ? 0 : 2;
  }
  if (local_command->parsed()) return synod::server::run_local_cluster(local);
  if (restore_command->parsed()) return run_restore(restore_flags, backup);
  return run_member(flags);
}
