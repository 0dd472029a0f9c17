// MultiPaxos: a Multi-Paxos core behind the same Engine interface as Raft (consensus/engine.h), so the
// node glue, the server, the simulator and the shared suites drive it unchanged.
//
// Each slot of the log is one instance of Paxos; a stable leader runs phase 1 once for every slot from
// its first unchosen one on, then only phase 2 per slot. Ballots are numbers (paxos/multi_ballot.h):
// HardState.term holds the highest ballot this node's acceptor promised, each entry's term the ballot
// its slot was accepted at. Pure and deterministic like the Raft core: no threads, clocks or I/O, and
// randomness (election timeouts) only from the config's seed. Where to find each rule:
//   vote rule (phase 1b) ......... MultiPaxos::handle_prepare   (promise only above the promise held)
//   accept rule (phase 2b) ....... MultiPaxos::handle_accept    (accept at or above it; chosen slots stay)
//   choice rule .................. MultiPaxos::become_leader    (per slot, the highest ballot's value;
//                                                               slots nobody reported become no-ops)
//   commit rule .................. MultiPaxos::maybe_commit     (a slot a majority accepted at this
//                                                               leader's ballot is chosen)
//   learning ..................... MultiPaxos::learn            (a follower takes a slot as chosen only
//                                                               if it holds the leader's value for it)
//   read path .................... MultiPaxos::read_index, MultiPaxos::handle_heartbeat_response
//   leader transfer .............. MultiPaxos::transfer_leader, kTimeoutNow
//   snapshots .................... MultiPaxos::compact, MultiPaxos::send_accepts, MultiPaxos::handle_snapshot
//   flow control ................. MultiPaxos::handle_accepted, MultiPaxos::handle_heartbeat_response
//                                  (probe, replicate and snapshot states as Raft's: consensus/progress.h)
//
// Messages (consensus/message.h): kPrepare(term = ballot, index = first slot asked), kPromise(entries =
// accepted slots from that one on, commit = the acceptor's chosen prefix; reject with the ballot it
// promised instead), kAccept(entries, commit), kAccepted(index = the prefix it holds at this ballot,
// hint_index = the last slot of the accept it answers, commit), kHeartbeat / kHeartbeatResponse (the
// same, with a read round in context), kSnapshot, kTimeoutNow, kReadIndex(Response), kPropose.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "base/random.h"
#include "base/status.h"
#include "consensus/engine.h"
#include "consensus/progress.h"
#include "consensus/quorum.h"
#include "paxos/multi_config.h"
#include "paxos/slot_log.h"

namespace synod::paxos {

class MultiPaxos final : public Engine {
 public:
  // Builds a core from its configuration and whatever it had made durable (empty for a new node).
  static Result<std::unique_ptr<MultiPaxos>> create(const MultiPaxosConfig& config,
                                                    const DurableState& durable = {});

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
  const SlotLog& log() const { return log_; }
  Term promised() const { return promised_; }
  Term ballot() const { return ballot_; }
  // Leader: the last slot phase 1 recovered; reads wait until it is chosen.
  Index recovered_through() const { return recovered_through_; }
  const MultiPaxosConfig& config() const { return config_; }

 private:
  struct Peer {
    // match: the slots it holds at this ballot (or chosen) go up to here; next: the next slot to send.
    Progress flow;
    Index heartbeat_match = 0;  // what the previous heartbeat answer reported: no progress means loss
  };
  struct Promise {
    Index commit = 0;
    std::vector<Entry> accepted;
  };
  struct ReadRequest {
    std::string context;
    NodeId from = kNoNode;  // this node, or the follower that forwarded it
  };
  struct ReadRound {
    uint64_t id = 0;
    Index index = 0;  // the chosen prefix when the round began
    std::vector<ReadRequest> requests;
    std::set<NodeId> acks;
  };

  MultiPaxos(const MultiPaxosConfig& config, SlotLog log, const HardState& hard_state, SnapshotPtr snapshot,
             std::vector<NodeId> voters);

  // Roles.
  void become_follower(NodeId leader);
  void pre_campaign();
  void campaign(bool transfer);
  bool would_promise(const Message& message) const;
  bool too_far_behind(Index from) const;
  void become_leader();
  void reset_election_timeout();
  void observe_ballot(Term ballot);

