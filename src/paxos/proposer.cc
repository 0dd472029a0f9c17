#include "paxos/proposer.h"

#include <algorithm>
#include <utility>

#include "base/assert.h"

namespace synod::paxos {

Proposer::Proposer(NodeId id, std::vector<NodeId> acceptors) : id_(id), acceptors_(std::move(acceptors)) {
  SYNOD_ASSERT(!acceptors_.empty());
}

std::vector<Message> Proposer::requests(MessageType type) const {
  std::vector<Message> out;
  out.reserve(acceptors_.size());
  for (NodeId acceptor : acceptors_) {
    Message request;
    request.type = type;
    request.from = id_;
    request.to = acceptor;
    request.ballot = ballot_;
    if (type == MessageType::kAccept) request.value = proposed_;
    out.push_back(std::move(request));
  }
  return out;
}

std::vector<Message> Proposer::start(Ballot ballot, std::string value) {
  SYNOD_ASSERT_MSG(ballot.node == id_ && ballot > ballot_, "each ballot is new and this proposer's own");
  phase_ = Phase::kPreparing;
  ballot_ = ballot;
  own_value_ = std::move(value);
  promised_by_.clear();
  accepted_by_.clear();
  highest_accepted_ = Ballot{};
  highest_accepted_value_.reset();
  proposed_.reset();
  chosen_.reset();
  return requests(MessageType::kPrepare);
}

std::vector<Message> Proposer::handle(const Message& answer) {
  if (answer.ballot != ballot_ || phase_ == Phase::kIdle) return {};
  switch (answer.type) {
    case MessageType::kPromise: return take_promise(answer);
    case MessageType::kAccepted: return take_accepted(answer);
    case MessageType::kReject:
      highest_refusal_ = std::max(highest_refusal_, answer.promised);
      if (phase_ != Phase::kChosen) phase_ = Phase::kIdle;
      return {};
    default: return {};
  }
}

std::vector<Message> Proposer::take_promise(const Message& promise) {
  if (phase_ != Phase::kPreparing || !promised_by_.insert(promise.from).second) return {};
  if (!promise.accepted_ballot.is_null() && promise.accepted_ballot > highest_accepted_) {
    highest_accepted_ = promise.accepted_ballot;
    highest_accepted_value_ = promise.value;
  }
  if (promised_by_.size() < quorum()) return {};
  // The choice rule: a value some majority may already have chosen is the only safe one to propose.
  proposed_ = highest_accepted_value_ ? highest_accepted_value_ : own_value_;
#if SYNOD_BUG_INJECTION
  if (bugs.ignore_accepted_values) proposed_ = own_value_;
#endif
  phase_ = Phase::kAccepting;
  return requests(MessageType::kAccept);
}

std::vector<Message> Proposer::take_accepted(const Message& accepted) {
  if (phase_ != Phase::kAccepting || !accepted_by_.insert(accepted.from).second) return {};
  if (accepted_by_.size() >= quorum()) {
    phase_ = Phase::kChosen;
    chosen_ = proposed_;
  }
  return {};
}

void Proposer::encode_state(StateEncoder& out) const {
  out.u64(static_cast<uint64_t>(phase_));
  encode_ballot(out, ballot_);
  out.bytes(own_value_);
  out.voters(std::vector<NodeId>(promised_by_.begin(), promised_by_.end()));
  out.voters(std::vector<NodeId>(accepted_by_.begin(), accepted_by_.end()));
  encode_ballot(out, highest_accepted_);
  out.optional_bytes(highest_accepted_value_);
  out.optional_bytes(proposed_);
  out.optional_bytes(chosen_);
  encode_ballot(out, highest_refusal_);
}

}  // namespace synod::paxos
