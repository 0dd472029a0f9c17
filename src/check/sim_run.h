// One checked simulator run: the seed's run with the invariant checker watching every event, then its
// client history through the linearizability checker. synod-sim and the tests share it, so a failure in
// one reproduces in the other.
#pragma once

#include <chrono>
#include <deque>
#include <string>

#include "check/invariants.h"
#include "check/linearizability.h"
#include "sim/simulator.h"

namespace synod::check {

struct SimRun {
  sim::SimulatorResult result;
  CheckResult linearizability;
  std::deque<std::string> trace;  // every line if options.keep_trace, else the last few
  // Empty when the run is safe, live and linearizable; otherwise why not, ready to print.
  std::string failure;
  bool ok() const { return failure.empty(); }
};

SimRun run_checked(const sim::SimulatorOptions& options, const sim::EngineFactory& factory,
                   const CheckOptions& check_options = {}, Protocol protocol = Protocol::kRaft);

}  // namespace synod::check
