// PaxosCluster: single-decree Paxos nodes (paxos/single_decree.h) on an in-memory network that its
// driver controls: messages are delivered in any order, dropped, duplicated or cut by a partition, and
// nodes crash and restart from exactly what they persisted. Safety is checked after every step: every
// value any node learned is the same, and so is every value a majority of acceptors accepted at one
// ballot (chosen, whether anyone has learned it yet or not). The tests and synod-paxos-demo drive it.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "base/random.h"
#include "paxos/single_decree.h"

namespace synod::sim {

class PaxosCluster {
 public:
  // Nodes 1..nodes, each configured from `base` (id, nodes and seed filled in). `timeline`, if set,
  // gets one line per event.
  PaxosCluster(int nodes, uint64_t seed, paxos::SingleDecreeConfig base = {},
               std::ostream* timeline = nullptr);

  // A copy that goes on exactly as this one would, without the timeline (the model checker branches on
  // it).
  std::unique_ptr<PaxosCluster> clone() const;
  // The canonical form of everything but time and randomness: each node (up or down, its core, what it
  // persisted), the messages in flight as a multiset, and the record of acceptances, learned and chosen
  // values the safety checks keep (consensus/state_encoder.h).
  void encode_state(StateEncoder& out) const;

  paxos::SingleDecree& node(NodeId id) { return *nodes_.at(id); }
  const paxos::SingleDecree& node(NodeId id) const { return *nodes_.at(id); }
  const std::vector<NodeId>& ids() const { return ids_; }
  const std::vector<paxos::Message>& network() const { return network_; }
  Random& random() { return random_; }
  uint64_t now() const { return now_; }

  void propose(NodeId id, const std::string& value);
  void tick(NodeId id);
  void tick_all();  // one unit of virtual time: every running node ticks
  // The message at `position` in flight: delivered (unless its receiver is down or cut off), dropped,
  // or copied to the end of the network.
  void deliver(size_t position);
  void deliver_all(size_t limit = 100000);
  void drop(size_t position);
  void duplicate(size_t position);

  // Messages between the two sides are lost when delivered.
  void partition(std::set<NodeId> side);
  void heal();
  void crash(NodeId id);
  void restart(NodeId id);  // from what the node persisted, with a new seed
  bool crashed(NodeId id) const { return crashed_.count(id) > 0; }
  // With this chance (percent) per Ready, a node crashes after persisting it and before sending any of
  // its messages: the window the Ready contract leaves open. It stays down until restart().
  void set_crash_before_send(int percent) { crash_before_send_percent_ = percent; }

  const std::optional<std::string>& learned() const { return learned_; }
  const std::optional<std::string>& chosen() const { return chosen_; }
  bool everyone_learned() const;
  // Set when two values were learned or chosen, or an honest node refused a message: a violation.
  const std::optional<std::string>& violation() const { return violation_; }

 private:
  PaxosCluster(const PaxosCluster& other);
  bool cut(NodeId a, NodeId b) const;
  void start(NodeId id);
  void handle_ready(NodeId id);
  void record_acceptance(NodeId id, const paxos::AcceptorState& state);
  void check_one(std::optional<std::string>& slot, const std::string& value, const char* what);
  void note(const std::string& line);

  Random random_;
  paxos::SingleDecreeConfig base_;
  std::ostream* timeline_;
  uint64_t now_ = 0;
  std::vector<NodeId> ids_;
  std::map<NodeId, std::unique_ptr<paxos::SingleDecree>> nodes_;
  std::map<NodeId, paxos::SingleDecreeDurable> durable_;
  std::vector<paxos::Message> network_;
  std::set<NodeId> side_;
  std::set<NodeId> crashed_;
  std::map<paxos::Ballot, std::set<NodeId>> accepted_;  // who accepted at each ballot (one value each)
  std::optional<std::string> learned_;
  std::optional<std::string> chosen_;
  std::optional<std::string> violation_;
  int crash_before_send_percent_ = 0;
};

struct PaxosFaults {
  int drop_percent = 0;       // of deliveries
  int duplicate_percent = 0;  // of deliveries
  int crash_percent = 0;      // per tick, per running node (a crashed node restarts after a few ticks)
};

// Nodes 1..`nodes`, the first `proposers` of them proposing different values at once, under `faults`
// for `fault_ticks` ticks; then the faults stop and the run goes on until every node learned the
// decision (or `max_ticks` pass). What the demo and its test run.
struct PaxosRunReport {
  std::optional<std::string> decided;  // the one value learned, if any
  bool everyone_learned = false;
  std::optional<std::string> violation;
  uint64_t ticks = 0;
  uint64_t messages = 0;
};
PaxosRunReport run_paxos(int nodes, int proposers, PaxosFaults faults, uint64_t seed, std::ostream* timeline,
                         uint64_t fault_ticks = 30, uint64_t max_ticks = 2000);

}  // namespace synod::sim
