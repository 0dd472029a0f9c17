// Simulator: runs N nodes of any Engine in virtual time, with every choice (latencies, drops,
// duplicates, partitions, crashes, pauses, clock skew, proposal timing, election timeouts) drawn from
// one 64-bit seed, so the same seed on the same build replays byte for byte (trace_hash proves it).
//
// A run has two phases (as TigerBeetle's VOPR does):
//   safety:   faults are injected for `fault_duration_us`; invariants are checked after every event;
//   liveness: every fault is healed, every node is up and unpaused, and the cluster must elect a leader,
//             commit a fresh proposal and bring every node to it within `liveness_duration_us`.
//
// Fault model. Network: each message takes a latency drawn uniformly from [min, max] (1 in 100 takes
// up to 10x max), so messages reorder; with `drop` some are lost, with `dup` some arrive twice.
// Partitions: a random split, a one-way cut, or a bridge (one node reaches both sides, the seed's "A
// reaches B but not C, D, E"); messages crossing a cut are lost. Nodes: crash (the engine and
// everything not in its DurableStore is lost) and restart later; pause (nothing runs; messages wait
// until it resumes); clock skew (each node's ticks run up to 20% fast or slow). Time is in virtual
// microseconds.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <set>
#include <string>
#include <vector>

#include "base/random.h"
#include "base/status.h"
#include "sim/cluster_view.h"
#include "sim/sim_node.h"

namespace synod::sim {

struct FaultMix {
  bool partitions = false;
  bool crashes = false;
  bool pauses = false;
  bool clock_skew = false;
  bool drops = false;
  bool duplicates = false;

  // Parses "partition,crash,pause,skew,drop,dup" (any subset; "none" for no faults).
  static Result<FaultMix> parse(const std::string& text);
  std::string to_string() const;
};

struct SimulatorOptions {
  size_t nodes = 5;
  uint64_t seed = 1;
  FaultMix faults;
  uint64_t tick_us = 10'000;  // one engine tick; election timeouts are counted in ticks
  uint64_t latency_min_us = 200;
  uint64_t latency_max_us = 5'000;
  uint32_t drop_per_million = 20'000;       // with drops on
  uint32_t duplicate_per_million = 20'000;  // with duplicates on
  uint64_t mean_fault_interval_us = 400'000;
  uint64_t proposal_interval_us = 20'000;  // a proposal at a random node this often, on average
  uint64_t fault_duration_us = 20'000'000;
  uint64_t liveness_duration_us = 30'000'000;
  bool keep_trace = false;  // keep every trace line (for --trace), not only the last ones
};

struct SimulatorResult {
  bool safe = true;
  bool live = true;
  std::string violation;  // what broke, with the last events
  uint64_t events = 0;
  uint64_t violation_event = 0;
  uint64_t trace_hash = 0;  // over every trace line, in order
  uint64_t committed = 0;   // highest commit index reached
  uint64_t leaders = 0;     // distinct (term, leader) pairs seen
  uint64_t virtual_time_us = 0;
};

class Simulator final : public ClusterView {
 public:
  Simulator(SimulatorOptions options, EngineFactory factory);
  ~Simulator() override;
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

  // Watches every event (the invariant checker). Attach before run().
  void set_observer(ClusterObserver* observer);
  SimulatorResult run();

  const std::vector<NodeId>& ids() const override { return ids_; }
  bool is_up(NodeId id) const override;
  uint64_t incarnation(NodeId id) const override;
  const Engine& engine(NodeId id) const override;

  // Every trace line, if options.keep_trace; otherwise the last few.
  const std::deque<std::string>& trace() const { return trace_; }

 private:
  enum class EventKind : uint8_t { kTick, kDeliver, kFault, kPropose, kResume, kRestart };
  struct Event {
    uint64_t time_us = 0;
    uint64_t sequence = 0;  // ties break by scheduling order: deterministic
    EventKind kind = EventKind::kTick;
    NodeId node = kNoNode;
    uint64_t incarnation = 0;  // ticks of a crashed incarnation are dropped
    std::shared_ptr<Message> message;
    bool operator>(const Event& other) const {
      return time_us != other.time_us ? time_us > other.time_us : sequence > other.sequence;
    }
  };

  void schedule(uint64_t at_us, EventKind kind, NodeId node, std::shared_ptr<Message> message = nullptr);
  void handle(const Event& event);
  void send(Message&& message);
  void inject_fault();
  void heal_everything();
  bool link_up(NodeId from, NodeId to) const { return cut_links_.count({from, to}) == 0; }
  uint64_t tick_interval_us(NodeId id) const;
  void record(const std::string& line);
  void check_event(NodeId subject, const std::string& what);
  bool converged() const;
  SimNode& node(NodeId id);
  const SimNode& node(NodeId id) const;

  SimulatorOptions options_;
  EngineFactory factory_;
  Random random_;
  std::vector<NodeId> ids_;
  std::map<NodeId, std::unique_ptr<SimNode>> nodes_;
  std::map<NodeId, int> skew_permille_;
  std::set<NodeId> paused_;
  std::set<std::pair<NodeId, NodeId>> cut_links_;
  std::priority_queue<Event, std::vector<Event>, std::greater<>> queue_;
  uint64_t now_us_ = 0;
  uint64_t sequence_ = 0;
  bool faults_on_ = true;
  uint64_t proposals_ = 0;
  ClusterObserver* observer_ = nullptr;
  std::deque<std::string> trace_;
  SimulatorResult result_;
  std::set<std::pair<Term, NodeId>> leaders_;
};

}  // namespace synod::sim
