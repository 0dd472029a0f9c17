#include "raft/raft.h"

#include <algorithm>
#include <limits>

#include "base/assert.h"

namespace synod::raft {
namespace {

// Marks the vote requests of a leader transfer: voters grant them even while led (thesis 3.10).
constexpr const char* kTransferContext = "transfer";

// Reads queued before a new leader's first commit; beyond this the caller is told to retry.
constexpr size_t kMaxReadsWaitingForCommit = 4096;

// A snapshot not acknowledged within this many election timeouts is assumed lost and sent again.
constexpr int kSnapshotRetryElectionTimeouts = 2;

bool carries_leader(MessageType type) {
  return type == MessageType::kAppend || type == MessageType::kHeartbeat || type == MessageType::kSnapshot;
}

}  // namespace

Result<std::unique_ptr<Raft>> Raft::create(const Config& config, const DurableState& durable) {
  if (Status valid = config.validate(); !valid.is_ok()) return valid;
  std::optional<RaftLog> log = RaftLog::restore(durable);
  if (!log) {
    return Status(ErrorCode::kCorruption,
                  "durable state is inconsistent (entries not contiguous after the snapshot, terms "
                  "decreasing, or commit index past the last entry)");
  }
  std::vector<NodeId> voters = config.voters;
  if (durable.snapshot && !durable.snapshot->meta.conf.voters.empty()) {
    voters = durable.snapshot->meta.conf.voters;
  }
  return std::unique_ptr<Raft>(
      new Raft(config, std::move(*log), durable.hard_state, durable.snapshot, std::move(voters)));
}

Raft::Raft(const Config& config, RaftLog log, const HardState& hard_state, SnapshotPtr snapshot,
           std::vector<NodeId> voters)
    : config_(config),
      random_(config.seed),
      quorum_(MajorityConfig(std::move(voters))),
      log_(std::move(log)),
      snapshot_(std::move(snapshot)),
      term_(hard_state.term),
      vote_(hard_state.vote) {
  persisted_hard_state_ = hard_state;
  persisted_hard_state_.commit = log_.committed();
  handed_applying_ = log_.applying();
  restarted_ = config_.read_only == ReadOnlyOption::kLeaseBased && hard_state.term > 0;
  become_follower(term_, kNoNode);
  reported_soft_state_ = soft_state();
}

// ---------------------------------------------------------------------------------------------------
// Roles

void Raft::reset(Term term) {
  if (term_ != term) {
    term_ = term;
    vote_ = kNoNode;
  }
  leader_ = kNoNode;
  election_elapsed_ = 0;
  heartbeat_elapsed_ = 0;
  reset_randomized_election_timeout();
  abort_leader_transfer();
  votes_.clear();
  progress_.clear();
  read_only_.clear();
  reads_waiting_for_commit_.clear();
  lease_acks_.clear();
  timeout_now_sent_ = false;
  uncommitted_bytes_ = 0;
  broadcast_pending_ = false;
  read_heartbeat_pending_ = false;
}

void Raft::reset_randomized_election_timeout() {
  randomized_election_timeout_ =
      config_.election_tick + static_cast<int>(random_.uniform(static_cast<uint64_t>(config_.election_tick)));
}

void Raft::become_follower(Term term, NodeId leader) {
  reset(term);
  role_ = Role::kFollower;
  leader_ = leader;
}

void Raft::become_pre_candidate() {
  SYNOD_ASSERT_MSG(role_ != Role::kLeader, "a leader never campaigns");
  // A pre-candidate changes neither its term nor its vote: it only asks whether it could win.
  votes_.clear();
  leader_ = kNoNode;
  role_ = Role::kPreCandidate;
  reset_randomized_election_timeout();
}

void Raft::become_candidate() {
  SYNOD_ASSERT_MSG(role_ != Role::kLeader, "a leader never campaigns");
  reset(term_ + 1);
  vote_ = config_.id;
  role_ = Role::kCandidate;
}

void Raft::become_leader() {
  SYNOD_ASSERT(role_ == Role::kCandidate);
  reset(term_);
  leader_ = config_.id;
  role_ = Role::kLeader;
  for (NodeId id : quorum_.voters()) {
    auto [it, inserted] = progress_.try_emplace(id, log_.last_index() + 1, config_.max_inflight_messages,
                                                config_.max_inflight_bytes);
    SYNOD_ASSERT(inserted);
    if (id == config_.id) {
      it->second.maybe_update(log_.stable());
      it->second.become_replicate();
      it->second.set_recent_active(true);
    }
  }
  // A no-op of the new term lets the leader commit what earlier terms left (paper 5.4.2, and the read
  // path needs one committed entry of this term before it can serve).
  log_.append(Entry{term_, log_.last_index() + 1, EntryType::kNoop, {}});
  broadcast_append();
}

// ---------------------------------------------------------------------------------------------------
// Time

void Raft::tick() {
  ++ticks_;
  if (role_ == Role::kLeader) {
    tick_heartbeat();
  } else {
    tick_election();
  }
}

void Raft::tick_election() {
  ++election_elapsed_;
  if (election_elapsed_ >= config_.election_tick) restarted_ = false;
  if (promotable() && past_election_timeout()) {
    election_elapsed_ = 0;
    campaign(config_.pre_vote, false);
  }
}

void Raft::tick_heartbeat() {
  ++heartbeat_elapsed_;
  ++election_elapsed_;
  if (election_elapsed_ >= config_.election_tick) {
    election_elapsed_ = 0;
    if (config_.check_quorum) {
      // Check-quorum: a leader that has not heard from a quorum for an election timeout may have been
      // replaced on the other side of a partition; it stops acting as leader (thesis 6.2).
      std::map<NodeId, bool> active;
      for (auto& [id, progress] : progress_) active[id] = id == config_.id || progress.recent_active();
      if (quorum_.vote_result(active) != VoteResult::kWon) {
        become_follower(term_, kNoNode);
        return;
      }
      for (auto& [id, progress] : progress_) progress.set_recent_active(id == config_.id);
    }
  }
  // A transfer that did not finish within an election timeout is given up (thesis 3.10). It has its own
  // clock: restarting election_elapsed_ would postpone check-quorum.
  if (transferee_ != kNoNode && ++transfer_elapsed_ >= config_.election_tick) abort_leader_transfer();
  for (auto& [id, progress] : progress_) {
    if (progress.state() != ProgressState::kSnapshot) continue;
    progress.tick_snapshot();
    if (progress.snapshot_ticks() >= kSnapshotRetryElectionTimeouts * config_.election_tick) {
      progress.become_probe();
    }
  }
  if (heartbeat_elapsed_ >= config_.heartbeat_tick) {
    heartbeat_elapsed_ = 0;
    // Carry the latest read round, so a read whose own heartbeat was lost is confirmed by this one.
    broadcast_heartbeat(read_only_.pending() > 0 ? ReadOnly::encode_round(read_only_.last_round()) : "");
  }
}

bool Raft::in_leader_lease() const {
  // Thesis 4.2.3: a node that heard from a leader within the minimum election timeout does not help
  // anyone depose it. Without check-quorum a leader is never told it lost its lease, so only pre-votes
  // (which change nothing) honour the lease then.
  //
  // In lease mode a restarted node also waits an election timeout before voting: it may have taken a
  // heartbeat just before crashing, and the leader's lease counts on it.
  return (leader_ != kNoNode || restarted_) && election_elapsed_ < config_.election_tick;
}

// The lease (thesis 6.4.1): with clocks that advance at the same rate, no other leader can exist before
// every vote-granting quorum has gone an election timeout without hearing from us. A transfer hands
// that guarantee away, so it ends the lease for the rest of the term.
bool Raft::lease_valid() const {
#if SYNOD_BUG_INJECTION
  if (config_.bugs.unbounded_lease) return true;
#endif
  if (transferee_ != kNoNode || timeout_now_sent_) return false;
  Index quorum_tick = quorum_.committed_index([&](NodeId id) -> std::optional<Index> {
    if (id == config_.id) return ticks_;
    auto it = lease_acks_.find(id);
    if (it == lease_acks_.end()) return std::nullopt;
    return it->second;
  });
  // One tick of margin: a follower's tick may fall just after it took the heartbeat.
  return quorum_tick > 0 && ticks_ + 1 < quorum_tick + static_cast<uint64_t>(config_.election_tick);
}

// ---------------------------------------------------------------------------------------------------
// Elections

void Raft::campaign(bool pre_vote, bool transfer) {
  if (!promotable()) return;
  Term vote_term = 0;
  if (pre_vote) {
    become_pre_candidate();
    vote_term = term_ + 1;
  } else {
    become_candidate();
    vote_term = term_;
  }
  votes_[config_.id] = true;
  if (quorum_.vote_result(votes_) == VoteResult::kWon) {
    // A single-voter cluster wins at once.
    if (pre_vote) {
      campaign(false, transfer);
    } else {
      become_leader();
    }
    return;
  }
  for (NodeId peer : peers()) {
    Message request = make(pre_vote ? MessageType::kPreVote : MessageType::kVote, peer);
    request.term = vote_term;
    request.index = log_.last_index();
    request.log_term = log_.last_term();
    if (transfer) request.context = kTransferContext;
    send(std::move(request));
  }
}

// The vote rule: one vote per term, only for a candidate whose log is at least as up to date as ours
// (paper 5.2 and 5.4.1). Pre-votes follow the same rule but record nothing.
void Raft::handle_vote_request(const Message& message) {
  bool pre_vote = message.type == MessageType::kPreVote;
  bool can_vote =
      vote_ == message.from || (vote_ == kNoNode && leader_ == kNoNode) || (pre_vote && message.term > term_);
  bool up_to_date = log_.is_up_to_date(message.index, message.log_term);
#if SYNOD_BUG_INJECTION
  if (config_.bugs.grant_two_votes_per_term && !pre_vote) can_vote = true;
  if (config_.bugs.skip_up_to_date_check) up_to_date = true;
#endif
  Message response =
      make(pre_vote ? MessageType::kPreVoteResponse : MessageType::kVoteResponse, message.from);
  if (can_vote && up_to_date) {
    // A granted pre-vote answers in the term the candidate would campaign in, so it is not mistaken for
    // a stale message; a granted vote is in our (equal) term.
    response.term = message.term;
    if (!pre_vote) {
      election_elapsed_ = 0;
      vote_ = message.from;
    }
  } else {
    response.reject = true;
  }
  send(std::move(response));
}

void Raft::handle_vote_response(const Message& message) {
  MessageType expected =
      role_ == Role::kPreCandidate ? MessageType::kPreVoteResponse : MessageType::kVoteResponse;
  if (message.type != expected) return;  // an answer to an earlier campaign
  votes_.emplace(message.from, !message.reject);
  switch (quorum_.vote_result(votes_)) {
    case VoteResult::kWon:
      if (role_ == Role::kPreCandidate) {
        campaign(false, false);
      } else {
        become_leader();
      }
      break;
    case VoteResult::kLost: become_follower(term_, kNoNode); break;
    case VoteResult::kPending: break;
  }
}

// ---------------------------------------------------------------------------------------------------
// Input

Status Raft::step(const Message& message) {
  if (Status valid = validate(message); !valid.is_ok()) {
    counters_.messages_dropped_invalid++;
    return valid;
  }

  // The term rule (paper 5.1): a higher term makes us a follower of it, a lower one marks the message
  // stale. Vote requests during a leader's lease and pre-vote traffic are the exceptions.
  if (message.term > term_) {
    bool vote_request = message.type == MessageType::kVote || message.type == MessageType::kPreVote;
    if (vote_request && message.context != kTransferContext && in_leader_lease() &&
        (config_.check_quorum || message.type == MessageType::kPreVote)) {
      counters_.messages_dropped_stale++;
      return Status(ErrorCode::kStale, leader_ != kNoNode
                                           ? "vote request ignored: heard from leader " +
                                                 std::to_string(leader_) + " within the election timeout"
                                           : "vote request ignored: restarted less than an election "
                                             "timeout ago (lease reads count on this node)");
    }
    // Pre-vote traffic leaves our term alone: a pre-vote request is no campaign, and a granted pre-vote
    // carries the term the candidate would campaign in.
    bool pre_vote_traffic = message.type == MessageType::kPreVote ||
                            (message.type == MessageType::kPreVoteResponse && !message.reject);
    if (!pre_vote_traffic)
      become_follower(message.term, carries_leader(message.type) ? message.from : kNoNode);
  } else if (message.term < term_) {
    if ((config_.check_quorum || config_.pre_vote) &&
        (message.type == MessageType::kAppend || message.type == MessageType::kHeartbeat)) {
      // A leader cut off from the rest may never see our higher term otherwise (with pre-vote nobody
      // campaigns against it): answer so it steps down.
      send(make(MessageType::kAppendResponse, message.from));
    } else if (message.type == MessageType::kPreVote) {
      Message response = make(MessageType::kPreVoteResponse, message.from);
      response.reject = true;
      send(std::move(response));
    }
    return drop_stale(message);
  }

  if (message.type == MessageType::kPreVote || message.type == MessageType::kVote) {
    handle_vote_request(message);
    return Status::ok();
  }
  switch (role_) {
    case Role::kLeader: return step_leader(message);
    case Role::kCandidate:
    case Role::kPreCandidate: return step_candidate(message);
    case Role::kFollower: return step_follower(message);
  }
  return Status::ok();
}

Status Raft::step_leader(const Message& message) {
  switch (message.type) {
    case MessageType::kAppendResponse: return handle_append_response(message);
    case MessageType::kHeartbeatResponse: return handle_heartbeat_response(message);
    case MessageType::kPropose:
      for (const Entry& entry : message.entries) {
        Result<Proposal> result = append_proposal(entry.data);
        if (!result.is_ok()) return result.status();
      }
      return Status::ok();
    case MessageType::kReadIndex: {
      Status status = leader_read(message.context, message.from);
      if (!status.is_ok()) {
        Message response = make(MessageType::kReadIndexResponse, message.from);
        response.reject = true;
        response.context = message.context;
        send(std::move(response));
      }
      return status;
    }
    case MessageType::kAppend:
    case MessageType::kHeartbeat:
    case MessageType::kSnapshot: return drop_invalid(message, "another leader claims this node's term");
    default: return drop_stale(message);
  }
}

Status Raft::step_candidate(const Message& message) {
  switch (message.type) {
    case MessageType::kAppend: become_follower(term_, message.from); return handle_append(message);
    case MessageType::kHeartbeat:
      become_follower(term_, message.from);
      handle_heartbeat(message);
      return Status::ok();
    case MessageType::kSnapshot: become_follower(term_, message.from); return handle_snapshot(message);
    case MessageType::kPreVoteResponse:
    case MessageType::kVoteResponse: handle_vote_response(message); return Status::ok();
    default: return drop_stale(message);
  }
}

Status Raft::step_follower(const Message& message) {
  if (carries_leader(message.type)) {
    if (leader_ != kNoNode && leader_ != message.from) {
      return drop_invalid(message, "a second leader in term " + std::to_string(term_));
    }
    election_elapsed_ = 0;
    leader_ = message.from;
  }
  switch (message.type) {
    case MessageType::kAppend: return handle_append(message);
    case MessageType::kHeartbeat: handle_heartbeat(message); return Status::ok();
    case MessageType::kSnapshot: return handle_snapshot(message);
    case MessageType::kTimeoutNow:
    case MessageType::kReadIndexResponse:
      // Only the leader we follow may tell us to campaign or vouch for a read index.
      if (message.from != leader_) return drop_stale(message);
      if (message.type == MessageType::kTimeoutNow) {
        handle_timeout_now(message);
      } else if (!message.reject) {
        read_states_.push_back({message.index, message.context});
      }
      return Status::ok();
    default: return drop_stale(message);
  }
}

// ---------------------------------------------------------------------------------------------------
// Replication, leader side

bool Raft::maybe_send_append(NodeId to, bool send_if_empty) {
  Progress& progress = progress_.at(to);
  if (progress.paused()) return false;
  Index previous = progress.next() - 1;
  std::optional<Term> previous_term = log_.term(previous);
  std::optional<std::vector<Entry>> entries;
  if (previous_term)
    entries = log_.slice(progress.next(), log_.last_index() + 1, config_.max_bytes_per_message);
  if (!previous_term || !entries) {
    // The follower needs entries we compacted away.
    send_snapshot(to, progress);
    return false;
  }
  if (entries->empty() && !send_if_empty) return false;
  Message append = make(MessageType::kAppend, to);
  append.index = previous;
  append.log_term = *previous_term;
  append.commit = log_.committed();
  append.entries = std::move(*entries);
  if (append.entries.empty()) {
    if (progress.state() == ProgressState::kProbe) progress.sent_probe();
  } else {
    progress.sent_entries(append.entries.back().index, append.size_bytes());
  }
  send(std::move(append));
  return true;
}

void Raft::send_snapshot(NodeId to, Progress& progress) {
  SYNOD_ASSERT_MSG(snapshot_ != nullptr, "entries are compacted only into a snapshot");
  Message message = make(MessageType::kSnapshot, to);
  message.snapshot = snapshot_;
  progress.become_snapshot(snapshot_->meta.index);
  send(std::move(message));
}

void Raft::broadcast_append() {
  broadcast_pending_ = true;
}

void Raft::flush_broadcast() {
  if (read_heartbeat_pending_) {
    read_heartbeat_pending_ = false;
    if (role_ == Role::kLeader) broadcast_heartbeat(ReadOnly::encode_round(read_only_.last_round()));
  }
  if (!broadcast_pending_) return;
  broadcast_pending_ = false;
  if (role_ != Role::kLeader) return;
  for (NodeId peer : peers()) maybe_send_append(peer, true);
}

void Raft::broadcast_heartbeat(const std::string& context) {
  for (NodeId peer : peers()) send_heartbeat(peer, context);
}

void Raft::send_heartbeat(NodeId to, const std::string& context) {
  Message heartbeat = make(MessageType::kHeartbeat, to);
  // Never tell a follower to commit past what it is known to hold: it may lack those entries.
  heartbeat.commit = std::min(progress_.at(to).match(), log_.committed());
  heartbeat.context = context;
  // Echoed back: the lease is measured from when heartbeats were sent. Without leases it stays 0, so
  // that a heartbeat carries no clock (the model checker treats time as a choice, not a value).
  if (config_.read_only == ReadOnlyOption::kLeaseBased) heartbeat.index = ticks_;
  send(std::move(heartbeat));
}

Status Raft::handle_append_response(const Message& message) {
  // Within a term the leader's log only grows, so no answer can be about an index past its end; refuse
  // it before it touches the progress (an accepted or rejected index, and liveness alike).
  if (message.index > log_.last_index()) {
    return drop_invalid(message, "answers about index " + std::to_string(message.index) +
                                     " beyond the leader's last " + std::to_string(log_.last_index()));
  }
  Progress& progress = progress_.at(message.from);
  progress.set_recent_active(true);
  if (message.reject) {
    // Fast backtracking (paper 5.3, end): skip a whole term per round trip. If we hold entries of the
    // follower's conflicting term, retry after our last one; otherwise from its first index.
    Index guess = message.hint_index;
    if (message.hint_term != 0) {
      std::optional<Index> ours = log_.last_index_of_term(message.hint_term);
      if (ours) guess = *ours + 1;
    }
    if (progress.maybe_decrease(message.index, std::max<Index>(guess, 1))) {
      if (progress.state() == ProgressState::kReplicate) progress.become_probe();
      maybe_send_append(message.from, true);
    }
    return Status::ok();
  }
  bool was_paused = progress.paused();
  bool updated = progress.maybe_update(message.index);
  if (!updated && !(progress.state() == ProgressState::kProbe && progress.match() == message.index)) {
    return Status::ok();  // old news
  }
  switch (progress.state()) {
    case ProgressState::kProbe: progress.become_replicate(); break;
    case ProgressState::kSnapshot:
      if (progress.match() >= progress.pending_snapshot()) {
        progress.become_probe();
        progress.become_replicate();
      }
      break;
    case ProgressState::kReplicate: progress.inflights().free_up_to(message.index); break;
  }
  if (maybe_commit()) {
    broadcast_append();
  } else if (was_paused) {
    maybe_send_append(message.from, false);
  }
  // Keep the pipeline full.
  while (maybe_send_append(message.from, false)) {
  }
  if (message.from == transferee_ && progress.match() == log_.last_index()) {
    timeout_now_sent_ = true;
    send(make(MessageType::kTimeoutNow, message.from));
  }
  return Status::ok();
}

Status Raft::handle_heartbeat_response(const Message& message) {
  Progress& progress = progress_.at(message.from);
  progress.set_recent_active(true);
  progress.resume_probe();
  if (message.index <= ticks_) {
    uint64_t& acked = lease_acks_[message.from];
    acked = std::max<uint64_t>(acked, message.index);
  }
  // An answer to a heartbeat proves the follower is reachable; if Appends were lost the window may be
  // full of messages that will never be acknowledged, so let one more through.
  if (progress.state() == ProgressState::kReplicate && progress.inflights().full()) {
    progress.inflights().free_first();
  }
  if (progress.match() < log_.last_index()) maybe_send_append(message.from, true);
  if (!message.context.empty()) {
    read_only_.acknowledge(message.from, ReadOnly::decode_round(message.context));
    release_reads();
  }
  return Status::ok();
}

// The commit rule (paper 5.3 and 5.4.2, Figure 8): the leader commits the largest index a quorum
// holds, but only if that entry is of its own term; earlier entries are committed indirectly.
bool Raft::maybe_commit() {
  Index old_commit = log_.committed();
  Index quorum_index = quorum_.committed_index([&](NodeId id) -> std::optional<Index> {
    auto it = progress_.find(id);
    if (it == progress_.end()) return std::nullopt;
    return it->second.match();
  });
  bool committed = log_.maybe_commit(quorum_index, term_);
#if SYNOD_BUG_INJECTION
  if (config_.bugs.commit_old_term_by_counting && quorum_index > log_.committed()) {
    log_.commit_to(quorum_index);
    committed = true;
  }
#endif
  if (!committed) return false;
  for (Index index = old_commit + 1; index <= log_.committed(); ++index) {
    size_t bytes = log_.entry(index)->size_bytes();
    uncommitted_bytes_ = uncommitted_bytes_ > bytes ? uncommitted_bytes_ - bytes : 0;
  }
  if (committed_in_current_term() && !reads_waiting_for_commit_.empty()) {
    auto waiting = std::move(reads_waiting_for_commit_);
    reads_waiting_for_commit_.clear();
    for (auto& [context, from] : waiting) {
      Status status = leader_read(std::move(context), from);
      SYNOD_ASSERT(status.is_ok());
    }
  }
  return true;
}

void Raft::update_self_progress() {
  if (role_ != Role::kLeader) return;
  if (progress_.at(config_.id).maybe_update(log_.stable()) && maybe_commit()) broadcast_append();
}

Result<Proposal> Raft::propose(std::string data) {
  if (data.size() > config_.max_entry_bytes) {
    return reject_proposal(ErrorCode::kTooLarge, "proposal of " + std::to_string(data.size()) +
                                                     " bytes exceeds the limit of " +
                                                     std::to_string(config_.max_entry_bytes));
  }
  if (role_ == Role::kLeader) return append_proposal(std::move(data));
  if (leader_ == kNoNode) return reject_proposal(ErrorCode::kNoLeader, "no leader is known");
  if (!config_.forward_proposals) {
    return reject_proposal(ErrorCode::kNotLeader, "the leader is node " + std::to_string(leader_));
  }
  Message forward = make(MessageType::kPropose, leader_);
  forward.entries.push_back(Entry{0, 0, EntryType::kNormal, std::move(data)});
  send(std::move(forward));
  return Proposal{0, 0, true};
}

Result<Proposal> Raft::append_proposal(std::string data) {
  if (transferee_ != kNoNode) {
    return reject_proposal(ErrorCode::kTransferInProgress,
                           "leadership is being transferred to node " + std::to_string(transferee_));
  }
  Entry entry{term_, log_.last_index() + 1, EntryType::kNormal, std::move(data)};
  if (uncommitted_bytes_ + entry.size_bytes() > config_.max_uncommitted_bytes) {
    return reject_proposal(ErrorCode::kUnavailable, "too many uncommitted bytes; retry later");
  }
  uncommitted_bytes_ += entry.size_bytes();
  Proposal proposal{entry.index, entry.term, false};
  log_.append(std::move(entry));
  broadcast_append();
  return proposal;
}

// ---------------------------------------------------------------------------------------------------
// Replication, follower side

Status Raft::handle_append(const Message& message) {
  if (message.index < log_.committed()) {
    // Everything up to our commit index matches the leader already (committed entries never change).
    Message response = make(MessageType::kAppendResponse, message.from);
    response.index = log_.committed();
    send(std::move(response));
    return Status::ok();
  }
  bool overwrite_committed = false;
  std::optional<Index> last_new =
      log_.maybe_append(message.index, message.log_term, message.entries, &overwrite_committed);
  if (overwrite_committed) return drop_invalid(message, "it would overwrite committed entries");
  Message response = make(MessageType::kAppendResponse, message.from);
  if (last_new) {
    log_.commit_to(std::min(message.commit, *last_new));
    response.index = *last_new;
  } else {
    response.reject = true;
    response.index = message.index;
    if (message.index > log_.last_index()) {
      response.hint_term = 0;
      response.hint_index = log_.last_index() + 1;
    } else {
      response.hint_term = *log_.term(message.index);
      response.hint_index = log_.first_index_of_term_at(message.index);
    }
  }
  send(std::move(response));
  return Status::ok();
}

void Raft::handle_heartbeat(const Message& message) {
  // The leader sends min(its commit, our match), which we hold; clamp anyway rather than trust it.
  log_.commit_to(std::min(message.commit, log_.last_index()));
  Message response = make(MessageType::kHeartbeatResponse, message.from);
  response.context = message.context;
  response.index = message.index;
  send(std::move(response));
}

Status Raft::handle_snapshot(const Message& message) {
  const SnapshotMeta& meta = message.snapshot->meta;
  Message response = make(MessageType::kAppendResponse, message.from);
  if (meta.index <= log_.committed()) {
    response.index = log_.committed();
  } else if (log_.match_term(meta.index, meta.term)) {
    // We hold the snapshot's last entry: keep our log (and the entries after it) and just commit.
    log_.commit_to(meta.index);
    response.index = log_.committed();
  } else {
    log_.restore_snapshot(meta);
    snapshot_ = message.snapshot;
    pending_snapshot_ = message.snapshot;
    if (!meta.conf.voters.empty()) quorum_ = QuorumConfig(MajorityConfig(meta.conf.voters));
    response.index = log_.last_index();
  }
  send(std::move(response));
  return Status::ok();
}

void Raft::handle_timeout_now(const Message& message) {
  (void)message;
  // The leader asks us to take over (thesis 3.10): campaign at once, skipping pre-vote.
  if (promotable()) campaign(false, true);
}

// ---------------------------------------------------------------------------------------------------
// Leader transfer

Status Raft::transfer_leader(NodeId to) {
  if (role_ != Role::kLeader) {
    return Status(ErrorCode::kNotLeader, "only the leader can transfer leadership");
  }
  if (!quorum_.contains(to)) {
    return Status(ErrorCode::kInvalidArgument, "node " + std::to_string(to) + " is not a voter");
  }
  if (to == config_.id || to == transferee_) return Status::ok();
  transferee_ = to;
  // The transfer gets one election timeout to complete.
  transfer_elapsed_ = 0;
  if (progress_.at(to).match() == log_.last_index()) {
    timeout_now_sent_ = true;
    send(make(MessageType::kTimeoutNow, to));
  } else {
    maybe_send_append(to, true);
  }
  return Status::ok();
}

// ---------------------------------------------------------------------------------------------------
// Reads

Status Raft::read_index(std::string context) {
  if (role_ == Role::kLeader) return leader_read(std::move(context), config_.id);
  if (leader_ == kNoNode) return Status(ErrorCode::kNoLeader, "no leader is known");
  Message forward = make(MessageType::kReadIndex, leader_);
  forward.context = std::move(context);
  send(std::move(forward));
  return Status::ok();
}

bool Raft::committed_in_current_term() const {
  return log_.term(log_.committed()) == term_;
}

// The read path (thesis 6.4): record the commit index, confirm leadership, serve once applied there.
Status Raft::leader_read(std::string context, NodeId from) {
  if (!committed_in_current_term()) {
    // Until its no-op commits, a new leader does not know the latest commit index.
    if (reads_waiting_for_commit_.size() >= kMaxReadsWaitingForCommit) {
      return Status(ErrorCode::kUnavailable, "too many reads waiting for the new leader's first commit");
    }
    reads_waiting_for_commit_.emplace_back(std::move(context), from);
    return Status::ok();
  }
  PendingRead read{0, log_.committed(), std::move(context), from};
  // Lease mode answers at once while the lease holds, and otherwise falls back to a heartbeat round.
  bool confirmed =
      quorum_.voters().size() == 1 || (config_.read_only == ReadOnlyOption::kLeaseBased && lease_valid());
#if SYNOD_BUG_INJECTION
  confirmed = confirmed || config_.bugs.read_without_quorum_check;
#endif
  if (confirmed) {
    answer_read(read);
    return Status::ok();
  }
  read_only_.add(read.index, std::move(read.context), from);
  // One heartbeat round per Ready confirms every read that arrived before it (read_only.h), so reads that
  // come in together share one round of messages instead of each sending its own.
  read_heartbeat_pending_ = true;
  return Status::ok();
}

void Raft::release_reads() {
  for (const PendingRead& read : read_only_.release(quorum_, config_.id)) answer_read(read);
}

void Raft::answer_read(const PendingRead& read) {
  if (read.from == config_.id) {
    read_states_.push_back({read.index, read.context});
    return;
  }
  Message response = make(MessageType::kReadIndexResponse, read.from);
  response.index = read.index;
  response.context = read.context;
  send(std::move(response));
}

// ---------------------------------------------------------------------------------------------------
// Snapshots

Result<SnapshotMeta> Raft::snapshot_meta(Index index) const {
  if (index <= log_.snapshot_index()) {
    return Status(ErrorCode::kCompacted, "index " + std::to_string(index) + " is already compacted");
  }
  if (index > log_.applied()) {
    return Status(ErrorCode::kInvalidArgument, "cannot snapshot index " + std::to_string(index) +
                                                   " past the applied index " +
                                                   std::to_string(log_.applied()));
  }
  return SnapshotMeta{index, *log_.term(index), ConfState{quorum_.voters()}};
}

Status Raft::compact(Index index, std::string data) {
  SYNOD_TRY_ASSIGN(SnapshotMeta meta, snapshot_meta(index));
  snapshot_ = std::make_shared<const Snapshot>(Snapshot{std::move(meta), std::move(data)});
  log_.compact(index);
  return Status::ok();
}

Status Raft::compact_detached(const SnapshotMeta& meta) {
  SYNOD_TRY_ASSIGN(SnapshotMeta now, snapshot_meta(meta.index));
  if (now != meta) {
    return Status(ErrorCode::kInvalidArgument,
                  "the snapshot at index " + std::to_string(meta.index) + " no longer matches the log");
  }
  snapshot_ = std::make_shared<const Snapshot>(Snapshot{meta, {}, /*detached=*/true});
  log_.compact(meta.index);
  return Status::ok();
}

void Raft::release_snapshot_data() {
  if (!snapshot_ || snapshot_->detached) return;
  // Only snapshot_ lets go: a received snapshot not yet handed out in a Ready (pending_snapshot_)
  // keeps its bytes, which the node still has to persist and install.
  snapshot_ = std::make_shared<const Snapshot>(Snapshot{snapshot_->meta, {}, /*detached=*/true});
}

// ---------------------------------------------------------------------------------------------------
// Ready

bool Raft::has_ready() const {
  return broadcast_pending_ || read_heartbeat_pending_ || soft_state() != reported_soft_state_ ||
         hard_state() != persisted_hard_state_ || pending_snapshot_ != nullptr ||
         log_.stable() < log_.last_index() || !outbox_.empty() || log_.committed() > log_.applying() ||
         !read_states_.empty();
}

Ready Raft::ready() {
  SYNOD_ASSERT_MSG(!ready_outstanding_, "advance() the previous Ready first");
  flush_broadcast();
  Ready ready;
  if (SoftState soft = soft_state(); soft != reported_soft_state_) {
    ready.soft_state = soft;
    reported_soft_state_ = soft;
  }
  if (HardState hard = hard_state(); hard != persisted_hard_state_) ready.hard_state = hard;
  ready.snapshot = pending_snapshot_;
  ready.entries = log_.unstable_entries();
  ready.messages = std::move(outbox_);
  outbox_.clear();
  ready.committed = log_.next_committed();
  ready.read_states = std::move(read_states_);
  read_states_.clear();

  handed_hard_state_ = ready.hard_state;
  handed_snapshot_ = ready.snapshot;
  handed_last_index_ = ready.entries.empty() ? 0 : ready.entries.back().index;
  handed_last_term_ = ready.entries.empty() ? 0 : ready.entries.back().term;
  if (!ready.committed.empty()) log_.applying_to(ready.committed.back().index);
  handed_applying_ = log_.applying();
  ready_outstanding_ = true;
  return ready;
}

void Raft::advance() {
  SYNOD_ASSERT_MSG(ready_outstanding_, "advance() without a Ready");
  ready_outstanding_ = false;
  if (handed_hard_state_) persisted_hard_state_ = *handed_hard_state_;
  if (handed_snapshot_ && pending_snapshot_ == handed_snapshot_) pending_snapshot_.reset();
  if (handed_last_index_ != 0) log_.stable_to(handed_last_index_, handed_last_term_);
  log_.applied_to(handed_applying_);
  update_self_progress();
}

// ---------------------------------------------------------------------------------------------------
// Validation: input from the network is checked before it touches any state.

Status Raft::validate(const Message& message) const {
  auto invalid = [&](const std::string& why) {
    return Status(ErrorCode::kDropped, "dropped " + message.describe() + ": " + why);
  };
  if (static_cast<int>(message.type) >= kMessageTypeCount) return invalid("unknown message type");
  if (message.type >= MessageType::kPrepare) return invalid("a Multi-Paxos message");
  if (message.to != config_.id) return invalid("addressed to node " + std::to_string(message.to));
  if (message.from == kNoNode || message.from == config_.id) return invalid("bad sender");
  if (!quorum_.contains(message.from)) return invalid("sender is not a member of the cluster");
  // Terms start at 1 (a campaign increments them), so neither a leader nor a candidate has term 0.
  if (message.term == 0 && (carries_leader(message.type) || message.type == MessageType::kTimeoutNow ||
                            message.type == MessageType::kReadIndexResponse ||
                            message.type == MessageType::kVote || message.type == MessageType::kPreVote)) {
    return invalid("a leader's or candidate's term is at least 1");
  }
  switch (message.type) {
    case MessageType::kAppend: {
      if (message.log_term > message.term) return invalid("previous entry's term is past the message's");
      if (message.entries.size() > config_.max_entries_per_message) return invalid("too many entries");
      if (message.index > std::numeric_limits<Index>::max() - message.entries.size()) {
        return invalid("index overflow");
      }
      Term previous_term = message.log_term;
      for (size_t k = 0; k < message.entries.size(); ++k) {
        const Entry& entry = message.entries[k];
        if (entry.index != message.index + 1 + k) return invalid("entries are not contiguous");
        if (entry.term == 0 || entry.term < previous_term || entry.term > message.term)
          return invalid("entry terms out of order");
        if (entry.type != EntryType::kNormal && entry.type != EntryType::kNoop)
          return invalid("bad entry type");
        previous_term = entry.term;
      }
      break;
    }
    case MessageType::kPropose:
      if (message.entries.empty() || message.entries.size() > config_.max_entries_per_message) {
        return invalid("bad number of proposed entries");
      }
      for (const Entry& entry : message.entries) {
        if (entry.data.size() > config_.max_entry_bytes) return invalid("proposal too large");
      }
      break;
    case MessageType::kSnapshot: {
      if (!message.snapshot) return invalid("snapshot message without a snapshot");
      // Only the sender's own storage can refill a detached snapshot: one that arrives lost its bytes.
      if (message.snapshot->detached) return invalid("snapshot message without its data");
      const SnapshotMeta& meta = message.snapshot->meta;
      if (meta.index == 0 || meta.term == 0 || meta.term > message.term)
        return invalid("bad snapshot metadata");
      if (meta.conf.voters.empty() ||
          std::find(meta.conf.voters.begin(), meta.conf.voters.end(), kNoNode) != meta.conf.voters.end()) {
        return invalid("bad snapshot configuration");
      }
      break;
    }
    case MessageType::kPreVote:
    case MessageType::kVote:
      if (message.log_term > message.term) return invalid("candidate's last term is past its term");
      break;
    case MessageType::kAppendResponse:
      if (message.reject && (message.hint_index > message.index || message.hint_term > message.term)) {
        return invalid("bad rejection hint");
      }
      break;
    default: break;
  }
  return Status::ok();
}

Status Raft::drop_invalid(const Message& message, const std::string& why) {
  counters_.messages_dropped_invalid++;
  return Status(ErrorCode::kDropped, "dropped " + message.describe() + ": " + why);
}

Status Raft::drop_stale(const Message& message) {
  counters_.messages_dropped_stale++;
  return Status(ErrorCode::kStale, "ignored " + message.describe() + " in term " + std::to_string(term_) +
                                       " as " + role_name(role_));
}

Status Raft::reject_proposal(ErrorCode code, std::string why) {
  counters_.proposals_rejected++;
  return Status(code, std::move(why));
}

// ---------------------------------------------------------------------------------------------------
// Helpers and introspection

Message Raft::make(MessageType type, NodeId to) const {
  Message message;
  message.type = type;
  message.from = config_.id;
  message.to = to;
  message.term = term_;
  return message;
}

void Raft::send(Message message) {
  SYNOD_ASSERT(message.to != config_.id && message.to != kNoNode);
  outbox_.push_back(std::move(message));
}

std::vector<NodeId> Raft::peers() const {
  std::vector<NodeId> out;
  for (NodeId id : quorum_.voters()) {
    if (id != config_.id) out.push_back(id);
  }
  return out;
}

const Progress* Raft::progress(NodeId id) const {
  auto it = progress_.find(id);
  return it == progress_.end() ? nullptr : &it->second;
}

EngineStatus Raft::status() const {
  EngineStatus status;
  status.id = config_.id;
  status.role = role_;
  status.term = term_;
  status.vote = vote_;
  status.leader = leader_;
  status.first_index = log_.first_index();
  status.last_index = log_.last_index();
  status.commit = log_.committed();
  status.applied = log_.applied();
  status.snapshot_index = log_.snapshot_index();
  status.transferee = transferee_;
  status.log_version = log_.version();
  status.counters = counters_;
  return status;
}

std::optional<Entry> Raft::entry_at(Index index) const {
  const Entry* entry = log_.entry(index);
  if (entry == nullptr) return std::nullopt;
  return *entry;
}

std::optional<Term> Raft::term_at(Index index) const {
  return log_.term(index);
}

std::unique_ptr<Engine> Raft::clone() const {
  return std::unique_ptr<Engine>(new Raft(*this));
}

// Left out: the timers (election, heartbeat and transfer elapsed, the randomized timeout), the random
// generator, the lease clock and its acknowledgements (the checker runs without leases), the counters,
// and the configuration, which never changes.
void Raft::encode_state(StateEncoder& out) const {
  out.voters(quorum_.incoming().voters());
  log_.encode(out);
  out.flag(snapshot_ != nullptr);
  if (snapshot_) out.snapshot_meta(snapshot_->meta);
  out.flag(pending_snapshot_ != nullptr);
  out.u64(static_cast<uint64_t>(role_));
  out.u64(term_);
  out.node(vote_);
  out.node(leader_);
  out.node(transferee_);
  std::vector<NodeId> voted;
  for (const auto& [id, granted] : votes_) voted.push_back(id);
  out.sorted_by_node(voted, [&](NodeId id) { out.flag(votes_.at(id)); });
  std::vector<NodeId> followers;
  for (const auto& [id, progress] : progress_) followers.push_back(id);
  out.sorted_by_node(followers, [&](NodeId id) { progress_.at(id).encode(out); });
  read_only_.encode(out);
  out.u64(reads_waiting_for_commit_.size());
  for (const auto& [context, from] : reads_waiting_for_commit_) {
    out.bytes(context);
    out.node(from);
  }
  out.u64(uncommitted_bytes_);
  out.flag(broadcast_pending_);
  out.flag(read_heartbeat_pending_);
  out.flag(timeout_now_sent_);
  out.flag(restarted_);
  out.u64(outbox_.size());
  for (const Message& message : outbox_) out.message(message);
  out.u64(read_states_.size());
  out.flag(ready_outstanding_);
  out.u64(persisted_hard_state_.term);
  out.node(persisted_hard_state_.vote);
  out.u64(persisted_hard_state_.commit);
  out.node(reported_soft_state_.leader);
  out.u64(static_cast<uint64_t>(reported_soft_state_.role));
  out.u64(handed_last_index_);
  out.u64(handed_last_term_);
  out.u64(handed_applying_);
  if (out.timed()) {
    out.u64(static_cast<uint64_t>(election_elapsed_));
    out.u64(static_cast<uint64_t>(heartbeat_elapsed_));
    out.u64(static_cast<uint64_t>(transfer_elapsed_));
    out.u64(static_cast<uint64_t>(randomized_election_timeout_));
    out.u64(random_.state());
    out.u64(ticks_);
    std::vector<NodeId> acked;
    for (const auto& [id, tick] : lease_acks_) acked.push_back(id);
    out.sorted_by_node(acked, [&](NodeId id) { out.u64(lease_acks_.at(id)); });
  }
}

}  // namespace synod::raft
