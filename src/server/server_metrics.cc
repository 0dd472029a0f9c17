#include "server/server_metrics.h"

namespace synod::server {

ServerMetrics::ServerMetrics(metrics::Registry& registry)
    : registry(registry),
      proposals_committed(registry.counter("etcd_server_proposals_committed_total",
                                           "Proposals applied with a result for their client.")),
      proposals_failed(
          registry.counter("etcd_server_proposals_failed_total",
                           "Proposals that failed (timed out, overwritten, no leader, too large).")),
      leader_changes(
          registry.counter("etcd_server_leader_changes_seen_total", "Leader changes this member has seen.")),
      wal_fsync_seconds(registry.histogram("etcd_disk_wal_fsync_duration_seconds",
                                           "Time to write and fdatasync one batch of the write-ahead log.",
                                           metrics::duration_buckets())),
      slow_fsyncs(
          registry.counter("synod_disk_wal_slow_fsyncs_total", "WAL syncs that took over one second.")) {}

void ServerMetrics::watch_engine(std::function<EngineStatus()> status) {
  auto field = [&registry = registry, status](std::string_view name, std::string_view help,
                                              std::function<double(const EngineStatus&)> pick) {
    registry.gauge_fn(name, help, {}, [status, pick] { return pick(status()); });
  };
  field("etcd_server_has_leader", "1 if a leader is known to this member.",
        [](const EngineStatus& s) { return s.leader != kNoNode ? 1.0 : 0.0; });
  field("etcd_server_is_leader", "1 if this member leads.",
        [](const EngineStatus& s) { return s.role == Role::kLeader ? 1.0 : 0.0; });
  field("synod_server_term", "The member's current term.",
        [](const EngineStatus& s) { return double(s.term); });
  field("synod_server_commit_index", "Highest log index known committed.",
        [](const EngineStatus& s) { return double(s.commit); });
  field("synod_server_apply_index", "Highest log index applied to the key-value store.",
        [](const EngineStatus& s) { return double(s.applied); });
  field("synod_server_apply_lag", "Committed entries not yet applied (commit index minus apply index).",
        [](const EngineStatus& s) { return s.commit > s.applied ? double(s.commit - s.applied) : 0.0; });
  field("synod_server_snapshot_index", "Log index of the newest snapshot.",
        [](const EngineStatus& s) { return double(s.snapshot_index); });
}

void ServerMetrics::watch_peers(const std::vector<NodeId>& peers, const transport::TcpTransport& transport) {
  for (NodeId peer : peers) {
    auto field = [&registry = registry, &transport, peer](
                     std::string_view name, std::string_view help,
                     std::function<double(const transport::PeerStats&)> pick) {
      registry.gauge_fn(name, help, {{"peer", std::to_string(peer)}}, [&transport, peer, pick] {
        for (const transport::PeerStats& stats : transport.peer_stats()) {
          if (stats.id == peer) return pick(stats);
        }
        return 0.0;
      });
    };
    field("synod_network_peer_round_trip_time_seconds",
          "Smoothed round-trip time to the peer (0 before the first).", [](const transport::PeerStats& s) {
            return s.rtt_smoothed ? std::chrono::duration<double>(*s.rtt_smoothed).count() : 0.0;
          });
    field("synod_network_peer_sent_bytes", "Bytes sent to the peer since this member started.",
          [](const transport::PeerStats& s) { return double(s.bytes_sent); });
    field("synod_network_peer_received_bytes", "Bytes received from the peer since this member started.",
          [](const transport::PeerStats& s) { return double(s.bytes_received); });
    field("synod_network_peer_connected", "1 while the connection to the peer is up.",
          [](const transport::PeerStats& s) { return s.connected ? 1.0 : 0.0; });
    field("synod_network_peer_dropped_messages", "Messages to the peer dropped because its queue was full.",
          [](const transport::PeerStats& s) { return double(s.dropped); });
  }
}

}  // namespace synod::server
