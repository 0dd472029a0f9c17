// Configuration of one Multi-Paxos core (paxos/multi_paxos.h). Validated once at construction, never later.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "base/status.h"
#include "consensus/types.h"

namespace synod::paxos {

#if SYNOD_BUG_INJECTION
// Deliberate protocol bugs, compiled only into test builds, to prove the checkers catch them.
struct MultiPaxosBugs {
  bool accept_below_promise = false;     // an acceptor takes accepts from ballots it promised to ignore
  bool ignore_highest_accepted = false;  // a new leader keeps the lowest-ballot value a promise reports
  bool skip_hole_filling = false;        // a new leader leaves slots nobody accepted empty
};
#endif

struct MultiPaxosConfig {
  NodeId id = kNoNode;
  // Voters of the cluster when it starts from nothing. A restarted node takes them from its snapshot.
  // Ids must be below 2^16: a ballot is one number, round * 2^16 + node (paxos/multi_ballot.h).
  std::vector<NodeId> voters;

  // A follower that hears nothing from a leader for a randomized [election_tick, 2 * election_tick)
  // ticks runs phase 1. The leader sends a heartbeat every heartbeat_tick ticks.
  int election_tick = 10;
  int heartbeat_tick = 1;
  // A leader that has not heard from a quorum for an election timeout steps down, and an acceptor that
  // heard from a leader within one promises nothing to another proposer (unless the leader hands over):
  // a node cut off for a while would otherwise depose a working leader with its higher ballots each
  // time it comes back. As Raft's check_quorum.
  bool check_quorum = true;
  // Ask a majority whether it would promise before raising the promise (kPreVote), as Raft's pre-vote:
  // a node back from a partition then does not depose a working leader.
  bool pre_vote = true;
  // Lease reads: the leader answers reads at its chosen prefix without a heartbeat round while a
  // majority took its heartbeats within the last election timeout (less a tick). Sound because such an
  // acceptor promises no other ballot for an election timeout (check_quorum), and a restarted one
  // waits that long too; it assumes every node's ticks advance at the same rate. Leader transfer ends
  // the lease. Needs check_quorum.
  bool lease_reads = false;

  // An acceptor accepts slots up to this far past its chosen prefix, so a lost accept does not stall
  // the slots behind it, while a peer cannot make it allocate without bound.
  Index accept_window = 1U << 16U;
  size_t max_bytes_per_message = 1U << 20U;      // entries per Accept message (at least one)
  size_t max_entry_bytes = size_t{1536} * 1024;  // one proposal
  size_t max_uncommitted_bytes = 64U << 20U;     // proposals accepted by the leader but not yet chosen
  size_t max_entries_per_message = 65536;        // a peer sending more is malformed
  // Flow control (consensus/progress.h): Accept messages sent to a follower and not yet answered. A
  // follower that goes silent is sent this much and then only heartbeats until it answers again.
  size_t max_inflight_messages = 256;
  size_t max_inflight_bytes = 32U << 20U;

  uint64_t seed = 1;  // the only source of randomness (election timeouts)

#if SYNOD_BUG_INJECTION
  MultiPaxosBugs bugs;
#endif

  Status validate() const;
};

}  // namespace synod::paxos
