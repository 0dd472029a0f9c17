// Raft: the Raft consensus core (Ongaro and Ousterhout, "In Search of an Understandable Consensus
// Algorithm", and Ongaro's thesis), behind the Engine interface.
//
// Pure and deterministic: no threads, clocks, files or sockets; randomness (election timeouts) comes
// only from Config::seed. Where to find each rule:
//   vote rule ............ Raft::handle_vote_request     (one vote per term, election restriction)
//   term rule ............ Raft::step                    (stale terms, stepping down, leader leases)
//   election ............. Raft::campaign, Raft::handle_vote_response
//   replication .......... Raft::maybe_send_append, Raft::handle_append, Raft::handle_append_response
//   commit rule .......... Raft::maybe_commit            (current-term entries only: paper, Figure 8)
//   read path ............ Raft::read_index, Raft::handle_heartbeat_response, ReadOnly
//   leader transfer ...... Raft::transfer_leader, Raft::handle_timeout_now
//   snapshots ............ Raft::compact, Raft::send_snapshot, Raft::handle_snapshot
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/random.h"
#include "base/status.h"
#include "consensus/engine.h"
#include "consensus/progress.h"
#include "consensus/quorum.h"
#include "raft/config.h"
#include "raft/log.h"
#include "raft/read_only.h"

namespace synod::raft {

class Raft final : public Engine {
 public:
  // Builds a core from its configuration and whatever it had made durable (empty for a new node).
  // Fails on an invalid configuration or inconsistent durable state.
  static Result<std::unique_ptr<Raft>> create(const Config& config, const DurableState& durable = {});

  void tick() override;
  Status step(const Message& message) override;
  Result<Proposal> propose(std::string data) override;
  Status read_index(std::string context) override;
  Status transfer_leader(NodeId to) override;
  Status compact(Index index, std::string data) override;
  Result<SnapshotMeta> snapshot_meta(Index index) const override;
  Status compact_detached(const SnapshotMeta& meta) override;
  SnapshotPtr snapshot() const override { return snapshot_; }
  void release_snapshot_data() override;

  bool has_ready() const override;
  Ready ready() override;
  void advance() override;

  EngineStatus status() const override;
  std::optional<Entry> entry_at(Index index) const override;
  std::optional<Term> term_at(Index index) const override;
  std::unique_ptr<Engine> clone() const override;
  void encode_state(StateEncoder& out) const override;

  // Introspection for tests and tools.
  const RaftLog& log() const { return log_; }
  const Progress* progress(NodeId id) const;
  const QuorumConfig& quorum() const { return quorum_; }
  int randomized_election_timeout() const { return randomized_election_timeout_; }
  int election_elapsed() const { return election_elapsed_; }
  const Config& config() const { return config_; }

 private:
  Raft(const Config& config, RaftLog log, const HardState& hard_state, SnapshotPtr snapshot,
       std::vector<NodeId> voters);

  // Roles.
  void become_follower(Term term, NodeId leader);
  void become_pre_candidate();
  void become_candidate();
  void become_leader();
  void reset(Term term);
  void reset_randomized_election_timeout();

  // Time.
  void tick_election();
  void tick_heartbeat();
  bool past_election_timeout() const { return election_elapsed_ >= randomized_election_timeout_; }
  bool in_leader_lease() const;
  bool lease_valid() const;

  // Elections.
  void campaign(bool pre_vote, bool transfer);
  void handle_vote_request(const Message& message);
  void handle_vote_response(const Message& message);
  bool promotable() const { return quorum_.contains(config_.id); }

  // Per-role stepping after the term rule.
  Status step_leader(const Message& message);
  Status step_candidate(const Message& message);
  Status step_follower(const Message& message);

