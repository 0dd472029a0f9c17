// `synod local`: a whole cluster on this machine, for trying Synod and for the demo. It starts N member
// processes (this same executable) on loopback with free ports, prints the client endpoints and an
// etcdctl line to try, restarts a member that dies (so `kill -9` shows a failover and a recovery),
// and stops every member cleanly on Ctrl-C or SIGTERM.
//
// The data directory keeps each member's data, its log file (nodeK.log), its pid (nodeK.pid) and the
// ports chosen on the first run (ports), so a second run restarts the same cluster from its disks.
#pragma once

#include <cstdint>
#include <string>

namespace synod::server {

struct LocalOptions {
  int nodes = 3;
  std::string data = "synod-local";
  std::string engine = "raft";
  uint64_t snapshot_count = 10'000;
  std::string log_level = "info";
};

// Runs until SIGINT or SIGTERM; returns the process exit status.
int run_local_cluster(const LocalOptions& options);

}  // namespace synod::server
