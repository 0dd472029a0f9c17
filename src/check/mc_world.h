// McWorld: what the model checker (check/model_checker.h) explores, behind one interface, so that the
// same search, fingerprints and replay serve every core:
//   - the Engine cores (Raft, Multi-Paxos) on a sim::Cluster, checked by check/mc_invariants.h;
//   - single-decree Paxos (paxos/single_decree.h) on a sim::PaxosCluster, which checks its own safety
//     (one value chosen, and every value learned is the one chosen).
// A world is one state: the nodes, the messages in flight, the history its invariants need (ghost),
// and the budgets spent on the path that reached it. Taking a step changes it in place; the checker
// branches by cloning.
#pragma once

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "check/mc_trace.h"
#include "consensus/state_encoder.h"

namespace synod::check {

struct McBounds {
  uint64_t max_term = 3;  // Raft term, or Paxos ballot round
  Index max_log = 3;      // entries (slots) in any node's log
  size_t max_in_flight = 6;
  uint32_t proposals = 2;
  uint32_t restarts = 1;
  uint32_t duplicates = 1;
  uint32_t reads = 0;
  uint32_t max_ticks = 12;  // time mode global: clock ticks on a path
};

// The budgets spent on a path (part of the state: two paths meet only with the same budgets left).
struct McSpent {
  uint32_t proposals = 0;
  uint32_t restarts = 0;
  uint32_t duplicates = 0;
  uint32_t reads = 0;
  uint32_t ticks = 0;

  void spend(const McStep& step);
  void encode(StateEncoder& out) const;
};

class McWorld {
 public:
  virtual ~McWorld() = default;

  virtual std::unique_ptr<McWorld> clone() const = 0;
  const std::vector<NodeId>& ids() const { return ids_; }
  const McSpent& spent() const { return spent_; }

  // Checks the initial state. Returns the first violation, or an empty string.
  virtual std::string check_initial() = 0;
  // Every step that can be taken from here within the budgets of `bounds`.
  virtual std::vector<McStep> steps(const McBounds& bounds) const = 0;
  // Takes `step` and checks the state it leads to. Returns false if the step does not apply here (the
  // world is then unchanged); `violation` is set to the first invariant broken, if any.
  bool take(const McStep& step, std::string& violation);
  // Whether a bound on the state itself (term or round, log length, messages in flight) is passed.
  virtual bool past_bounds(const McBounds& bounds) const = 0;

  // Whether node ids are interchangeable (a renaming of ids maps behaviours onto behaviours), so that
  // the checker may merge states that differ by one.
  virtual bool symmetric() const = 0;
  // One node's part of the state, ids written through `out`'s renaming.
  virtual void encode_node(NodeId id, StateEncoder& out) const = 0;
  // The whole state, canonical: nodes in renamed order, the network as a sorted multiset, the ghost and
  // the budgets spent.
  virtual void encode(StateEncoder& out) const = 0;

  // For a replayed trace: every node's state, and the message a step names.
  virtual std::string describe() const = 0;
  virtual std::string describe_step(const McStep& step) const = 0;
  // A second, independent checker watching the replay (the simulator's InvariantChecker); its verdict.
  virtual void attach_second_opinion() {}
  virtual std::string second_opinion() { return {}; }

 protected:
  explicit McWorld(size_t nodes);  // nodes 1..nodes

  // Deliver, drop and (while the budget lasts) duplicate, once for each distinct message in `network`:
  // identical messages in flight lead to the same states. `encode(message, encoder)` writes one.
  template <typename Network, typename Encode>
  void add_message_steps(const Network& network, Encode&& encode, const McBounds& bounds,
                         std::vector<McStep>& out) const {
    std::set<std::string> seen;
    for (size_t p = 0; p < network.size(); ++p) {
      StateEncoder one;
      encode(network[p], one);
      if (!seen.insert(one.take()).second) continue;
      auto position = static_cast<uint32_t>(p);
      out.push_back({McStep::Kind::kDeliver, position, 0});
      out.push_back({McStep::Kind::kDrop, position, 0});
      if (spent_.duplicates < bounds.duplicates) out.push_back({McStep::Kind::kDuplicate, position, 0});
    }
  }
  // What the message a deliver, drop or duplicate step names is ("" for other steps).
  template <typename Network>
  static std::string describe_message_step(const Network& network, const McStep& step) {
    bool names_message = step.kind == McStep::Kind::kDeliver || step.kind == McStep::Kind::kDrop ||
                         step.kind == McStep::Kind::kDuplicate;
    if (!names_message || step.arg >= network.size()) return {};
    return network[step.arg].describe();
  }

  McWorld(const McWorld&) = default;
  virtual bool apply(const McStep& step, std::string& violation) = 0;

 private:
  std::vector<NodeId> ids_;
  McSpent spent_;
};

// The world `setup` describes, in its initial state.
std::unique_ptr<McWorld> make_world(const McSetup& setup);
std::unique_ptr<McWorld> make_engine_world(const McSetup& setup);
std::unique_ptr<McWorld> make_single_decree_world(const McSetup& setup);

}  // namespace synod::check