  // Replication, leader side.
  bool maybe_send_append(NodeId to, bool send_if_empty);
  void send_snapshot(NodeId to, Progress& progress);
  void broadcast_append();  // deferred to ready(), so one Append carries a whole batch
  void flush_broadcast();
  void broadcast_heartbeat(const std::string& context);
  void send_heartbeat(NodeId to, const std::string& context);
  Status handle_append_response(const Message& message);
  Status handle_heartbeat_response(const Message& message);
  bool maybe_commit();
  Result<Proposal> append_proposal(std::string data);
  void update_self_progress();

  // Replication, follower side.
  Status handle_append(const Message& message);
  void handle_heartbeat(const Message& message);
  Status handle_snapshot(const Message& message);
  void handle_timeout_now(const Message& message);

  // Reads.
  Status leader_read(std::string context, NodeId from);
  void release_reads();
  void answer_read(const PendingRead& read);
  bool committed_in_current_term() const;

  // Validation of input from the network: a non-ok Status means drop it (step counts the drop).
  Status validate(const Message& message) const;
  Status drop_invalid(const Message& message, const std::string& why);
  Status drop_stale(const Message& message);

  Message make(MessageType type, NodeId to) const;
  void send(Message message);
  Status reject_proposal(ErrorCode code, std::string why);
  void abort_leader_transfer() { transferee_ = kNoNode; }
  HardState hard_state() const { return {term_, vote_, log_.committed()}; }
  SoftState soft_state() const { return {leader_, role_}; }
  std::vector<NodeId> peers() const;

  Config config_;
  Random random_;
  QuorumConfig quorum_;
  RaftLog log_;
  SnapshotPtr snapshot_;          // the latest snapshot, to send to followers that need it
  SnapshotPtr pending_snapshot_;  // received from the leader, not yet handed out in a Ready

  Role role_ = Role::kFollower;
  Term term_ = 0;
  NodeId vote_ = kNoNode;
  NodeId leader_ = kNoNode;
  NodeId transferee_ = kNoNode;

  std::map<NodeId, bool> votes_;         // candidate and pre-candidate: who granted and who refused
  std::map<NodeId, Progress> progress_;  // leader: one per voter, itself included
  ReadOnly read_only_;
  std::vector<std::pair<std::string, NodeId>> reads_waiting_for_commit_;  // before the first commit
  size_t uncommitted_bytes_ = 0;
  bool broadcast_pending_ = false;
  bool read_heartbeat_pending_ = false;  // reads arrived since the last read heartbeat round was sent

  int election_elapsed_ = 0;   // ticks since the last election timeout reset (leader: since check)
  int heartbeat_elapsed_ = 0;  // leader: ticks since the last heartbeat
  int transfer_elapsed_ = 0;   // leader: ticks since the leader transfer in progress began

  // Lease reads (ReadOnlyOption::kLeaseBased). `ticks_` is this node's own clock, in ticks; heartbeats
  // carry the tick they were sent at and followers echo it. A follower that took a heartbeat sent at
  // tick t votes for nobody before t + election_tick (by equal-rate clocks), so the leader's lease
  // runs until the quorum-th latest echoed send tick + election_tick, less one tick of phase margin.
  uint64_t ticks_ = 0;
  std::map<NodeId, uint64_t> lease_acks_;  // leader: latest echoed heartbeat send tick per follower
  bool timeout_now_sent_ = false;          // leader: a transfer may elect someone else at any time
  bool restarted_ = false;                 // lease mode: votes wait an election timeout after restart
  int randomized_election_timeout_ = 0;

  // Output waiting for ready().
  std::vector<Message> outbox_;
  std::vector<ReadState> read_states_;

  // What the last ready() handed out and the one before acknowledged.
  bool ready_outstanding_ = false;
  HardState persisted_hard_state_;
  SoftState reported_soft_state_;
  Index handed_last_index_ = 0;
  Term handed_last_term_ = 0;
  Index handed_applying_ = 0;
  std::optional<HardState> handed_hard_state_;
  SnapshotPtr handed_snapshot_;

  EngineCounters counters_;
};

}  // namespace synod::raft
