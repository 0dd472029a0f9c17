// synod-paxos-demo: single-decree Paxos (seeds 002 and 004) as a readable timeline. Several nodes
// propose different values at once over a network that loses and copies messages while acceptors crash
// and restart; the run shows the two phases, the refusals of duelling ballots, the moment a majority
// accepts one value (it is chosen then, before anyone knows), and every node learning that value.
// Deterministic: the same --seed gives the same run. Exit 0 when exactly one value was decided and
// every node learned it, 1 otherwise, 2 on bad usage.
#include <CLI/CLI.hpp>
#include <cstdint>
#include <iostream>
#include <sstream>

#include "sim/paxos_cluster.h"

int main(int argc, char** argv) {
  CLI::App app{"synod-paxos-demo: single-decree Paxos under faults, as a timeline"};
  uint64_t seed = 1;
  int nodes = 5;
  int proposers = 3;
  synod::sim::PaxosFaults faults{.drop_percent = 20, .duplicate_percent = 10, .crash_percent = 3};
  bool quiet = false;
  app.add_option("--seed", seed, "Chooses every fault and delivery order");
  app.add_option("--nodes", nodes, "Participants; each is proposer, acceptor and learner")
      ->check(CLI::Range(1, 15));
  app.add_option("--proposers", proposers, "Nodes 1..N propose different values at once")
      ->check(CLI::Range(1, 15));
  app.add_option("--drop", faults.drop_percent, "Percent of messages lost")->check(CLI::Range(0, 90));
  app.add_option("--dup", faults.duplicate_percent, "Percent of messages delivered twice")
      ->check(CLI::Range(0, 90));
  app.add_option("--crash", faults.crash_percent, "Percent chance per tick that a running node crashes")
      ->check(CLI::Range(0, 50));
  app.add_flag("--quiet", quiet, "Only the outcome, not the timeline");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  if (proposers > nodes) {
    std::cerr << "synod-paxos-demo: --proposers (" << proposers << ") exceeds --nodes (" << nodes << ")\n";
    return 2;
  }

  std::cout << nodes << " nodes; nodes 1.." << proposers << " propose at once; " << faults.drop_percent
            << "% of messages lost, " << faults.duplicate_percent << "% copied, a " << faults.crash_percent
            << "% chance per tick of a crash, for the first 30 ticks; seed " << seed << ".\n"
            << "Ballots are (round,node). A value is chosen when a majority of acceptors accept it at one\n"
            << "ballot; a node learns it when told by the proposer that saw that majority.\n\n";
  std::ostringstream timeline;
  synod::sim::PaxosRunReport report =
      synod::sim::run_paxos(nodes, proposers, faults, seed, quiet ? nullptr : &timeline);
  std::cout << timeline.str();
  std::cout << "\n";
  if (report.violation) {
    std::cout << "SAFETY VIOLATION: " << *report.violation << "\n";
    return 1;
  }
  if (!report.decided || !report.everyone_learned) {
    std::cout << "not every node learned a decision within " << report.ticks << " ticks\n";
    return 1;
  }
  std::cout << "decided \"" << *report.decided << "\"; all " << nodes << " nodes learned it after "
            << report.ticks << " ticks and " << report.messages << " messages.\n";
  return 0;
}
