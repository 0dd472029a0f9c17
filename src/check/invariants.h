// InvariantChecker: watches a cluster and checks Raft's safety properties (paper, Figure 3) after every
// event, through the engine-neutral Engine interface only, so every engine is held to them:
//
//   election safety ........ at most one leader per term, over the whole run
//   log matching ........... two logs holding an entry with the same index and term hold the same
//                            entry there and the same entries before it
//   leader completeness .... a leader's log holds every entry committed in an earlier term (unless it
//                            compacted it into a snapshot)
//   state machine safety ... no two nodes apply different entries at the same index
//   monotonic state ........ a node's term never goes back, even across restarts; its commit index never
//                            goes back while it runs (a restart may lose it: Raft keeps it volatile, and
//                            Synod writes a commit-only change without an fsync, as etcd does)
//                            (the cluster persists each Ready before acting on it)
//
// A violation is recorded with the recent events that led to it; the first one is kept.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <utility>

#include "consensus/types.h"
#include "sim/cluster_view.h"

namespace synod::check {

// Which engine's logs the checker reads. Multi-Paxos keeps Raft's safety properties but not its log
// shape: an acceptor may hold slot s at ballot b without the leader's slots before it (or with older
// ballots there), and a leader re-proposes recovered values at its own ballot. So for kMultiPaxos,
// "log matching" becomes "one value per (slot, ballot)" with no claim about prefixes or term order, and
// chosen slots and leader completeness compare values (type and data), not the ballot they carry.
enum class Protocol : uint8_t { kRaft, kMultiPaxos };

class InvariantChecker final : public sim::ClusterObserver {
 public:
  explicit InvariantChecker(size_t trace_events = 40, Protocol protocol = Protocol::kRaft)
      : trace_limit_(trace_events), protocol_(protocol) {}

  void on_attach(const sim::ClusterView& cluster) override;
  void on_applied(NodeId node, Index index, uint64_t chain_hash) override;
  void on_event(const sim::ClusterView& cluster, NodeId subject, const std::string& what) override;

  // Checks every node, not just the last event's subject (for the end of a run).
  void check_all(const sim::ClusterView& cluster);

  std::string failure() const override { return violation_; }
  bool ok() const { return violation_.empty(); }
  // The first violation with the events that led to it; empty if none.
  const std::string& violation() const { return violation_; }
  uint64_t checks() const { return checks_; }

 private:
  struct EntryFacts {
    uint64_t content_hash = 0;
    Term previous_term = 0;
  };
  struct NodeFacts {
    Term term = 0;
    Index commit = 0;
    uint64_t commit_incarnation = 0;  // the incarnation `commit` was seen in
    // What the last full check saw: if none of it changed, the log needs no new scan.
    uint64_t incarnation = 0;
    uint64_t log_version = 0;
    Index scanned_commit = 0;
    size_t committed_known = 0;
    bool scanned = false;
  };

  void check_node(const sim::ClusterView& cluster, NodeId id);
  void check_leader_completeness(const sim::ClusterView& cluster, NodeId id);
  void fail(const std::string& what);

  std::map<Term, NodeId> leaders_;
  std::map<std::pair<Index, Term>, EntryFacts> entries_;
  struct CommittedFacts {
    Term term = 0;
    uint64_t content_hash = 0;
    // The term of the node that first reported it committed: at least the term it was committed in.
    Term commit_term = 0;
  };
  std::map<Index, CommittedFacts> committed_;
  std::map<Index, uint64_t> applied_;  // index -> chain hash
  std::map<NodeId, NodeFacts> nodes_;
  std::deque<std::string> trace_;
  size_t trace_limit_;
  Protocol protocol_;
  std::string violation_;
  uint64_t checks_ = 0;
};

uint64_t entry_content_hash(const Entry& entry);

}  // namespace synod::check
