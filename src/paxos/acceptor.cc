#include "paxos/acceptor.h"

#include "base/assert.h"

namespace synod::paxos {

Message Acceptor::answer(MessageType type, const Message& request) const {
  Message out;
  out.type = type;
  out.from = id_;
  out.to = request.from;
  out.ballot = request.ballot;
  return out;
}

Message Acceptor::handle(const Message& request) {
  SYNOD_ASSERT(request.type == MessageType::kPrepare || request.type == MessageType::kAccept);
  // Equal ballots are answered yes: the same proposer repeating its own request (a retransmission)
  // asks for nothing it was not already given.
  bool allowed = request.ballot >= state_.promised;
#if SYNOD_BUG_INJECTION
  if (bugs.accept_below_promise && request.type == MessageType::kAccept) allowed = true;
#endif
  if (!allowed) {
    Message refused = answer(MessageType::kReject, request);
    refused.promised = state_.promised;
    return refused;
  }
  if (request.type == MessageType::kPrepare) {
    state_.promised = request.ballot;
    Message promise = answer(MessageType::kPromise, request);
    promise.accepted_ballot = state_.accepted;
    promise.value = state_.value;
    return promise;
  }
  SYNOD_ASSERT_MSG(request.value.has_value(), "an accept request carries a value (checked on receipt)");
  if (request.ballot > state_.promised) state_.promised = request.ballot;
  state_.accepted = request.ballot;
  state_.value = request.value;
  return answer(MessageType::kAccepted, request);
}

}  // namespace synod::paxos
