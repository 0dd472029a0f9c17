// ClusterView and ClusterObserver: what a checker needs from any harness that runs a set of engines
// (the in-memory Cluster driven by hand, the Simulator driven by a seed), so the same invariant
// checker watches both.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "consensus/engine.h"
#include "consensus/types.h"

namespace synod::sim {

class ClusterView {
 public:
  virtual ~ClusterView() = default;
  virtual const std::vector<NodeId>& ids() const = 0;
  virtual bool is_up(NodeId id) const = 0;
  // Counts the node's starts: a restart makes a new engine whose state must be checked afresh.
  virtual uint64_t incarnation(NodeId id) const = 0;
  // Only for a node that is up.
  virtual const Engine& engine(NodeId id) const = 0;
};

// Sees everything that happens, to check invariants as it happens.
class ClusterObserver {
 public:
  virtual ~ClusterObserver() = default;
  // The observer starts watching `cluster` (a fresh run: forget what earlier clusters did).
  virtual void on_attach(const ClusterView& cluster) = 0;
  // `node` applied the entry at `index`; `chain_hash` covers everything it applied up to there.
  virtual void on_applied(NodeId node, Index index, uint64_t chain_hash) = 0;
  // An input was handled (and its Ready with it). `subject` is the node whose state it may have
  // changed, or kNoNode for a change of the network only.
  virtual void on_event(const ClusterView& cluster, NodeId subject, const std::string& what) = 0;
  // The first broken invariant the observer saw, with context; empty while all is well.
  virtual std::string failure() const { return {}; }
};

// The up node that leads in the highest term any up node has reached, if there is one. A deposed
// leader that has not heard of the newer term yet does not count.
std::optional<NodeId> current_leader(const ClusterView& cluster);

}  // namespace synod::sim
