#include "paxos/message.h"

namespace synod::paxos {

const char* message_type_name(MessageType type) {
  switch (type) {
    case MessageType::kPrepare: return "prepare";
    case MessageType::kPromise: return "promise";
    case MessageType::kAccept: return "accept";
    case MessageType::kAccepted: return "accepted";
    case MessageType::kReject: return "reject";
    case MessageType::kDecided: return "decided";
    case MessageType::kLearned: return "learned";
  }
  return "unknown";
}

std::string Message::describe() const {
  std::string out = std::to_string(from) + "->" + std::to_string(to) + " " + message_type_name(type);
  if (type != MessageType::kDecided && type != MessageType::kLearned) out += " " + ballot.to_string();
  if (type == MessageType::kPromise) {
    out += accepted_ballot.is_null() ? " nothing accepted" : " accepted " + accepted_ballot.to_string();
  }
  if (type == MessageType::kReject) out += " promised " + promised.to_string();
  if (value) out += " \"" + *value + "\"";
  return out;
}

void encode_ballot(StateEncoder& out, const Ballot& ballot) {
  out.u64(ballot.round);
  out.node(ballot.node);
}

void Message::encode(StateEncoder& out) const {
  out.u64(static_cast<uint64_t>(type));
  out.node(from);
  out.node(to);
  encode_ballot(out, ballot);
  encode_ballot(out, accepted_ballot);
  out.optional_bytes(value);
  encode_ballot(out, promised);
}

}  // namespace synod::paxos
