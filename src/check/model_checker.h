// ModelChecker: explicit-state model checking of the real protocol cores (seed 002's TLA+-style
// exploration, run on the code itself rather than on a model of it).
//
// A state is a McWorld (check/mc_world.h): for the Engine cores a whole sim::Cluster (every node's core,
// what it made durable, its state machine, and the messages in flight, a multiset) plus McGhost
// (check/mc_invariants.h); for single-decree Paxos a sim::PaxosCluster. From each state every choice is
// a successor (McStep): deliver, drop or duplicate any message in flight, let any node's time run until
// it acts (time is a choice, not a value: timers and randomness are left out of the state), crash and
// restart any node, have a node propose a value or ask for a read. Each new state is checked against
// the world's invariants.
//
// Bounds keep the space finite: successors that pass one are not explored (max term or ballot round,
// log length, messages in flight) or not taken (proposals, restarts, duplicates, reads). Breadth-first
// search finds a shortest counterexample; depth-first uses less memory. Distinct states are kept as
// 64-bit fingerprints of a canonical encoding (consensus/state_encoder.h); for Raft, states that differ
// only by a renaming of node ids are one state (symmetry reduction: the fingerprint is the least over
// every permutation). Paxos ballots order node ids, so there the reduction is off.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "check/mc_trace.h"
#include "check/mc_world.h"

namespace synod::check {

struct McResult {
  uint64_t distinct_states = 0;
  uint64_t transitions = 0;  // successors generated, new or not
  uint64_t pruned = 0;       // successors past a bound
  size_t max_depth = 0;
  double seconds = 0;
  // Whether every state within the bounds was explored (no stop on max_states or max_depth).
  bool exhausted = false;
  bool depth_limited = false;
  std::string violation;   // empty: none found
  McTrace counterexample;  // the steps from the initial state to the violation

  bool ok() const { return violation.empty(); }
};

struct McOptions {
  McSetup setup;
  McBounds bounds;
  bool depth_first = false;
  size_t max_depth = 0;     // 0: no limit (depth-first: 200)
  uint64_t max_states = 0;  // stop after this many distinct states (0: no limit)
  bool symmetry = true;     // Raft only
  // Called about once a second while it runs (for a progress line).
  std::function<void(const McResult&)> progress;
};

McResult model_check(const McOptions& options);

// Runs `trace` on a fresh cluster, checking the same invariants after every step (and
// check::InvariantChecker's too, as a second opinion). Writes a numbered step-by-step account with
// every node's state to `out` if it is not null. Returns the first violation, or an empty string.
std::string replay(const McTrace& trace, std::string* out);
// The same for a replay file: an error if it cannot be read or parsed, else the violation (or "").
Result<std::string> replay_file(const std::string& path, std::string* out);

}  // namespace synod::check
