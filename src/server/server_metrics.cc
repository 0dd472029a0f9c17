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

}  // namespace synod::server
