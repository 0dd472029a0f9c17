#include "check/sim_run.h"

#include "check/invariants.h"

namespace synod::check {

SimRun run_checked(const sim::SimulatorOptions& options, const sim::EngineFactory& factory,
                   const CheckOptions& check_options, Protocol protocol) {
  SimRun run;
  sim::Simulator simulator(options, factory);
  InvariantChecker invariants(40, protocol);
  simulator.set_observer(&invariants);
  run.result = simulator.run();
  run.trace = simulator.trace();
  if (!run.result.safe || !run.result.live) {
    run.failure = run.result.violation;
    return run;
  }
  run.linearizability = check_linearizability(run.result.history, check_options);
  switch (run.linearizability.verdict) {
    case Verdict::kLinearizable: break;
    case Verdict::kNotLinearizable:
      run.failure = "NOT LINEARIZABLE: " + describe_result(run.linearizability, run.result.history);
      break;
    case Verdict::kUndecided:
      run.failure = "UNDECIDED: the linearizability check stopped (" + run.linearizability.message +
                    "); raise --check-timeout or shrink the workload";
      break;
    case Verdict::kMalformed:
      run.failure = "MALFORMED HISTORY (a simulator bug): " + run.linearizability.message;
      break;
  }
  return run;
}

}  // namespace synod::check
