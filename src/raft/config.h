// Configuration of one Raft core. Validated once at construction (Raft::create), never later.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "base/status.h"
#include "consensus/types.h"

namespace synod::raft {

enum class ReadOnlyOption : uint8_t {
  // ReadIndex: the leader confirms it still leads with one heartbeat round before answering (Raft thesis,
  // section 6.4). Safe whatever the clocks do.
  kSafe,
  // Lease: the leader answers from its commit index without a round trip while its lease holds, and
  // falls back to kSafe when it does not. The lease runs from the send time of the heartbeats a quorum
  // acknowledged until one election timeout (less a tick) later, because a follower that took such a
  // heartbeat grants no vote for an election timeout (check-quorum's leader stickiness), and a
  // restarted node waits an election timeout before voting. This assumes every node's ticks advance at
  // the same rate: a follower whose clock runs faster than the leader's by more than one tick per
  // election timeout can elect a new leader while the old one still serves lease reads. Leader
  // transfer ends the lease. Only allowed with check-quorum on, and every member must use the same
  // option.
  kLeaseBased,
};

#if SYNOD_BUG_INJECTION
// Deliberate protocol bugs, compiled only into test builds, to prove the checkers catch them.
struct InjectedBugs {
  bool commit_old_term_by_counting = false;  // ignore the Figure 8 rule: commit any replicated entry
  bool grant_two_votes_per_term = false;     // forget the vote already cast this term
  bool skip_up_to_date_check = false;        // vote for candidates with stale logs
  bool read_without_quorum_check = false;    // answer ReadIndex without confirming leadership
  bool unbounded_lease = false;              // lease reads for as long as it believes it leads
};
#endif

struct Config {
  NodeId id = kNoNode;
  // Voters of the cluster when it starts from nothing. A restarted node takes them from its snapshot.
  std::vector<NodeId> voters;

  // Followers start an election after a randomized timeout in [election_tick, 2 * election_tick).
  int election_tick = 10;
  // The leader sends heartbeats every heartbeat_tick ticks. Must be < election_tick.
  int heartbeat_tick = 1;

  bool pre_vote = true;      // thesis 9.6: don't disrupt a working leader from a partitioned node
  bool check_quorum = true;  // leaders step down without a quorum; followers ignore votes while led

  ReadOnlyOption read_only = ReadOnlyOption::kSafe;
  bool forward_proposals = true;  // followers pass proposals on to the leader they know

  // Replication flow control.
  size_t max_bytes_per_message = 1U << 20U;  // entries per Append message, at least one entry
  size_t max_inflight_messages = 256;        // unacknowledged Append messages per follower
  size_t max_inflight_bytes = 32U << 20U;    // bytes in those messages per follower

  // Input limits: anything larger is refused with a clear error.
  size_t max_entry_bytes = size_t{1536} * 1024;  // one proposal (etcd's default request limit is 1.5 MiB)
  size_t max_uncommitted_bytes = 64U << 20U;     // proposals appended but not yet committed
  size_t max_entries_per_message = 65536;        // a peer sending more is malformed

  uint64_t seed = 1;  // the only source of randomness (election timeouts)

#if SYNOD_BUG_INJECTION
  InjectedBugs bugs;
#endif

  Status validate() const;
};

}  // namespace synod::raft
