// synod-demo: part 1 runs the worked example of seed 001 on the in-memory Raft cluster and prints its
// timeline; part 2 runs a real three-member cluster over TCP with its data on disk, kills and restarts
// its leader under client load, and checks the clients' history for linearizability. Exits 0 if every
// outcome matches the seed's story, no safety invariant broke and the history is linearizable.
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <string>

#include "check/invariants.h"
#include "sim/worked_example.h"
#include "tools/demo_cluster.h"

namespace {

void usage(std::ostream& out) {
  out << "usage: synod-demo [--seed N] [--keep]\n"
         "Part 1 runs seed 001's worked example (a 5-node Raft key-value store: commit on a majority, no\n"
         "commit without one, a partitioned leader replaced in term 8) on Synod's in-memory cluster.\n"
         "Part 2 runs a real 3-member cluster over TCP on loopback with its data on disk, kills and\n"
         "restarts its leader under load, and checks the clients' history. --keep keeps its data.\n";
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t seed = 1;
  bool keep = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      usage(std::cout);
      return 0;
    }
    if (arg == "--keep") {
      keep = true;
      continue;
    }
    if (arg == "--seed" && i + 1 < argc) {
      char* end = nullptr;
      seed = std::strtoull(argv[++i], &end, 10);
      if (end == nullptr || *end != '\0') {
        std::cerr << "synod-demo: --seed needs a number, got '" << argv[i] << "'\n";
        return 2;
      }
      continue;
    }
    std::cerr << "synod-demo: unknown argument '" << arg << "'\n";
    usage(std::cerr);
    return 2;
  }

  std::cout << "Synod demo: seed 001's worked example on a 5-node in-memory Raft cluster (nodes A-E)\n";
  synod::check::InvariantChecker checker;
  synod::sim::WorkedExampleReport report = synod::sim::run_worked_example(&std::cout, &checker, seed);
  std::cout << '\n';
  if (!checker.ok()) std::cout << "SAFETY VIOLATION: " << checker.violation() << '\n';
  std::cout << "Safety invariants checked after every event (" << checker.checks()
            << " checks): " << (checker.ok() ? "all held" : "VIOLATED") << '\n';
  std::cout << report.checks.size() - report.failures() << " of " << report.checks.size()
            << " outcomes match the seed's story.\n\n";
  bool cluster_ok = synod::demo::run_real_cluster(std::cout, "/tmp", keep);
  std::cout << "\nPart 2: " << (cluster_ok ? "passed" : "FAILED") << '\n';
  return report.passed() && checker.ok() && cluster_ok ? 0 : 1;
}
