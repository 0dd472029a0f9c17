#include "paxos/single_decree.h"

#include <algorithm>
#include <utility>

#include "base/assert.h"

namespace synod::paxos {

Status SingleDecreeConfig::validate() const {
  auto bad = [](const std::string& what) { return Status(ErrorCode::kInvalidArgument, what); };
  if (id == kNoNode) return bad("the node id must not be 0");
  if (nodes.empty()) return bad("no nodes");
  std::vector<NodeId> sorted = nodes;
  std::sort(sorted.begin(), sorted.end());
  if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) return bad("a node is listed twice");
  if (sorted.front() == kNoNode) return bad("node id 0 is reserved");
  if (!std::binary_search(sorted.begin(), sorted.end(), id)) return bad("this node is not among the nodes");
  if (round_timeout_ticks < 1 || backoff_ticks < 1 || max_backoff_ticks < backoff_ticks ||
      resend_decided_ticks < 1) {
    return bad("tick settings must be positive, and max_backoff_ticks at least backoff_ticks");
  }
  return Status::ok();
}

Result<std::unique_ptr<SingleDecree>> SingleDecree::create(const SingleDecreeConfig& config,
                                                           const SingleDecreeDurable& durable) {
  SYNOD_TRY(config.validate());
  return std::unique_ptr<SingleDecree>(new SingleDecree(config, durable));
}

SingleDecree::SingleDecree(const SingleDecreeConfig& config, const SingleDecreeDurable& durable)
    : config_(config),
      durable_(durable),
      acceptor_(config.id, durable.acceptor),
      proposer_(config.id, config.nodes),
      random_(config.seed),
      backoff_window_(config.backoff_ticks) {
#if SYNOD_BUG_INJECTION
  acceptor_.bugs = config.acceptor_bugs;
  proposer_.bugs = config.proposer_bugs;
#endif
  seen_round_ = durable_.acceptor.promised.round;
  if (durable_.decided) learned_by_.insert(config_.id);
}

// ---- Inputs -------------------------------------------------------------------------------------------

Status SingleDecree::propose(std::string value) {
  if (value.size() > config_.max_value_bytes) {
    return Status(ErrorCode::kTooLarge, "the value is " + std::to_string(value.size()) +
                                            " bytes; the limit is " +
                                            std::to_string(config_.max_value_bytes));
  }
  if (durable_.decided) return Status::ok();
  bool idle = !wanted_;
  wanted_ = std::move(value);
  if (idle) start_ballot();
  return Status::ok();
}

void SingleDecree::tick() {
  ++ticks_;
  if (durable_.decided) {
    if (ticks_ >= resend_at_ && learned_by_.size() < config_.nodes.size()) {
      for (NodeId node : config_.nodes) {
        if (learned_by_.count(node) == 0) send_decided(node);
      }
      resend_at_ = ticks_ + static_cast<uint64_t>(config_.resend_decided_ticks);
    }
    return;
  }
  if (!wanted_ && acceptor_.state().value &&
      ticks_ - heard_at_ >= 2 * static_cast<uint64_t>(config_.round_timeout_ticks)) {
    // Something was accepted here and no decision followed: finish it (see the header).
    wanted_ = acceptor_.state().value;
    schedule_retry();
  }
  if (!wanted_) return;
  Proposer::Phase phase = proposer_.phase();
  if (phase == Proposer::Phase::kPreparing || phase == Proposer::Phase::kAccepting) {
    if (ticks_ - ballot_started_ >= static_cast<uint64_t>(config_.round_timeout_ticks)) {
      proposer_.abandon();
      schedule_retry();
    }
  } else if (phase == Proposer::Phase::kIdle) {
    if (retry_at_ == 0) schedule_retry();
    if (ticks_ >= retry_at_) start_ballot();
  }
}

Status SingleDecree::step(const Message& message) {
  SYNOD_TRY(validate(message));
  if (message.type == MessageType::kDecided && durable_.decided && *durable_.decided != *message.value) {
    return Status(ErrorCode::kCorruption, "node " + std::to_string(message.from) + " says " +
                                              message.value->substr(0, 64) + " was decided, but it was " +
                                              durable_.decided->substr(0, 64));
  }
  deliver(message);
  return Status::ok();
}

