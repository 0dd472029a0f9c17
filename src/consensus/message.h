// The messages engines exchange. One flat struct for every type keeps codecs, the simulator and the
// model checker simple; which fields carry meaning for each type is listed below and enforced by the
// receiving engine's validation, never assumed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "consensus/types.h"

namespace synod {

enum class MessageType : uint8_t {
  kPreVote,            // index/log_term: candidate's last entry; term: the term it would campaign in
  kPreVoteResponse,    // reject
  kVote,               // index/log_term: candidate's last entry; context "transfer" skips the lease check
  kVoteResponse,       // reject
  kAppend,             // index/log_term: entry preceding `entries`; commit: leader's commit
  kAppendResponse,     // index: last matching index, or on reject the rejected index; hint_*: backtrack
  kHeartbeat,          // commit: min(leader commit, follower match); context: read-index round
  kHeartbeatResponse,  // context echoes the heartbeat's
  kSnapshot,           // snapshot: the leader's snapshot
  kTimeoutNow,         // leader transfer: campaign now, skipping pre-vote
  kReadIndex,          // follower -> leader: context identifies the request
  kReadIndexResponse,  // leader -> follower: index is the read index (reject if the leader can't serve)
  kPropose,            // follower -> leader: entries holds the forwarded proposal
  // Multi-Paxos (paxos/multi_paxos.h); term is a ballot. It also uses kHeartbeat(Response), kSnapshot,
  // kTimeoutNow, kReadIndex(Response) and kPropose as above.
  kPrepare,   // phase 1a: index is the first slot asked about; context "transfer" as for kVote
  kPromise,   // phase 1b: entries accepted from that slot on, commit; reject: term is the higher promise
  kAccept,    // phase 2a: entries (slots in order), commit: the leader's chosen prefix
  kAccepted,  // phase 2b: index: slots held at this ballot end here; hint_index: last slot taken; commit
};
inline constexpr int kMessageTypeCount = 17;
const char* message_type_name(MessageType type);

struct Message {
  MessageType type = MessageType::kAppend;
  NodeId from = kNoNode;
  NodeId to = kNoNode;
  Term term = 0;
  Term log_term = 0;
  Index index = 0;
  Index commit = 0;
  bool reject = false;
  Index hint_index = 0;  // on kAppendResponse reject: first index of hint_term in the follower's log,
  Term hint_term = 0;    // or (when hint_term is 0) the follower's last index + 1
  std::vector<Entry> entries;
  SnapshotPtr snapshot;
  std::string context;

  // Bytes the message costs on the wire, approximately; used for batching and limits.
  size_t size_bytes() const;
  std::string describe() const;
};

}  // namespace synod
