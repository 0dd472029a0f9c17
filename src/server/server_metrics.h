// The member's Prometheus metrics, registered in one place so /metrics names stay consistent. Names
// follow etcd's where the meaning is the same (etcd_server_*, etcd_disk_wal_fsync_duration_seconds),
// so existing dashboards find them, with synod_* for what etcd does not have.
#pragma once

#include <functional>
#include <vector>

#include "consensus/engine.h"
#include "metrics/metrics.h"
#include "transport/tcp_transport.h"

namespace synod::server {

struct ServerMetrics {
  explicit ServerMetrics(metrics::Registry& registry);

  // Values read at scrape time from the node loop's last status.
  void watch_engine(std::function<EngineStatus()> status);
  // Per peer, read at scrape time from the transport: round-trip time, bytes, connection, drops.
  void watch_peers(const std::vector<NodeId>& peers, const transport::TcpTransport& transport);

  metrics::Registry& registry;
  metrics::Counter& proposals_committed;
  metrics::Counter& proposals_failed;
  metrics::Counter& leader_changes;
  metrics::Histogram& wal_fsync_seconds;
  metrics::Counter& slow_fsyncs;
};

}  // namespace synod::server