Status SingleDecree::validate(const Message& m) const {
  auto drop = [&](const std::string& why) {
    return Status(ErrorCode::kDropped,
                  std::string(message_type_name(m.type)) + " from " + std::to_string(m.from) + ": " + why);
  };
  if (m.to != config_.id) return drop("addressed to another node");
  if (m.from == config_.id ||
      std::find(config_.nodes.begin(), config_.nodes.end(), m.from) == config_.nodes.end())
    return drop("not from a peer");
  if (m.value && m.value->size() > config_.max_value_bytes) return drop("value too large");
  for (const Ballot* ballot : {&m.ballot, &m.accepted_ballot, &m.promised}) {
    if (ballot->round >= SingleDecreeConfig::kMaxRound) return drop("a round too large to follow");
    if (ballot->is_null() != (ballot->node == kNoNode)) return drop("a half-null ballot");
  }
  // Each type carries only its own fields, so nothing unchecked can reach the state.
  bool uses_accepted = m.type == MessageType::kPromise;
  bool uses_promised = m.type == MessageType::kReject;
  bool uses_ballot = m.type != MessageType::kDecided && m.type != MessageType::kLearned;
  bool uses_value = m.type == MessageType::kAccept || m.type == MessageType::kDecided || uses_accepted;
  if ((!uses_accepted && !m.accepted_ballot.is_null()) || (!uses_promised && !m.promised.is_null()) ||
      (!uses_ballot && !m.ballot.is_null()) || (!uses_value && m.value)) {
    return drop("fields this message type does not carry");
  }
  switch (m.type) {
    case MessageType::kPrepare:
    case MessageType::kAccept:
      // A proposer only ever uses its own ballots.
      if (m.ballot.is_null() || m.ballot.node != m.from) return drop("not a ballot of the sender");
      if (m.type == MessageType::kAccept && !m.value) return drop("accept without a value");
      break;
    case MessageType::kPromise:
      if (m.accepted_ballot.is_null() != !m.value) return drop("accepted ballot and value disagree");
      if (!m.accepted_ballot.is_null() && m.accepted_ballot > m.ballot)
        return drop("accepted a ballot above the one promised");
      [[fallthrough]];
    case MessageType::kAccepted:
    case MessageType::kReject:
      // Answers name one of this node's ballots.
      if (m.ballot.is_null() || m.ballot.node != config_.id) return drop("answers a ballot not of this node");
      if (m.type == MessageType::kReject && m.promised <= m.ballot)
        return drop("refusal without a higher promise");
      break;
    case MessageType::kDecided:
      if (!m.value) return drop("decision without a value");
      break;
    case MessageType::kLearned: break;
    default: return drop("unknown message type");
  }
  return Status::ok();
}

// ---- Handling -----------------------------------------------------------------------------------------

// Messages to this node itself are handled at once, in order; the rest wait in the outbox for the
// Ready, which persists before sending, so nothing decided locally leaves before it is durable.
void SingleDecree::deliver(const Message& message) {
  handle(message);
  for (size_t i = 0; i < outbox_.size();) {
    if (outbox_[i].to != config_.id) {
      ++i;
      continue;
    }
    Message local = std::move(outbox_[i]);
    outbox_.erase(outbox_.begin() + static_cast<std::ptrdiff_t>(i));
    handle(local);  // may append to the outbox, which this loop then reaches
  }
}

