// The messages of single-decree Paxos (seed 002, "Basic Paxos"): phase 1 (prepare, promise), phase 2
// (accept, accepted), a refusal naming the ballot that beat the request, and the decision, which the
// proposer that saw a quorum accept tells everyone.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "consensus/state_encoder.h"
#include "consensus/types.h"
#include "paxos/ballot.h"

namespace synod::paxos {

enum class MessageType : uint8_t {
  kPrepare,   // proposer -> acceptor: ballot
  kPromise,   // acceptor -> proposer: ballot promised, and what it accepted before (if anything)
  kAccept,    // proposer -> acceptor: ballot, value
  kAccepted,  // acceptor -> proposer: ballot accepted
  kReject,    // acceptor -> proposer: the request's ballot was below `promised`
  kDecided,   // proposer -> everyone: value was chosen (repeated until acknowledged)
  kLearned,   // learner -> the node that told it the decision: it is known here now
};
const char* message_type_name(MessageType type);

// The canonical forms the model checker fingerprints states by (consensus/state_encoder.h).
void encode_ballot(StateEncoder& out, const Ballot& ballot);

struct Message {
  MessageType type = MessageType::kPrepare;
  NodeId from = kNoNode;
  NodeId to = kNoNode;
  Ballot ballot;  // the ballot of the request, or of the request being answered
  // kPromise: the acceptor's highest accepted ballot and value (null ballot and no value if none).
  Ballot accepted_ballot;
  // kAccept, kDecided: the value; kPromise: the accepted value, if any.
  std::optional<std::string> value;
  Ballot promised;  // kReject: the ballot the acceptor has promised, which the proposer must exceed

  std::string describe() const;
  void encode(StateEncoder& out) const;
};

}  // namespace synod::paxos