  // Acceptor and learner.
  void handle_prepare(const Message& message);
  void handle_accept(const Message& message);
  void handle_heartbeat(const Message& message);
  void handle_snapshot(const Message& message);
  // Takes slots up to `leader_commit` as chosen where this node holds the leader's value for them.
  void learn(Index leader_commit);
  // The slots after the chosen prefix this node holds at the current leader's ballot end here.
  Index accepted_prefix();

  // Leader.
  void handle_promise(const Message& message);
  // What an acceptor's answer says of its progress; nullptr if it is not a peer. `match_before`, if
  // given, gets the prefix known for it before this answer.
  Peer* note_answer(const Message& message, Index* match_before = nullptr);
  void handle_accepted(const Message& message);
  void handle_heartbeat_response(const Message& message);
  void send_accepts(NodeId to, Peer& peer);
  void flush();  // the accepts and read rounds batched since the last Ready
  void broadcast_heartbeat(const std::string& context);
  void maybe_commit();
  void update_self_match();
  Result<Proposal> append_proposal(std::string data);
  void maybe_finish_transfer(NodeId to, const Peer& peer);

  // Reads.
  bool led(NodeId asking) const;
  bool lease_valid() const;
  Status leader_read(std::string context, NodeId from);
  void release_reads(uint64_t confirmed_round);
  void answer_read(const ReadRequest& request, Index index);

  Status validate(const Message& message) const;
  Status drop_invalid(const Message& message, const std::string& why);
  Status drop_stale(const Message& message);
  Message make(MessageType type, NodeId to) const;
  void send(Message message) { outbox_.push_back(std::move(message)); }
  HardState hard_state() const { return {promised_, kNoNode, log_.commit()}; }
  SoftState soft_state() const { return {leader_, role_}; }
  std::vector<NodeId> peers() const;

  MultiPaxosConfig config_;
  Random random_;
  QuorumConfig quorum_;
  SlotLog log_;
  SnapshotPtr snapshot_;
  SnapshotPtr pending_snapshot_;  // installed from the leader, not yet handed out

  Role role_ = Role::kFollower;
  Term promised_ = 0;        // durable: this acceptor answers nothing below it
  Term ballot_ = 0;          // candidate or leader: its own ballot
  Term leader_ballot_ = 0;   // follower: the ballot of the leader it follows
  uint64_t seen_round_ = 0;  // the highest round of any ballot seen, so the next one is above it
  NodeId leader_ = kNoNode;
  NodeId transferee_ = kNoNode;

  // Pre-candidate and candidate.
  std::set<NodeId> pre_grants_;
  Index prepare_from_ = 0;
  std::map<NodeId, Promise> promises_;
  // Leader.
  std::map<NodeId, Peer> peers_;
  Index recovered_through_ = 0;
  Index self_match_ = 0;
  Index persisted_last_ = 0;  // the last slot this node's storage holds as of the last advance()
  size_t uncommitted_bytes_ = 0;
  bool broadcast_pending_ = false;
  std::vector<ReadRequest> unsent_reads_;   // to start a round with at the next flush
  std::vector<ReadRequest> reads_waiting_;  // until the recovered slots are chosen
  std::vector<ReadRound> read_rounds_;
  uint64_t next_read_round_ = 1;
  // Follower: the prefix accepted at leader_ballot_ (a cache, reset when the ballot changes).
  Index accepted_prefix_ = 0;

  // Lease reads: this node's own clock in ticks; heartbeats carry the tick they were sent at and
  // followers echo it, so the lease runs from the send time a majority acknowledged.
  uint64_t ticks_ = 0;
  std::map<NodeId, uint64_t> lease_acks_;
  bool timeout_now_sent_ = false;  // a transfer may elect someone else at any time: no more lease
  bool restarted_ = false;         // lease mode: promises wait an election timeout after a restart

  int election_elapsed_ = 0;
  int heartbeat_elapsed_ = 0;
  int transfer_elapsed_ = 0;
  int randomized_election_timeout_ = 0;

  std::vector<Message> outbox_;
  std::vector<ReadState> read_states_;

  HardState persisted_hard_state_;
  SoftState reported_soft_state_;
  std::optional<HardState> handed_hard_state_;
  Index handed_last_ = 0;
  bool handed_entries_ = false;

  EngineCounters counters_;
};

}  // namespace synod::paxos
