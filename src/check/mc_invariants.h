// The model checker's invariants (check/model_checker.h), decided in each state it reaches from the
// state itself plus a little history kept alongside it (McGhost, part of the state's fingerprint):
//
//   election safety ........ at most one leader per term (ballot), over the whole path
//   log matching ........... Raft: two logs with an entry of the same index and term hold the same
//                            entries up to there. Multi-Paxos: one value per (slot, ballot)
//   leader completeness .... a leader holds every entry chosen before its term began (by value for
//                            Multi-Paxos), unless compacted into its snapshot
//   state machine safety ... every node's committed prefix agrees with what was ever chosen: at most one
//                            value per slot, and a chosen value never changes
//   monotonic state ........ a node's term never goes back (even across a restart); its commit index
//                            never goes back while it runs
//   hole filling ........... Multi-Paxos: a leader holds a value for every slot up to its last one
//   linearizable reads ..... a read is answered at an index at or past everything chosen when it was
//                            asked
//
// Unlike check::InvariantChecker (which watches one long run event by event), everything here that
// depends on the past is in McGhost, so that two paths to the same state with the same ghost are the
// same state.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "check/mc_trace.h"
#include "consensus/state_encoder.h"
#include "sim/cluster.h"

namespace synod::check {

struct McGhost {
  struct Chosen {
    Term term = 0;         // Raft: the entry's term (Multi-Paxos compares values only)
    uint64_t value = 0;    // hash of the entry's type and data
    Term commit_term = 0;  // the term of the node that first held it committed: at least the one it
                           // was committed in
  };
  struct PendingRead {
    NodeId node = kNoNode;
    Index at_least = 0;  // the highest index chosen when it was asked
  };
  std::map<Term, NodeId> leaders;
  std::map<Index, Chosen> chosen;
  std::map<std::string, PendingRead> reads;

  void encode(StateEncoder& out) const;
};

// A node's term and commit before a step, for the checks on transitions.
struct McNodeBefore {
  bool up = false;
  Term term = 0;
  Index commit = 0;
  uint64_t incarnation = 0;
};
std::vector<McNodeBefore> snapshot_nodes(const sim::Cluster& cluster);

// Checks `cluster` after `step` (taken from a state whose nodes were `before`) and brings `ghost` up to
// date: records leaders and chosen entries, registers the read a read step asked, and takes the
// answered reads out of the nodes' read states. Returns the first violation, or an empty string.
std::string check_state(McEngine engine, sim::Cluster& cluster, McGhost& ghost,
                        const std::vector<McNodeBefore>& before, const McStep* step);

}  // namespace synod::check