void SingleDecree::handle(const Message& message) {
  seen_round_ = std::max({seen_round_, message.ballot.round, message.promised.round});
  heard_at_ = ticks_;
  switch (message.type) {
    case MessageType::kPrepare:
    case MessageType::kAccept: {
      if (durable_.decided) {
        // The requester is behind: the decision is all it needs.
        send_decided(message.from);
        return;
      }
      Message answer = acceptor_.handle(message);
      if (acceptor_.state() != durable_.acceptor) {
        durable_.acceptor = acceptor_.state();
        durable_dirty_ = true;
      }
      outbox_.push_back(std::move(answer));
      return;
    }
    case MessageType::kPromise:
    case MessageType::kAccepted:
    case MessageType::kReject: {
      if (durable_.decided) return;
      Proposer::Phase before = proposer_.phase();
      for (Message& request : proposer_.handle(message)) outbox_.push_back(std::move(request));
      if (proposer_.phase() == Proposer::Phase::kChosen) {
        learn(*proposer_.chosen());
      } else if (before != Proposer::Phase::kIdle && proposer_.phase() == Proposer::Phase::kIdle) {
        // Only the refusal that ends the current ballot reschedules: a late or copied one for an
        // older ballot must not push the retry back or widen the backoff again.
        schedule_retry();
      }
      return;
    }
    case MessageType::kDecided:
      learn(*message.value);
      if (message.from != config_.id) {
        Message ack;
        ack.type = MessageType::kLearned;
        ack.from = config_.id;
        ack.to = message.from;
        outbox_.push_back(std::move(ack));
      }
      return;
    case MessageType::kLearned: learned_by_.insert(message.from); return;
  }
}

void SingleDecree::learn(const std::string& value) {
  if (durable_.decided) {
    SYNOD_ASSERT_MSG(*durable_.decided == value, "Paxos never decides two values");
    return;
  }
  durable_.decided = value;
  durable_dirty_ = true;
  newly_learned_ = value;
  wanted_.reset();
  if (proposer_.phase() != Proposer::Phase::kChosen) proposer_.abandon();
  learned_by_.insert(config_.id);
  for (NodeId node : config_.nodes) {
    if (node != config_.id) send_decided(node);
  }
  resend_at_ = ticks_ + static_cast<uint64_t>(config_.resend_decided_ticks);
}

void SingleDecree::send_decided(NodeId to) {
  Message decided;
  decided.type = MessageType::kDecided;
  decided.from = config_.id;
  decided.to = to;
  decided.value = durable_.decided;
  outbox_.push_back(std::move(decided));
}

void SingleDecree::start_ballot() {
  SYNOD_ASSERT(wanted_.has_value() && !durable_.decided);
  // Above every ballot seen. The prepare to this node's own acceptor, handled below, makes a promise of
  // at least this ballot durable in the same Ready as the prepares to the peers.
  Ballot ballot{seen_round_ + 1, config_.id};
  ballot_started_ = ticks_;
  retry_at_ = 0;
  std::vector<Message> prepares = proposer_.start(ballot, *wanted_);
  Message own;
  for (Message& prepare : prepares) {
    if (prepare.to == config_.id) {
      own = std::move(prepare);
    } else {
      outbox_.push_back(std::move(prepare));
    }
  }
  deliver(own);
}

void SingleDecree::schedule_retry() {
  int window = backoff_window_;
  retry_at_ = ticks_ + random_.between(static_cast<uint64_t>(window), static_cast<uint64_t>(2 * window - 1));
  backoff_window_ = std::min(2 * window, config_.max_backoff_ticks);
}

// ---- Output -------------------------------------------------------------------------------------------

bool SingleDecree::has_ready() const {
  return durable_dirty_ || !outbox_.empty() || newly_learned_;
}

SingleDecreeReady SingleDecree::ready() {
  SingleDecreeReady ready;
  if (durable_dirty_) ready.durable = durable_;
  durable_dirty_ = false;
  ready.messages = std::move(outbox_);
  outbox_.clear();
  ready.learned = std::move(newly_learned_);
  newly_learned_.reset();
  return ready;
}

void SingleDecreeDurable::encode(StateEncoder& out) const {
  encode_ballot(out, acceptor.promised);
  encode_ballot(out, acceptor.accepted);
  out.optional_bytes(acceptor.value);
  out.optional_bytes(decided);
}

void SingleDecree::encode_state(StateEncoder& out) const {
  // The acceptor's state is durable_.acceptor: handle() copies every change there at once.
  durable_.encode(out);
  out.flag(durable_dirty_);
  proposer_.encode_state(out);
  out.optional_bytes(wanted_);
  out.u64(seen_round_);
  out.voters(std::vector<NodeId>(learned_by_.begin(), learned_by_.end()));
  out.u64(outbox_.size());
  for (const Message& message : outbox_) message.encode(out);
  out.optional_bytes(newly_learned_);
}

}  // namespace synod::paxos
