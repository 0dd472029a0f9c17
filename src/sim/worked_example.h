// The worked example of seed 001 ("A distributed key-value store uses Raft with 5 nodes"), as a script
// over the in-memory cluster. The demo prints its timeline; the scenario tests assert its checks. Nodes
// are named A..E (ids 1..5) as in the seed; "follower 4" of part 1 is E.
//
//   part 1: "set x = 42" becomes entry 7; follower 4 is slow; the leader commits on 4 of 5 and applies;
//           the leader crashes and a follower that holds entry 7 takes over without losing it.
//   part 2: with only 2 of 5 acknowledgments nothing commits; the leader keeps trying and commits once
//           the others are reachable again.
//   part 3: leader A of term 7 reaches B but not C, D, E; C wins term 8 with C, D, E; A steps down once
//           it learns of term 8, through B or through check-quorum; after the heal every committed
//           entry survives and all logs converge.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "sim/cluster.h"

namespace synod::sim {

struct ScenarioCheck {
  std::string what;
  bool passed = false;
};

struct WorkedExampleReport {
  std::vector<ScenarioCheck> checks;
  bool passed() const;
  size_t failures() const;
};

enum class StepDownPath { kThroughB, kCheckQuorum };

// Runs all three parts. `timeline` (may be null) receives a readable account; `observer` (may be null)
// watches every cluster the script builds.
WorkedExampleReport run_worked_example(std::ostream* timeline, ClusterObserver* observer, uint64_t seed = 1);

// The parts one at a time, for tests.
void run_part1_commit_on_four_of_five(std::ostream* timeline, ClusterObserver* observer, uint64_t seed,
                                      WorkedExampleReport& report);
void run_part2_no_majority(std::ostream* timeline, ClusterObserver* observer, uint64_t seed,
                           WorkedExampleReport& report);
void run_part3_partition(std::ostream* timeline, ClusterObserver* observer, uint64_t seed, StepDownPath path,
                         WorkedExampleReport& report);

}  // namespace synod::sim
