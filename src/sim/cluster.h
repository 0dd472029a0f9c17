// Cluster: a small deterministic in-memory cluster of engines for tests, the demo and benchmarks.
// The test drives everything by hand: who ticks, which message is delivered, dropped or duplicated,
// which links are cut, who crashes and restarts. After every input the node's Ready is handled at once
// in the contract's order (persist, send, apply, advance), so a crash loses only what a real node
// would: state that was never handed out in a Ready.
//
// It is the seed of the simulator (issue 4), which adds virtual time, latencies and seeded fault
// schedules on top of the same pieces (DurableStore, KvStateMachine, the Engine interface).
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/random.h"
#include "base/status.h"
#include "consensus/engine.h"
#include "sim/cluster_view.h"
#include "sim/durable_store.h"
#include "sim/sim_node.h"
#include "sim/state_machine.h"

namespace synod::sim {

class Cluster final : public ClusterView {
 public:
  Cluster(std::vector<NodeId> ids, EngineFactory factory, uint64_t seed);
  ~Cluster();
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;
  // A deep copy of every node and message in flight, without the observer: the model checker's
  // branching point. The copy behaves exactly as the original would from here.
  std::unique_ptr<Cluster> clone() const;

  const std::vector<NodeId>& ids() const override { return ids_; }
  bool is_up(NodeId id) const override;
  // How many times the node was started (1 until its first restart).
  uint64_t incarnation(NodeId id) const override;
  Engine& engine(NodeId id);
  const Engine& engine(NodeId id) const override;
  const KvStateMachine& state_machine(NodeId id) const;
  const DurableStore& store(NodeId id) const;
  std::vector<ReadState>& read_states(NodeId id);

  void set_observer(ClusterObserver* observer);
  uint64_t events() const { return events_; }

  // Inputs. Each is followed by handling the node's Ready.
  void tick(NodeId id);
  void tick_all();
  Result<Proposal> propose(NodeId id, std::string data);
  Status read_index(NodeId id, std::string context);
  Status transfer_leader(NodeId leader, NodeId to);
  // The node snapshots its state machine at its applied index and compacts its log.
  Status compact(NodeId id);

  // The network: messages sent and not yet delivered, in send order.
  const std::deque<Message>& in_flight() const { return in_flight_; }
  // Delivers the message at `position`. Returns the receiver's answer, or an error if the link is cut
  // or the receiver is down (the message is lost either way).
  Status deliver(size_t position);
  void drop(size_t position);
  void duplicate(size_t position);
  // Delivers in send order until nothing is in flight (or `max_messages`). Returns how many.
  size_t deliver_all(size_t max_messages = 1000000);

  // Partitions. A cut link loses messages both when sent and when delivered.
  void partition(const std::vector<std::vector<NodeId>>& groups);
  void cut(NodeId from, NodeId to);  // one way
  void isolate(NodeId id);
  void heal();
  bool link_up(NodeId from, NodeId to) const;

  // Node faults: a crash keeps only the DurableStore; restart rebuilds the engine from it.
  void crash(NodeId id);
  void restart(NodeId id);

  // The up node that leads in the highest term any up node has reached, if there is one.
  std::optional<NodeId> leader() const;
  // Rounds of (tick every up node, deliver everything) until `done` or `max_rounds`.
  bool run_until(const std::function<bool()>& done, int max_rounds);
  // Ticks only `id` until it starts campaigning, then delivers everything. Returns the leader after.
  std::optional<NodeId> campaign(NodeId id, int max_ticks = 1000);

  std::string describe() const;
  std::string describe_log(NodeId id) const;

 private:
  struct CloneTag {};
  Cluster(const Cluster& other, CloneTag);

  SimNode& node(NodeId id);
  const SimNode& node(NodeId id) const;
  void handle_ready(SimNode& node);
  void start(SimNode& node);
  void notify(NodeId subject, const std::string& what);

  std::vector<NodeId> ids_;
  EngineFactory factory_;
  Random random_;
  std::map<NodeId, std::unique_ptr<SimNode>> nodes_;
  std::deque<Message> in_flight_;
  std::set<std::pair<NodeId, NodeId>> cut_links_;
  ClusterObserver* observer_ = nullptr;
  uint64_t events_ = 0;
};

}  // namespace synod::sim
