// What the model checker (check/model_checker.h) explores, in a form a file can hold: the cluster it
// starts from (McSetup) and the steps it takes (McStep). A counterexample is written as a replay file
// of both, which `synod-sim --replay FILE` and `synod-mc --replay FILE` run again on a fresh
// sim::Cluster: every step is deterministic given the setup, so the same states follow.
//
// Replay file (text, one item per line, '#' starts a comment):
//   engine raft|paxos|single-decree
//   nodes N
//   seed S
//   bug NAME            (optional; test builds only)
//   pre-vote on|off     (optional; off)
//   time chosen|global  (optional; chosen)
//   step KIND ARG...    (deliver P | drop P | duplicate P | timeout N | tick 0 | restart N |
//                        propose N K | read N K; P is a position among the messages in flight, in send
//                        order)
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "sim/cluster.h"

namespace synod::check {

enum class McEngine : uint8_t { kRaft, kMultiPaxos, kSingleDecree };
const char* engine_name(McEngine engine);  // raft, paxos, single-decree

struct McSetup {
  McEngine engine = McEngine::kRaft;
  size_t nodes = 3;
  uint64_t seed = 1;
  std::string bug;  // an injected bug of the engine's core, by name (see bug_names), or empty
  // Raft's pre-vote round (and Multi-Paxos's, which reuses it) doubles the messages of every election;
  // off by default so that the same bounds reach more elections.
  bool pre_vote = false;
  // Time mode. Off (the default), time is a choice: a node's timeout fires whenever the checker says
  // (McStep::kTimeout), timers are not part of the state, and check-quorum and leases are off, since
  // they rest on clocks. On (Raft only), clocks run at one rate: a tick step advances every node's
  // clock by one (McStep::kTick), timers and random generators are part of the state, and check-quorum
  // and lease-based reads are on, so that lease safety is checked too (under the assumption leases
  // make: equal-rate clocks).
  bool timed = false;

  // The bugs this build can inject into `engine` (none outside test builds).
  static std::vector<std::string> bug_names(McEngine engine);
  Status validate() const;
  // The Engine cores (Raft, Multi-Paxos) as the checker runs them: short timeouts (time is a choice
  // anyway), no check-quorum and no leases (both rest on clocks, which the checker does not model), the
  // bug switched on. Single-decree Paxos is not an Engine (check/mc_single_decree_world.cc sets it up).
  sim::EngineFactory factory() const;
  std::unique_ptr<sim::Cluster> make_cluster() const;
};

struct McStep {
  enum class Kind : uint8_t { kDeliver, kDrop, kDuplicate, kTimeout, kTick, kRestart, kPropose, kRead };
  Kind kind = Kind::kDeliver;
  uint32_t arg = 0;    // a position in flight, or a node id
  uint32_t value = 0;  // propose: the value's number ("v<value>"); read: the read's ("r<value>")

  std::string to_string() const;
  static std::optional<McStep> parse(std::string_view text);
};

// Applies `step` to `cluster`. Returns false if it cannot apply there (a position past the messages in
// flight, a node that is down or not a leader where one is needed).
//   timeout: the node's clock runs until it acts: ticks until it sends something or its role or term
//            changes (a follower campaigns; a leader sends heartbeats).
//   tick:    every node's clock advances one tick (time mode global).
//   restart: crash and restart at once; only what the node made durable survives.
bool apply_step(sim::Cluster& cluster, const McStep& step);

std::string proposal_value(uint32_t number);
std::string read_context(uint32_t number);

struct McTrace {
  McSetup setup;
  std::vector<McStep> steps;

  std::string to_text(const std::string& comment = {}) const;
  static Result<McTrace> parse(std::string_view text);
};

}  // namespace synod::check
