#include "consensus/message.h"

#include <sstream>

namespace synod {

const char* role_name(Role role) {
  switch (role) {
    case Role::kFollower: return "follower";
    case Role::kPreCandidate: return "pre-candidate";
    case Role::kCandidate: return "candidate";
    case Role::kLeader: return "leader";
  }
  return "?";
}

const char* message_type_name(MessageType type) {
  switch (type) {
    case MessageType::kPreVote: return "PreVote";
    case MessageType::kPreVoteResponse: return "PreVoteResp";
    case MessageType::kVote: return "Vote";
    case MessageType::kVoteResponse: return "VoteResp";
    case MessageType::kAppend: return "Append";
    case MessageType::kAppendResponse: return "AppendResp";
    case MessageType::kHeartbeat: return "Heartbeat";
    case MessageType::kHeartbeatResponse: return "HeartbeatResp";
    case MessageType::kSnapshot: return "Snapshot";
    case MessageType::kTimeoutNow: return "TimeoutNow";
    case MessageType::kReadIndex: return "ReadIndex";
    case MessageType::kReadIndexResponse: return "ReadIndexResp";
    case MessageType::kPropose: return "Propose";
    case MessageType::kPrepare: return "Prepare";
    case MessageType::kPromise: return "Promise";
    case MessageType::kAccept: return "Accept";
    case MessageType::kAccepted: return "Accepted";
  }
  return "?";
}

size_t Message::size_bytes() const {
  size_t bytes = 64 + context.size();
  for (const Entry& entry : entries) bytes += entry.size_bytes();
  if (snapshot) bytes += snapshot->data.size();
  return bytes;
}

std::string Message::describe() const {
  std::ostringstream out;
  out << message_type_name(type) << ' ' << from << "->" << to << " term=" << term;
  switch (type) {
    case MessageType::kAppend:
      out << " prev=" << index << '/' << log_term << " commit=" << commit << " entries=" << entries.size();
      break;
    case MessageType::kAppendResponse:
      out << " index=" << index << (reject ? " reject hint=" : "");
      if (reject) out << hint_index << '/' << hint_term;
      break;
    case MessageType::kPreVote:
    case MessageType::kVote: out << " last=" << index << '/' << log_term; break;
    case MessageType::kPreVoteResponse:
    case MessageType::kVoteResponse: out << (reject ? " reject" : " grant"); break;
    case MessageType::kHeartbeat: out << " commit=" << commit; break;
    case MessageType::kSnapshot:
      if (snapshot) out << " snapshot=" << snapshot->meta.index << '/' << snapshot->meta.term;
      break;
    case MessageType::kReadIndexResponse: out << " index=" << index << (reject ? " reject" : ""); break;
    case MessageType::kPropose: out << " entries=" << entries.size(); break;
    default: break;
  }
  return out.str();
}

}  // namespace synod
