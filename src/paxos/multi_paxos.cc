#include "paxos/multi_paxos.h"

#include <algorithm>
#include <functional>
#include <limits>
#include <utility>

#include "base/assert.h"
#include "paxos/multi_ballot.h"

namespace synod::paxos {
namespace {

constexpr std::string_view kTransferContext = "transfer";
constexpr int kSnapshotRetryElectionTimeouts = 2;

bool carries_own_ballot(MessageType type) {
  return type == MessageType::kPrepare || type == MessageType::kPreVote || type == MessageType::kAccept ||
         type == MessageType::kHeartbeat || type == MessageType::kSnapshot ||
         type == MessageType::kTimeoutNow;
}

}  // namespace

Result<std::unique_ptr<MultiPaxos>> MultiPaxos::create(const MultiPaxosConfig& config,
                                                       const DurableState& durable) {
  if (Status valid = config.validate(); !valid.is_ok()) return valid;
  std::optional<SlotLog> log = SlotLog::restore(durable);
  if (!log) {
    return Status(ErrorCode::kCorruption,
                  "durable state is inconsistent (slots not contiguous after the snapshot, or a chosen slot "
                  "without a value)");
  }
  if (ballot_round(durable.hard_state.term) > kMaxBallotRound) {
    return Status(ErrorCode::kCorruption, "the promised ballot is out of range");
  }
  std::vector<NodeId> voters = config.voters;
  if (durable.snapshot && !durable.snapshot->meta.conf.voters.empty()) {
    voters = durable.snapshot->meta.conf.voters;
  }
  return std::unique_ptr<MultiPaxos>(
      new MultiPaxos(config, std::move(*log), durable.hard_state, durable.snapshot, std::move(voters)));
}

MultiPaxos::MultiPaxos(const MultiPaxosConfig& config, SlotLog log, const HardState& hard_state,
                       SnapshotPtr snapshot, std::vector<NodeId> voters)
    : config_(config),
      random_(config.seed),
      quorum_(MajorityConfig(std::move(voters))),
      log_(std::move(log)),
      snapshot_(std::move(snapshot)),
      promised_(hard_state.term),
      seen_round_(ballot_round(hard_state.term)) {
  persisted_hard_state_ = hard_state;
  persisted_hard_state_.commit = log_.commit();
  persisted_last_ = log_.last_index();
  restarted_ = config.lease_reads && hard_state.term > 0;
  become_follower(kNoNode);
  reported_soft_state_ = soft_state();
}

std::vector<NodeId> MultiPaxos::peers() const {
  std::vector<NodeId> out;
  for (NodeId id : quorum_.incoming().voters()) {
    if (id != config_.id) out.push_back(id);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Roles

void MultiPaxos::reset_election_timeout() {
  election_elapsed_ = 0;
  randomized_election_timeout_ =
      config_.election_tick + static_cast<int>(random_.uniform(static_cast<uint64_t>(config_.election_tick)));
}

void MultiPaxos::become_follower(NodeId leader) {
  role_ = Role::kFollower;
  leader_ = leader;
  ballot_ = 0;
  if (leader == kNoNode) leader_ballot_ = 0;
  transferee_ = kNoNode;
  promises_.clear();
  pre_grants_.clear();
  peers_.clear();
  uncommitted_bytes_ = 0;
  broadcast_pending_ = false;
  recovered_through_ = 0;
  lease_acks_.clear();
  timeout_now_sent_ = false;
  // Reads this node was serving as leader cannot be confirmed any more: their callers time out.
  unsent_reads_.clear();
  reads_waiting_.clear();
  read_rounds_.clear();
  heartbeat_elapsed_ = 0;
  reset_election_timeout();
}

void MultiPaxos::observe_ballot(Term ballot) {
  seen_round_ = std::max(seen_round_, ballot_round(ballot));
}

// Before raising its promise, a node asks whether a majority would promise its next ballot (kPreVote,
// which changes nothing anywhere). Without it, a node cut off for a while would come back with a
// promise above the working leader's ballot and refuse that leader's accepts, deposing it.
void MultiPaxos::pre_campaign() {
  if (!quorum_.contains(config_.id)) return;
  uint64_t round = std::max(seen_round_, ballot_round(promised_)) + 1;
  if (round > kMaxBallotRound) return;
  become_follower(kNoNode);
  role_ = Role::kPreCandidate;
  ballot_ = make_ballot(round, config_.id);
  pre_grants_ = {config_.id};
  if (!config_.pre_vote || pre_grants_.size() >= quorum_.incoming().quorum()) {
    campaign(false);
    return;
  }
  for (NodeId peer : peers()) {
    Message ask = make(MessageType::kPreVote, peer);
    ask.index = log_.commit() + 1;
    send(std::move(ask));
  }
}

// Whether this acceptor would promise `ballot` to a candidate asking from slot `from`: above its
// promise, not while a live leader holds it (check_quorum), and not to a candidate so far behind that
// it could not take the slots this node knows chosen.
bool MultiPaxos::would_promise(const Message& message) const {
  if (message.term <= promised_) return false;
  if (led(message.from) && message.context != kTransferContext) return false;
  return !too_far_behind(message.index);
}

// Whether this node still counts itself led by someone other than `asking` (check_quorum's stickiness,
// and what a leader's lease relies on). In lease mode a restarted node counts itself led until an
// election timeout passed: it may have taken a heartbeat just before it crashed.
bool MultiPaxos::led(NodeId asking) const {
  if (!config_.check_quorum) return false;
  bool following = leader_ != kNoNode && leader_ != asking;
  return (following || restarted_) && election_elapsed_ < config_.election_tick;
}

bool MultiPaxos::too_far_behind(Index from) const {
  return from < log_.first_index() || from + config_.accept_window <= log_.commit();
}

void MultiPaxos::campaign(bool transfer) {
  if (!quorum_.contains(config_.id)) return;
  uint64_t round = std::max(seen_round_, ballot_round(promised_)) + 1;
  if (round > kMaxBallotRound) return;  // 2^47 elections: never in practice
  become_follower(kNoNode);
  role_ = Role::kCandidate;
  ballot_ = make_ballot(round, config_.id);
  seen_round_ = round;
  // Our own acceptor promises first; the Ready persists it before any prepare leaves.
  promised_ = ballot_;
  prepare_from_ = log_.commit() + 1;
  Promise own;
  own.commit = log_.commit();
  for (Index slot = prepare_from_; slot <= log_.last_index(); ++slot) {
    if (log_.accepted_ballot(slot) != 0) own.accepted.push_back(*log_.at(slot));
  }
  promises_[config_.id] = std::move(own);
  if (promises_.size() >= quorum_.incoming().quorum()) {
    become_leader();
    return;
  }
  for (NodeId peer : peers()) {
    Message prepare = make(MessageType::kPrepare, peer);
    prepare.index = prepare_from_;
    if (transfer) prepare.context = std::string(kTransferContext);
    send(std::move(prepare));
  }
}

// The choice rule. Per slot from prepare_from_ on, the value of the highest ballot any promise reports
// is the only one that may have been chosen there (a majority that chose it intersects the promisers,
// and every later ballot proposed it again); a slot nobody reported was chosen by nobody, and gets a
// no-op so that the slots after it can be.
void MultiPaxos::become_leader() {
  Index chosen = log_.commit();
  Index last = log_.last_index();
  std::map<Index, const Entry*> best;
  for (const auto& [from, promise] : promises_) {
    chosen = std::max(chosen, promise.commit);
    for (const Entry& entry : promise.accepted) {
      last = std::max(last, entry.index);
      const Entry*& held = best[entry.index];
#if SYNOD_BUG_INJECTION
      if (config_.bugs.ignore_highest_accepted) {
        if (held == nullptr || entry.term < held->term) held = &entry;
        continue;
      }
#endif
      if (held == nullptr || entry.term > held->term) held = &entry;
    }
  }
  std::vector<Entry> recovered;
  for (Index slot = log_.commit() + 1; slot <= last; ++slot) {
    auto found = best.find(slot);
    if (found != best.end()) {
      recovered.push_back(Entry{ballot_, slot, found->second->type, found->second->data});
      continue;
    }
#if SYNOD_BUG_INJECTION
    if (config_.bugs.skip_hole_filling) continue;
#endif
    recovered.push_back(Entry{ballot_, slot, EntryType::kNoop, {}});
  }
  role_ = Role::kLeader;
  leader_ = config_.id;
  leader_ballot_ = ballot_;
  for (Entry& entry : recovered) log_.put(std::move(entry));
  log_.commit_to(chosen);
  recovered_through_ = std::max(last, log_.commit());
  self_match_ = log_.commit();
  for (NodeId id : peers()) {
    Peer& peer = peers_
                     .try_emplace(id, Peer{Progress(log_.last_index() + 1, config_.max_inflight_messages,
                                                    config_.max_inflight_bytes)})
                     .first->second;
    peer.flow.set_recent_active(true);
    // A promiser's chosen prefix is what it holds for sure: stream the rest to it at once. Where the
    // others are is not known yet: probe them from their first heartbeat answer.
    auto promise = promises_.find(id);
    if (promise == promises_.end()) continue;
    peer.flow.maybe_update(std::min(promise->second.commit, log_.last_index()));
    peer.flow.become_replicate();
  }
  promises_.clear();
  uncommitted_bytes_ = 0;
  for (Index slot = log_.commit() + 1; slot <= log_.last_index(); ++slot) {
    uncommitted_bytes_ += log_.at(slot)->size_bytes();
  }
  broadcast_pending_ = true;
  heartbeat_elapsed_ = 0;
  election_elapsed_ = 0;
}

// ---------------------------------------------------------------------------------------------------
// Time

void MultiPaxos::tick() {
  ++ticks_;
  if (role_ != Role::kLeader) {
    ++election_elapsed_;
    if (election_elapsed_ >= config_.election_tick) restarted_ = false;
    if (election_elapsed_ >= randomized_election_timeout_) pre_campaign();
    return;
  }
  if (++heartbeat_elapsed_ >= config_.heartbeat_tick) {
    heartbeat_elapsed_ = 0;
    broadcast_heartbeat({});
  }
  if (transferee_ != kNoNode && ++transfer_elapsed_ >= config_.election_tick) transferee_ = kNoNode;
  // A leader cut off from a quorum steps down, so that its clients go elsewhere.
  if (++election_elapsed_ >= config_.election_tick && config_.check_quorum) {
    election_elapsed_ = 0;
    size_t active = 1;
    for (auto& [id, peer] : peers_) {
      if (peer.flow.recent_active()) ++active;
      peer.flow.set_recent_active(false);
    }
    if (active < quorum_.incoming().quorum()) {
      become_follower(kNoNode);
      return;
    }
  }
  // A snapshot lost on the way (or refused) is sent again after a while.
  for (auto& [id, peer] : peers_) {
    if (peer.flow.state() != ProgressState::kSnapshot) continue;
    peer.flow.tick_snapshot();
    if (peer.flow.snapshot_ticks() >= kSnapshotRetryElectionTimeouts * config_.election_tick) {
      peer.flow.become_probe();
      send_accepts(id, peer);
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// Input

Status MultiPaxos::drop_invalid(const Message& message, const std::string& why) {
  ++counters_.messages_dropped_invalid;
  return Status(ErrorCode::kDropped, "dropped " + message.describe() + ": " + why);
}

Status MultiPaxos::drop_stale(const Message& message) {
  ++counters_.messages_dropped_stale;
  return Status(ErrorCode::kStale, "ignored " + message.describe() + " at promised ballot " +
                                       ballot_string(promised_) + " as " + role_name(role_));
}

Status MultiPaxos::validate(const Message& message) const {
  auto invalid = [](const std::string& why) { return Status(ErrorCode::kInvalidArgument, why); };
  if (message.to != config_.id) return invalid("addressed to another node");
  if (message.from == config_.id || !quorum_.contains(message.from)) return invalid("not from a peer");
  switch (message.type) {
    case MessageType::kPreVote:
    case MessageType::kPreVoteResponse:
    case MessageType::kPrepare:
    case MessageType::kPromise:
    case MessageType::kAccept:
    case MessageType::kAccepted:
    case MessageType::kHeartbeat:
    case MessageType::kHeartbeatResponse:
    case MessageType::kSnapshot:
    case MessageType::kTimeoutNow:
    case MessageType::kReadIndex:
    case MessageType::kReadIndexResponse:
    case MessageType::kPropose: break;
    default: return invalid(std::string("a ") + message_type_name(message.type) + " is not a Paxos message");
  }
  bool carries_entries = message.type == MessageType::kAccept || message.type == MessageType::kPromise ||
                         message.type == MessageType::kPropose;
  if (!carries_entries && !message.entries.empty()) return invalid("entries on a message that has none");
  if (message.type != MessageType::kSnapshot && message.snapshot) return invalid("a snapshot out of place");
  // A promise carries what the acceptor accepted from the asked slot on: at most two windows.
  size_t max_entries =
      message.type == MessageType::kPromise ? 2 * config_.accept_window + 1 : config_.max_entries_per_message;
  if (message.entries.size() > max_entries) return invalid("too many entries");
  bool needs_ballot = message.type != MessageType::kReadIndex &&
                      message.type != MessageType::kReadIndexResponse &&
                      message.type != MessageType::kPropose;
  if (needs_ballot && (message.term == 0 || ballot_round(message.term) > kMaxBallotRound)) {
    return invalid("a ballot out of range");
  }
  if (carries_own_ballot(message.type) && ballot_node(message.term) != message.from) {
    return invalid("a ballot that is not the sender's");
  }
  if (message.type == MessageType::kPropose) {
    if (message.entries.empty()) return invalid("a forwarded proposal without entries");
    for (const Entry& entry : message.entries) {
      if (entry.type != EntryType::kNormal) return invalid("a forwarded proposal must be a normal entry");
      if (entry.data.size() > config_.max_entry_bytes) return invalid("a forwarded proposal is too large");
    }
    return Status::ok();
  }
  Index previous = 0;
  for (const Entry& entry : message.entries) {
    if (entry.type != EntryType::kNormal && entry.type != EntryType::kNoop)
      return invalid("a vacant slot sent");
    if (entry.index <= previous) return invalid("slots out of order");
    if (entry.index > std::numeric_limits<Index>::max() / 2) return invalid("a slot out of range");
    previous = entry.index;
  }
  if (message.type == MessageType::kAccept && message.entries.empty())
    return invalid("an accept without slots");
  if (message.type == MessageType::kSnapshot) {
    if (!message.snapshot || message.snapshot->detached || message.snapshot->meta.index == 0) {
      return invalid("a snapshot message without a snapshot");
    }
    const SnapshotMeta& meta = message.snapshot->meta;
    if (meta.index > std::numeric_limits<Index>::max() / 2) return invalid("a snapshot slot out of range");
    if (meta.conf.voters.empty()) return invalid("a snapshot without voters");
    for (NodeId voter : meta.conf.voters) {
      if (voter == kNoNode || voter > kMaxBallotNode) return invalid("a snapshot with a bad voter");
    }
  }
  return Status::ok();
}

Status MultiPaxos::step(const Message& message) {
  if (Status valid = validate(message); !valid.is_ok()) return drop_invalid(message, valid.message());
  switch (message.type) {
    case MessageType::kPrepare: handle_prepare(message); return Status::ok();
    case MessageType::kPreVote: {
      Message answer = make(MessageType::kPreVoteResponse, message.from);
      answer.term = message.term;
      answer.reject = !would_promise(message);
      if (message.term <= promised_) answer.term = std::max(promised_, message.term);
      send(std::move(answer));
      return Status::ok();
    }
    case MessageType::kPreVoteResponse:
      if (message.term > ballot_) observe_ballot(message.term);
      if (role_ != Role::kPreCandidate || message.term != ballot_) return drop_stale(message);
      if (!message.reject) pre_grants_.insert(message.from);
      if (pre_grants_.size() >= quorum_.incoming().quorum()) campaign(false);
      return Status::ok();
    case MessageType::kPromise:
      if (message.reject) observe_ballot(message.term);
      if (role_ != Role::kCandidate || message.term < ballot_) return drop_stale(message);
      if (message.term > ballot_) {  // its acceptor promised a higher ballot
        become_follower(kNoNode);
        return Status::ok();
      }
      handle_promise(message);
      return Status::ok();
    case MessageType::kAccept:
    case MessageType::kHeartbeat:
    case MessageType::kSnapshot:
    case MessageType::kTimeoutNow: {
      observe_ballot(message.term);
      bool below = message.term < promised_;
#if SYNOD_BUG_INJECTION
      if (below && config_.bugs.accept_below_promise && message.type == MessageType::kAccept) below = false;
#endif
      if (below) {
        // Tell the old leader it was superseded, so it steps down.
        Message refusal = make(message.type == MessageType::kHeartbeat ? MessageType::kHeartbeatResponse
                                                                       : MessageType::kAccepted,
                               message.from);
        refusal.reject = true;
        refusal.term = promised_;
        refusal.context = message.context;
        send(std::move(refusal));
        return drop_stale(message);
      }
      if (message.term > promised_) promised_ = message.term;
      if (role_ != Role::kFollower || leader_ != message.from || leader_ballot_ != message.term) {
        become_follower(message.from);
        leader_ballot_ = message.term;
        accepted_prefix_ = log_.commit();
      }
      election_elapsed_ = 0;
      if (message.type == MessageType::kAccept) handle_accept(message);
      if (message.type == MessageType::kHeartbeat) handle_heartbeat(message);
      if (message.type == MessageType::kSnapshot) handle_snapshot(message);
      if (message.type == MessageType::kTimeoutNow) campaign(true);
      return Status::ok();
    }
    case MessageType::kAccepted:
    case MessageType::kHeartbeatResponse:
      observe_ballot(message.term);
      if (role_ != Role::kLeader || message.term < ballot_) return drop_stale(message);
      if (message.term > ballot_) {
        become_follower(kNoNode);
        return Status::ok();
      }
      if (message.reject) return drop_stale(message);  // a refusal at our own ballot: impossible from a peer
      if (message.type == MessageType::kAccepted) {
        handle_accepted(message);
      } else {
        handle_heartbeat_response(message);
      }
      return Status::ok();
    case MessageType::kReadIndex:
      if (role_ != Role::kLeader) {
        Message refusal = make(MessageType::kReadIndexResponse, message.from);
        refusal.reject = true;
        refusal.context = message.context;
        send(std::move(refusal));
        return Status::ok();
      }
      return leader_read(message.context, message.from);
    case MessageType::kReadIndexResponse:
      if (!message.reject) read_states_.push_back(ReadState{message.index, message.context});
      return Status::ok();
    case MessageType::kPropose:
      if (role_ != Role::kLeader || transferee_ != kNoNode) {
        ++counters_.proposals_rejected;
        return Status(ErrorCode::kNotLeader, "not the leader");
      }
      for (const Entry& entry : message.entries) {
        Result<Proposal> appended = append_proposal(entry.data);
        if (!appended.is_ok()) return appended.status();
      }
      return Status::ok();
    default: return drop_invalid(message, "not a Paxos message");
  }
}

// ---------------------------------------------------------------------------------------------------
// Acceptor and learner

// The vote rule: promise a ballot above every promise made, and report what was accepted from the asked
// slot on. A node that heard from a live leader within an election timeout promises nothing to others
// (unless the leader is handing over): a partitioned node's higher ballots would otherwise depose a
// working leader each time it rejoins.
void MultiPaxos::handle_prepare(const Message& message) {
  Message answer = make(MessageType::kPromise, message.from);
  answer.term = message.term;
  // A repeated prepare of the ballot already promised is answered again (its promise may be lost).
  if (message.term != promised_ && !would_promise(message)) {
    answer.reject = true;
    answer.term = std::max(promised_, message.term);
    send(std::move(answer));
    return;
  }
  if (too_far_behind(message.index)) {
    // Slots in our snapshot, or chosen so far back that the promise would carry most of the log: the
    // candidate must catch up from a leader first.
    answer.reject = true;
    answer.hint_index = log_.commit();
    send(std::move(answer));
    return;
  }
  observe_ballot(message.term);
  if (message.term > promised_) {
    promised_ = message.term;
    if (role_ != Role::kFollower) become_follower(kNoNode);
    leader_ = kNoNode;
    leader_ballot_ = 0;
    reset_election_timeout();  // give the candidate its chance
  }
  answer.commit = log_.commit();
  for (Index slot = std::max(message.index, log_.first_index()); slot <= log_.last_index(); ++slot) {
    if (log_.accepted_ballot(slot) != 0) answer.entries.push_back(*log_.at(slot));
  }
  send(std::move(answer));
}

Index MultiPaxos::accepted_prefix() {
  accepted_prefix_ = std::max(accepted_prefix_, log_.commit());
  while (accepted_prefix_ < log_.last_index() &&
         log_.accepted_ballot(accepted_prefix_ + 1) == leader_ballot_) {
    ++accepted_prefix_;
  }
  return accepted_prefix_;
}

// The accept rule: take every slot at this ballot (the caller checked it is at least the promise), in any
// order, within the window after the chosen prefix. A chosen slot never changes.
void MultiPaxos::handle_accept(const Message& message) {
  Index last_taken = 0;
  for (const Entry& entry : message.entries) {
    if (entry.index <= log_.commit()) continue;
    if (entry.index > log_.commit() + config_.accept_window) break;
    last_taken = entry.index;
    if (log_.accepted_ballot(entry.index) == message.term) continue;  // one value per slot per ballot
    log_.put(Entry{message.term, entry.index, entry.type, entry.data});
  }
  learn(message.commit);
  Message answer = make(MessageType::kAccepted, message.from);
  answer.term = message.term;
  answer.index = accepted_prefix();
  answer.hint_index = last_taken;
  answer.commit = log_.commit();
  send(std::move(answer));
}

// A slot the leader says is chosen is chosen with the leader's value; this node may take it only where it
// holds that value, i.e. accepted the slot at the leader's ballot (or already knows it chosen).
void MultiPaxos::learn(Index leader_commit) {
  Index known = std::min(leader_commit, accepted_prefix());
  if (known > log_.commit()) log_.commit_to(known);
}

void MultiPaxos::handle_heartbeat(const Message& message) {
  learn(message.commit);
  Message answer = make(MessageType::kHeartbeatResponse, message.from);
  answer.term = message.term;
  answer.index = accepted_prefix();
  answer.commit = log_.commit();
  answer.context = message.context;
  answer.log_term = message.log_term;
  send(std::move(answer));
}

void MultiPaxos::handle_snapshot(const Message& message) {
  const SnapshotMeta& meta = message.snapshot->meta;
  if (meta.index > log_.commit()) {
    log_.install(meta.index, meta.term);
    snapshot_ = message.snapshot;
    pending_snapshot_ = message.snapshot;
    accepted_prefix_ = meta.index;
    if (!meta.conf.voters.empty()) quorum_ = QuorumConfig(MajorityConfig(meta.conf.voters));
  }
  Message answer = make(MessageType::kAccepted, message.from);
  answer.term = message.term;
  answer.index = accepted_prefix();
  answer.commit = log_.commit();
  send(std::move(answer));
}

// ---------------------------------------------------------------------------------------------------
// Leader

void MultiPaxos::handle_promise(const Message& message) {
  if (message.reject) {
    // Behind our snapshot, or led by someone else: no promise to count.
    return;
  }
  // An acceptor accepts within a window past its chosen prefix: anything further is not a real report,
  // and must not make this node allocate slots up to it.
  Index bound = std::max(message.commit, log_.commit()) + config_.accept_window;
  if (!message.entries.empty() && message.entries.back().index > bound) {
    ++counters_.messages_dropped_invalid;
    return;
  }
  // A chosen prefix past ours must come with every value in it: this node will take them as chosen.
  if (message.commit >= prepare_from_) {
    Index expected = prepare_from_;
    for (const Entry& entry : message.entries) {
      if (entry.index > message.commit) break;
      if (entry.index != expected) break;
      ++expected;
    }
    if (expected != message.commit + 1) {
      ++counters_.messages_dropped_invalid;
      return;
    }
  }
  promises_[message.from] = Promise{message.commit, message.entries};
  if (promises_.size() >= quorum_.incoming().quorum()) become_leader();
}

MultiPaxos::Peer* MultiPaxos::note_answer(const Message& message, Index* match_before) {
  auto found = peers_.find(message.from);
  if (found == peers_.end()) return nullptr;
  Peer& peer = found->second;
  if (match_before != nullptr) *match_before = peer.flow.match();
  peer.flow.set_recent_active(true);
  peer.flow.maybe_update(std::min(message.index, log_.last_index()));
  // The snapshot it was sent is installed (or it has caught up past it some other way).
  if (peer.flow.state() == ProgressState::kSnapshot && peer.flow.match() >= peer.flow.pending_snapshot()) {
    peer.flow.become_probe();
    peer.flow.become_replicate();
  }
  return &peer;
}

void MultiPaxos::handle_accepted(const Message& message) {
  Index match_before = 0;
  Peer* found = note_answer(message, &match_before);
  if (found == nullptr) return;
  Progress& flow = found->flow;
  switch (flow.state()) {
    case ProgressState::kProbe:
      // The probe arrived (its answer moves the prefix on): where the follower is is known again. Answers
      // to accepts sent before the probe show the old gap and change nothing.
      if (flow.match() > match_before) flow.become_replicate();
      break;
    case ProgressState::kReplicate:
      flow.inflights().free_up_to(std::max(message.index, message.hint_index));
      // It took slots past a gap: an earlier accept was lost. Probe from the gap: the answers to the
      // accepts still in flight show the same gap until the resent slots arrive.
      if (message.hint_index > message.index) flow.become_probe();
      break;
    case ProgressState::kSnapshot: break;
  }
  send_accepts(message.from, *found);
  maybe_commit();
  maybe_finish_transfer(message.from, *found);
}

void MultiPaxos::handle_heartbeat_response(const Message& message) {
  Peer* found = note_answer(message);
  if (found == nullptr) return;
  Peer& peer = *found;
  Progress& flow = peer.flow;
  switch (flow.state()) {
    case ProgressState::kProbe:
      // The follower's own report is what probing waits for: send from there.
      flow.become_probe();
      break;
    case ProgressState::kReplicate:
      // No progress since the last heartbeat and slots missing: what was sent is lost (or the follower
      // restarted without it); find out where it is.
      if (message.index < log_.last_index() && message.index == peer.heartbeat_match) flow.become_probe();
      break;
    case ProgressState::kSnapshot: break;
  }
  peer.heartbeat_match = message.index;
  send_accepts(message.from, peer);
  if (message.log_term <= ticks_) {
    uint64_t& acked = lease_acks_[message.from];
    acked = std::max(acked, message.log_term);
  }
  maybe_commit();
  maybe_finish_transfer(message.from, peer);
  if (message.context.empty()) return;
  uint64_t round = 0;
  for (char c : message.context) {
    if (c < '0' || c > '9' || round > std::numeric_limits<uint64_t>::max() / 10 - 10) return;
    round = round * 10 + static_cast<uint64_t>(c - '0');
  }
  for (ReadRound& read : read_rounds_) {
    if (read.id == round) read.acks.insert(message.from);
    if (read.id == round && read.acks.size() + 1 >= quorum_.incoming().quorum()) {
      release_reads(round);
      return;
    }
  }
}

void MultiPaxos::send_accepts(NodeId to, Peer& peer) {
  Progress& flow = peer.flow;
  if (flow.paused()) return;
  if (flow.next() < log_.first_index()) {
    if (snapshot_ == nullptr) return;
    Message message = make(MessageType::kSnapshot, to);
    message.snapshot = snapshot_;
    send(std::move(message));
    flow.become_snapshot(snapshot_->meta.index);
    return;
  }
  while (!flow.paused() && flow.next() <= log_.last_index()) {
    Message message = make(MessageType::kAccept, to);
    message.commit = log_.commit();
    size_t bytes = 0;
    Index slot = flow.next();
    for (; slot <= log_.last_index(); ++slot) {
      const Entry& entry = *log_.at(slot);
      if (!message.entries.empty() && (bytes + entry.size_bytes() > config_.max_bytes_per_message ||
                                       message.entries.size() >= config_.max_entries_per_message)) {
        break;
      }
      if (entry.type == EntryType::kVacant) continue;  // only with holes left unfilled (an injected bug)
      bytes += entry.size_bytes();
      message.entries.push_back(entry);
    }
    if (message.entries.empty()) return;
    send(std::move(message));
    flow.sent_entries(slot - 1, bytes);
  }
}

void MultiPaxos::broadcast_heartbeat(const std::string& context) {
  for (auto& [id, peer] : peers_) {
    Message heartbeat = make(MessageType::kHeartbeat, id);
    heartbeat.commit = std::min(log_.commit(), peer.flow.match());
    // Echoed: the lease runs from when heartbeats were sent. Without leases no clock travels (the model
    // checker treats time as a choice, not a value).
    if (config_.lease_reads) heartbeat.log_term = ticks_;
    heartbeat.context = context;
    send(std::move(heartbeat));
  }
}

void MultiPaxos::flush() {
  if (role_ != Role::kLeader) return;
  if (broadcast_pending_) {
    broadcast_pending_ = false;
    for (auto& [id, peer] : peers_) send_accepts(id, peer);
  }
  if (!unsent_reads_.empty()) {
    ReadRound round;
    round.id = next_read_round_++;
    round.index = log_.commit();
    round.requests = std::move(unsent_reads_);
    unsent_reads_.clear();
    read_rounds_.push_back(std::move(round));
    broadcast_heartbeat(std::to_string(read_rounds_.back().id));
  }
}

// The commit rule: this leader proposed one value per slot at its ballot, so a slot a majority accepted
// at it (each counting only the prefix it holds without a gap) is chosen.
void MultiPaxos::maybe_commit() {
  if (role_ != Role::kLeader) return;
  std::vector<Index> matches{self_match_};
  for (const auto& [id, peer] : peers_) matches.push_back(peer.flow.match());
  std::sort(matches.begin(), matches.end(), std::greater<>());
  Index chosen = matches[quorum_.incoming().quorum() - 1];
  if (chosen <= log_.commit()) return;
  log_.commit_to(chosen);
  uncommitted_bytes_ = 0;
  for (Index slot = chosen + 1; slot <= log_.last_index(); ++slot)
    uncommitted_bytes_ += log_.at(slot)->size_bytes();
  if (log_.commit() >= recovered_through_ && !reads_waiting_.empty()) {
    std::vector<ReadRequest> waiting = std::move(reads_waiting_);
    reads_waiting_.clear();
    for (ReadRequest& request : waiting) (void)leader_read(std::move(request.context), request.from);
  }
}

// The leader's own acceptor counts for a slot once the slot is durable at this ballot: recovery rewrites
// slots the disk already held at older ballots, so what was persisted before is not enough.
void MultiPaxos::update_self_match() {
  Index durable = std::min(persisted_last_, log_.unpersisted_from() - 1);
  self_match_ = std::max(self_match_, log_.commit());
  while (self_match_ < durable && log_.accepted_ballot(self_match_ + 1) == ballot_) ++self_match_;
}

// The proposal's size was checked by propose(), or by validate() for a forwarded one.
Result<Proposal> MultiPaxos::append_proposal(std::string data) {
  Entry entry{ballot_, log_.last_index() + 1, EntryType::kNormal, std::move(data)};
  if (uncommitted_bytes_ + entry.size_bytes() > config_.max_uncommitted_bytes) {
    ++counters_.proposals_rejected;
    return Status(ErrorCode::kUnavailable, "too many proposals waiting to be chosen; retry later");
  }
  uncommitted_bytes_ += entry.size_bytes();
  Proposal proposal{entry.index, ballot_, false};
  log_.put(std::move(entry));
  broadcast_pending_ = true;
  return proposal;
}

Result<Proposal> MultiPaxos::propose(std::string data) {
  if (data.size() > config_.max_entry_bytes) {
    ++counters_.proposals_rejected;
    return Status(ErrorCode::kTooLarge, "proposal of " + std::to_string(data.size()) +
                                            " bytes exceeds the limit of " +
                                            std::to_string(config_.max_entry_bytes));
  }
  if (role_ == Role::kLeader) {
    if (transferee_ != kNoNode) {
      ++counters_.proposals_rejected;
      return Status(ErrorCode::kTransferInProgress, "leadership is being transferred");
    }
    return append_proposal(std::move(data));
  }
  if (leader_ == kNoNode) {
    ++counters_.proposals_rejected;
    return Status(ErrorCode::kNoLeader, "no leader is known");
  }
  Message forward = make(MessageType::kPropose, leader_);
  forward.term = 0;
  forward.entries.push_back(Entry{0, 0, EntryType::kNormal, std::move(data)});
  send(std::move(forward));
  return Proposal{0, 0, true};
}

Status MultiPaxos::transfer_leader(NodeId to) {
  if (role_ != Role::kLeader) return Status(ErrorCode::kNotLeader, "only the leader can transfer leadership");
  if (to == config_.id) return Status::ok();
  auto found = peers_.find(to);
  if (found == peers_.end()) return Status(ErrorCode::kInvalidArgument, "not a voter");
  transferee_ = to;
  transfer_elapsed_ = 0;
  send_accepts(to, found->second);
  maybe_finish_transfer(to, found->second);
  return Status::ok();
}

void MultiPaxos::maybe_finish_transfer(NodeId to, const Peer& peer) {
  if (transferee_ != to || peer.flow.match() < log_.last_index()) return;
  timeout_now_sent_ = true;
  send(make(MessageType::kTimeoutNow, to));
}

// ---------------------------------------------------------------------------------------------------
// Reads: a read barrier. The leader notes its chosen prefix, then confirms with a majority heartbeat
// round that no higher ballot has been promised by a majority (so nothing was chosen it does not know);
// reads are answered at the noted index. Until the slots its phase 1 recovered are chosen, its prefix
// may be behind what earlier leaders chose, so reads wait for that first.

Status MultiPaxos::read_index(std::string context) {
  if (role_ == Role::kLeader) return leader_read(std::move(context), config_.id);
  if (leader_ == kNoNode) return Status(ErrorCode::kNoLeader, "no leader is known");
  Message forward = make(MessageType::kReadIndex, leader_);
  forward.term = 0;
  forward.context = std::move(context);
  send(std::move(forward));
  return Status::ok();
}

Status MultiPaxos::leader_read(std::string context, NodeId from) {
  ReadRequest request{std::move(context), from};
  if (log_.commit() < recovered_through_) {
    reads_waiting_.push_back(std::move(request));
    return Status::ok();
  }
  if (quorum_.incoming().quorum() == 1 || (config_.lease_reads && lease_valid())) {
    answer_read(request, log_.commit());
    return Status::ok();
  }
  unsent_reads_.push_back(std::move(request));
  return Status::ok();
}

// With equal-rate clocks no other ballot can win before every majority that took our heartbeats has
// gone an election timeout without one: the quorum-th latest acknowledged send tick, plus that, less a
// tick of margin (a follower's tick may fall just after it took the heartbeat).
bool MultiPaxos::lease_valid() const {
  if (transferee_ != kNoNode || timeout_now_sent_) return false;
  std::vector<uint64_t> acked{ticks_};
  for (const auto& [id, peer] : peers_) {
    auto found = lease_acks_.find(id);
    acked.push_back(found == lease_acks_.end() ? 0 : found->second);
  }
  std::sort(acked.begin(), acked.end(), std::greater<>());
  uint64_t quorum_tick = acked[quorum_.incoming().quorum() - 1];
  return quorum_tick > 0 && ticks_ + 1 < quorum_tick + static_cast<uint64_t>(config_.election_tick);
}

void MultiPaxos::release_reads(uint64_t confirmed_round) {
  // A round confirms every earlier one too: the leader still led when the later round was answered.
  auto end = std::find_if(read_rounds_.begin(), read_rounds_.end(),
                          [confirmed_round](const ReadRound& round) { return round.id > confirmed_round; });
  for (auto it = read_rounds_.begin(); it != end; ++it) {
    for (const ReadRequest& request : it->requests) answer_read(request, it->index);
  }
  read_rounds_.erase(read_rounds_.begin(), end);
}

void MultiPaxos::answer_read(const ReadRequest& request, Index index) {
  if (request.from == config_.id) {
    read_states_.push_back(ReadState{index, request.context});
    return;
  }
  Message answer = make(MessageType::kReadIndexResponse, request.from);
  answer.term = 0;
  answer.index = index;
  answer.context = request.context;
  send(std::move(answer));
}

// ---------------------------------------------------------------------------------------------------
// Snapshots

Result<SnapshotMeta> MultiPaxos::snapshot_meta(Index index) const {
  if (index <= log_.snapshot_index()) {
    return Status(ErrorCode::kCompacted, "slot " + std::to_string(index) + " is already compacted");
  }
  if (index > log_.applied()) {
    return Status(ErrorCode::kInvalidArgument, "slot " + std::to_string(index) + " is not applied yet");
  }
  SnapshotMeta meta;
  meta.index = index;
  meta.term = log_.at(index)->term;
  meta.conf.voters = quorum_.incoming().voters();
  return meta;
}

Status MultiPaxos::compact(Index index, std::string data) {
  SYNOD_TRY_ASSIGN(SnapshotMeta meta, snapshot_meta(index));
  auto snapshot = std::make_shared<Snapshot>();
  snapshot->meta = std::move(meta);
  snapshot->data = std::move(data);
  log_.compact(index, snapshot->meta.term);
  snapshot_ = std::move(snapshot);
  return Status::ok();
}

Status MultiPaxos::compact_detached(const SnapshotMeta& meta) {
  SYNOD_TRY_ASSIGN(SnapshotMeta now, snapshot_meta(meta.index));
  if (now != meta) {
    return Status(ErrorCode::kInvalidArgument,
                  "the snapshot at slot " + std::to_string(meta.index) + " no longer matches the log");
  }
  auto snapshot = std::make_shared<Snapshot>();
  snapshot->meta = meta;
  snapshot->detached = true;
  log_.compact(meta.index, meta.term);
  snapshot_ = std::move(snapshot);
  return Status::ok();
}

void MultiPaxos::release_snapshot_data() {
  if (snapshot_ == nullptr || snapshot_->detached) return;
  auto detached = std::make_shared<Snapshot>();
  detached->meta = snapshot_->meta;
  detached->detached = true;
  snapshot_ = std::move(detached);
}

// ---------------------------------------------------------------------------------------------------
// Ready

bool MultiPaxos::has_ready() const {
  return soft_state() != reported_soft_state_ || hard_state() != persisted_hard_state_ ||
         log_.has_unpersisted() || log_.has_to_apply() || pending_snapshot_ != nullptr || !outbox_.empty() ||
         !read_states_.empty() || (role_ == Role::kLeader && (broadcast_pending_ || !unsent_reads_.empty()));
}

Ready MultiPaxos::ready() {
  flush();
  Ready ready;
  if (soft_state() != reported_soft_state_) {
    ready.soft_state = soft_state();
    reported_soft_state_ = soft_state();
  }
  if (hard_state() != persisted_hard_state_) {
    ready.hard_state = hard_state();
    handed_hard_state_ = hard_state();
  }
  ready.snapshot = std::move(pending_snapshot_);
  pending_snapshot_ = nullptr;
  ready.entries = log_.unpersisted();
  handed_entries_ = !ready.entries.empty() || ready.snapshot != nullptr;
  handed_last_ = log_.last_index();
  log_.mark_persisted();
  ready.committed = log_.to_apply();
  log_.mark_applied(log_.commit());
  ready.messages = std::move(outbox_);
  outbox_.clear();
  ready.read_states = std::move(read_states_);
  read_states_.clear();
  return ready;
}

void MultiPaxos::advance() {
  if (handed_hard_state_) persisted_hard_state_ = *handed_hard_state_;
  handed_hard_state_.reset();
  if (handed_entries_) persisted_last_ = std::max(persisted_last_, handed_last_);
  handed_entries_ = false;
  if (role_ == Role::kLeader) {
    update_self_match();
    maybe_commit();
  }
}

// ---------------------------------------------------------------------------------------------------
// Status and introspection

Message MultiPaxos::make(MessageType type, NodeId to) const {
  Message message;
  message.type = type;
  message.from = config_.id;
  message.to = to;
  message.term = ballot_;
  return message;
}

EngineStatus MultiPaxos::status() const {
  EngineStatus status;
  status.id = config_.id;
  status.role = role_;
  status.term = promised_;
  status.leader = leader_;
  status.first_index = log_.first_index();
  status.last_index = log_.last_index();
  status.commit = log_.commit();
  status.applied = log_.applied();
  status.snapshot_index = log_.snapshot_index();
  status.transferee = transferee_;
  status.log_version = log_.version();
  status.counters = counters_;
  return status;
}

std::optional<Entry> MultiPaxos::entry_at(Index index) const {
  const Entry* entry = log_.at(index);
  if (entry == nullptr) return std::nullopt;
  return *entry;
}

std::optional<Term> MultiPaxos::term_at(Index index) const {
  if (index == log_.snapshot_index()) return log_.snapshot_term();
  const Entry* entry = log_.at(index);
  if (entry == nullptr) return std::nullopt;
  return entry->term;
}

std::unique_ptr<Engine> MultiPaxos::clone() const {
  return std::unique_ptr<Engine>(new MultiPaxos(*this));
}

// Left out: the timers (election, heartbeat and transfer elapsed, the randomized timeout), the random
// generator, the lease clock and its acknowledgements (the checker runs without leases), the counters
// and the configuration. Ballots hold node ids in their low bits, so they are written as they are: a
// renaming of ids would reorder ballots, and this engine is checked without symmetry reduction.
void MultiPaxos::encode_state(StateEncoder& out) const {
  out.voters(quorum_.incoming().voters());
  log_.encode(out);
  out.flag(snapshot_ != nullptr);
  if (snapshot_) out.snapshot_meta(snapshot_->meta);
  out.flag(pending_snapshot_ != nullptr);
  out.u64(static_cast<uint64_t>(role_));
  out.u64(promised_);
  out.u64(ballot_);
  out.u64(leader_ballot_);
  out.u64(seen_round_);
  out.node(leader_);
  out.node(transferee_);
  out.voters(std::vector<NodeId>(pre_grants_.begin(), pre_grants_.end()));
  out.u64(prepare_from_);
  std::vector<NodeId> promisers;
  for (const auto& [id, promise] : promises_) promisers.push_back(id);
  out.sorted_by_node(promisers, [&](NodeId id) {
    const Promise& promise = promises_.at(id);
    out.u64(promise.commit);
    out.u64(promise.accepted.size());
    for (const Entry& entry : promise.accepted) out.entry(entry);
  });
  std::vector<NodeId> followers;
  for (const auto& [id, peer] : peers_) followers.push_back(id);
  out.sorted_by_node(followers, [&](NodeId id) {
    const Peer& peer = peers_.at(id);
    peer.flow.encode(out);
    out.u64(peer.heartbeat_match);
  });
  out.u64(recovered_through_);
  out.u64(self_match_);
  out.u64(persisted_last_);
  out.u64(uncommitted_bytes_);
  out.flag(broadcast_pending_);
  auto encode_reads = [&](const std::vector<ReadRequest>& reads) {
    out.u64(reads.size());
    for (const ReadRequest& read : reads) {
      out.bytes(read.context);
      out.node(read.from);
    }
  };
  encode_reads(unsent_reads_);
  encode_reads(reads_waiting_);
  out.u64(read_rounds_.size());
  for (const ReadRound& round : read_rounds_) {
    out.u64(round.id);
    out.u64(round.index);
    encode_reads(round.requests);
    out.voters(std::vector<NodeId>(round.acks.begin(), round.acks.end()));
  }
  out.u64(next_read_round_);
  out.u64(accepted_prefix_);
  out.flag(timeout_now_sent_);
  out.flag(restarted_);
  out.u64(outbox_.size());
  for (const Message& message : outbox_) out.message(message);
  out.u64(read_states_.size());
  out.u64(persisted_hard_state_.term);
  out.u64(persisted_hard_state_.commit);
  out.node(reported_soft_state_.leader);
  out.u64(static_cast<uint64_t>(reported_soft_state_.role));
  out.flag(handed_hard_state_.has_value());
  out.u64(handed_last_);
  out.flag(handed_entries_);
}

}  // namespace synod::paxos
