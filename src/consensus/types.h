// Engine-neutral vocabulary shared by every consensus engine, the node loop, the simulator and the
// checkers: identifiers, log entries, durable state and snapshots.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace synod {

// A node's identity within its cluster. 0 means "nobody" (no vote cast, no leader known); ids are never
// reused for a different member.
using NodeId = uint64_t;
inline constexpr NodeId kNoNode = 0;

// Terms (Raft) or ballot rounds (Paxos): logical epochs that only grow.
using Term = uint64_t;

// Position in the replicated log, starting at 1. Index 0 is the empty prefix.
using Index = uint64_t;

enum class EntryType : uint8_t {
  kNormal = 0,  // an application command
  kNoop = 1,    // appended by a new leader to commit entries of earlier terms (Raft paper, section 5.4.2)
  // A Multi-Paxos slot its acceptor has accepted nothing for yet, holding the place of a slot accepted
  // out of order after it (paxos/slot_log.h). Only ever on a node's own disk: never sent, never applied.
  kVacant = 2,
};

struct Entry {
  Term term = 0;
  Index index = 0;
  EntryType type = EntryType::kNormal;
  std::string data;

  // Bytes this entry costs in a message or on disk, used for batching and size limits.
  size_t size_bytes() const { return data.size() + 24; }
  bool operator==(const Entry&) const = default;
};

// The cluster configuration: which nodes vote. Learners and joint configurations arrive with membership
// changes; this is the seam they extend.
struct ConfState {
  std::vector<NodeId> voters;
  bool operator==(const ConfState&) const = default;
};

// What a node must keep on stable storage to rejoin safely after a crash.
struct HardState {
  Term term = 0;
  NodeId vote = kNoNode;
  Index commit = 0;  // optional for safety (it can be relearned), kept to speed up restart
  bool operator==(const HardState&) const = default;
};

struct SnapshotMeta {
  Index index = 0;  // the last entry the snapshot covers
  Term term = 0;    // that entry's term
  ConfState conf;
  bool operator==(const SnapshotMeta&) const = default;
};

// An application snapshot: the state machine after applying entries 1..meta.index. Shared immutably
// because a leader may hold it while sending it to several followers.
//
// A store's snapshot can be as large as the store itself, so once it is durable the node may ask the
// engine to let its bytes go (Engine::release_snapshot_data): the engine then holds a `detached` copy,
// meta only, and a message that carries it is refilled from Storage::reload_snapshot before it is sent.
struct Snapshot {
  SnapshotMeta meta;
  std::string data;
  bool detached = false;  // data is empty and lives only in storage
  bool empty() const { return meta.index == 0; }
  bool operator==(const Snapshot&) const = default;
};
using SnapshotPtr = std::shared_ptr<const Snapshot>;

// Everything a node had made durable; a core restarted from it behaves as the node did before the crash.
struct DurableState {
  HardState hard_state;
  SnapshotPtr snapshot;        // may be null (no snapshot yet)
  std::vector<Entry> entries;  // contiguous, starting right after the snapshot (or at 1)
};

enum class Role : uint8_t { kFollower, kPreCandidate, kCandidate, kLeader };
const char* role_name(Role role);

}  // namespace synod
