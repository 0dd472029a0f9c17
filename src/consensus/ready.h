// Ready: everything a consensus core asks of the world after some input. The caller handles a Ready in
// this order, then calls advance():
//
//   1. Persist `snapshot` (if set; it replaces every stored entry), then `entries` (replacing any
//      stored entries at or after the first one's index: a new leader may overwrite an unacknowledged
//      suffix), then `hard_state` (if set).
//      All three must be durable (fsync) before step 2 sends anything that depends on them.
//   2. Send `messages`. A message whose `may_send_before_persist()` holds (a leader's replication
//      traffic) may be sent before or while step 1 runs: the leader counts its own log towards a commit
//      only after advance() says it is durable (Raft thesis, section 10.2.1).
//   3. Apply `committed` to the state machine, in order. If `snapshot` is set, first restore the state
//      machine from it.
//   4. Serve `read_states`: a read with context C may be answered once the state machine has applied
//      index >= read_state.index.
//   5. Call advance().
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "consensus/message.h"
#include "consensus/types.h"

namespace synod {

// A linearizable read has become safe at `index` (ReadIndex, Raft thesis section 6.4).
struct ReadState {
  Index index = 0;
  std::string context;
  bool operator==(const ReadState&) const = default;
};

// Volatile state worth reporting when it changes: who leads, and what this node is.
struct SoftState {
  NodeId leader = kNoNode;
  Role role = Role::kFollower;
  bool operator==(const SoftState&) const = default;
};

struct Ready {
  std::optional<SoftState> soft_state;
  std::optional<HardState> hard_state;
  SnapshotPtr snapshot;
  std::vector<Entry> entries;
  std::vector<Message> messages;
  std::vector<Entry> committed;
  std::vector<ReadState> read_states;

  bool empty() const {
    return !soft_state && !hard_state && !snapshot && entries.empty() && messages.empty() &&
           committed.empty() && read_states.empty();
  }
};

// A leader's replication messages need not wait for its own fsync: see step 2 above.
inline bool may_send_before_persist(const Message& message) {
  return message.type == MessageType::kAppend || message.type == MessageType::kHeartbeat ||
         message.type == MessageType::kSnapshot || message.type == MessageType::kAccept;
}

}  // namespace synod
