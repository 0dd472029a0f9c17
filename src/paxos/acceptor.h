// Acceptor: the memory of single-decree Paxos (seed 002, "Basic Paxos"). It promises to ignore ballots
// below the highest prepare it answered, and accepts a value only at a ballot at least that high; what
// it promised and accepted must be durable before its answer leaves the node (the caller persists
// state() first), or a restarted acceptor could break a promise and two values could be chosen.
//
// The vote rule of Paxos lives here, in handle().
#pragma once

#include <optional>
#include <string>

#include "paxos/ballot.h"
#include "paxos/message.h"

namespace synod::paxos {

struct AcceptorState {
  Ballot promised;                   // no prepare or accept below it is answered yes
  Ballot accepted;                   // null until something is accepted
  std::optional<std::string> value;  // accepted at `accepted`
  bool operator==(const AcceptorState&) const = default;
};

#if SYNOD_BUG_INJECTION
struct AcceptorBugs {
  bool accept_below_promise = false;  // accept any ballot, ignoring the promise made in phase 1
};
#endif

class Acceptor {
 public:
  explicit Acceptor(NodeId id, AcceptorState durable = {}) : id_(id), state_(std::move(durable)) {}

  // Answers a kPrepare or kAccept (the caller routes only those here) with kPromise, kAccepted or
  // kReject. May change state(), which must be durable before the answer is sent.
  Message handle(const Message& request);

  const AcceptorState& state() const { return state_; }

#if SYNOD_BUG_INJECTION
  AcceptorBugs bugs;
#endif

 private:
  Message answer(MessageType type, const Message& request) const;

  NodeId id_;
  AcceptorState state_;
};

}  // namespace synod::paxos
