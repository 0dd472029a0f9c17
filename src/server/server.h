// Server: one running Synod member. It opens the data dir (member_dir.h), recovers the log and the
// newest snapshot (storage/disk_storage.h) into the key-value store (kv/mvcc_store.h), and runs:
//   - the node loop (node/node_runner.h) driving the Raft core,
//   - the peer transport (transport/tcp_transport.h) on --listen-peer-urls,
//   - the etcd v3 gRPC API (api/) on --listen-client-urls,
//   - /metrics and /health (metrics/) on --listen-metrics-urls,
//   - a watcher that turns the node's state changes into log lines.
// A storage error stops the node loop; the server then reports failure() and the process exits, to be
// restarted from its disk (an fsync is never retried).
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "server/server_config.h"

namespace synod::server {

class Server {
 public:
  static Result<std::unique_ptr<Server>> start(const ServerConfig& config);
  ~Server();  // stop()
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Stops serving clients, stops the node loop (pending requests fail), closes peers. Idempotent.
  void stop();
  // Why the member can no longer serve (its node loop stopped), or ok.
  Status failure() const;

  // The ports actually bound (a URL may ask for port 0).
  const std::vector<uint16_t>& client_ports() const;
  uint16_t peer_port() const;
  uint16_t metrics_port() const;
  // This member's id in the cluster (as response headers carry it).
  uint64_t member_id() const;

  struct Parts;

 private:
  Server();
  std::unique_ptr<Parts> parts_;
};

// The body of `synod`: starts the member, logs where it serves, runs until SIGTERM or SIGINT (then
// stops cleanly, exit 0) or until the member fails (exit 1).
int run_until_signalled(const ServerConfig& config);

}  // namespace synod::server
