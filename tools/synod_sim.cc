// synod-sim: the deterministic simulator. One seed sets every choice; a failing seed prints the exact
// command that replays it. Exit 0 when every run is safe and live, 1 on any violation, 2 on bad usage.
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>

#include "check/invariants.h"
#include "raft/config.h"
#include "sim/raft_engine.h"
#include "sim/simulator.h"

namespace {

void usage(std::ostream& out) {
  out << "usage: synod-sim [--seed N | --seeds A-B] [--nodes N] [--faults LIST] [--seconds S]\n"
         "                 [--trace FILE] [--engine raft]\n"
         "  --faults   comma list of partition, crash, pause, skew, drop, dup (or none); default all\n"
         "  --seconds  virtual seconds of faults before the liveness phase (default 20)\n"
         "  --trace    write every event of the (single) run to FILE\n";
}

bool parse_u64(const std::string& text, uint64_t& out) {
  if (text.empty()) return false;
  char* end = nullptr;
  out = std::strtoull(text.c_str(), &end, 10);
  return end != nullptr && *end == '\0';
}

}  // namespace

int main(int argc, char** argv) {
  using synod::sim::FaultMix;
  uint64_t first = 1;
  uint64_t last = 1;
  uint64_t nodes = 5;
  uint64_t seconds = 20;
  std::string faults_text = "partition,crash,pause,skew,drop,dup";
  std::string trace_file;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << "synod-sim: " << arg << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "--help" || arg == "-h") {
      usage(std::cout);
      return 0;
    } else if (arg == "--seed") {
      if (!parse_u64(value(), first)) {
        std::cerr << "synod-sim: --seed needs a number\n";
        return 2;
      }
      last = first;
    } else if (arg == "--seeds") {
      std::string range = value();
      size_t dash = range.find('-');
      if (dash == std::string::npos || !parse_u64(range.substr(0, dash), first) ||
          !parse_u64(range.substr(dash + 1), last) || last < first) {
        std::cerr << "synod-sim: --seeds needs a range A-B with A <= B\n";
        return 2;
      }
    } else if (arg == "--nodes") {
      if (!parse_u64(value(), nodes) || nodes == 0 || nodes > 9) {
        std::cerr << "synod-sim: --nodes needs a number from 1 to 9\n";
        return 2;
      }
    } else if (arg == "--seconds") {
      if (!parse_u64(value(), seconds) || seconds == 0) {
        std::cerr << "synod-sim: --seconds needs a positive number\n";
        return 2;
      }
    } else if (arg == "--faults") {
      faults_text = value();
    } else if (arg == "--trace") {
      trace_file = value();
    } else if (arg == "--engine") {
      std::string engine = value();
      if (engine != "raft") {
        std::cerr << "synod-sim: engine '" << engine << "' is not available yet (only raft)\n";
        return 2;
      }
    } else {
      std::cerr << "synod-sim: unknown argument '" << arg << "'\n";
      usage(std::cerr);
      return 2;
    }
  }
  synod::Result<FaultMix> faults = FaultMix::parse(faults_text);
  if (!faults.is_ok()) {
    std::cerr << "synod-sim: " << faults.status().message() << '\n';
    return 2;
  }

  synod::raft::Config config;
  uint64_t failures = 0;
  uint64_t events = 0;
  auto started = std::chrono::steady_clock::now();
  for (uint64_t seed = first; seed <= last; ++seed) {
    synod::sim::SimulatorOptions options;
    options.nodes = nodes;
    options.seed = seed;
    options.faults = faults.value();
    options.fault_duration_us = seconds * 1'000'000;
    options.keep_trace = !trace_file.empty();
    synod::sim::Simulator simulator(options, synod::sim::raft_engine_factory(config));
    synod::check::InvariantChecker checker;
    simulator.set_observer(&checker);
    synod::sim::SimulatorResult result = simulator.run();
    events += result.events;
    if (!trace_file.empty()) {
      std::ofstream out(trace_file);
      for (const std::string& line : simulator.trace()) out << line << '\n';
    }
    if (!result.safe || !result.live) {
      ++failures;
      std::cout << "\nseed " << seed << " FAILED: " << result.violation << "replay: synod-sim --seed " << seed
                << " --nodes " << nodes << " --faults " << faults.value().to_string() << " --seconds "
                << seconds << " --trace trace.txt\n";
    }
    if (first == last) {
      std::cout << "seed " << seed << ": " << (result.safe && result.live ? "ok" : "FAILED") << ", "
                << result.events << " events, " << result.leaders << " leaders, commit " << result.committed
                << ", trace hash " << std::hex << result.trace_hash << std::dec << '\n';
    } else {
      uint64_t done = seed - first + 1;
      uint64_t total = last - first + 1;
      std::cerr << "\r[" << std::string(done * 30 / total, '#') << std::string(30 - done * 30 / total, ' ')
                << "] " << done << '/' << total << " seeds, " << failures << " failed" << std::flush;
    }
  }
  double elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (first != last) {
    std::cerr << '\n';
    std::cout << (last - first + 1) << " seeds (" << faults.value().to_string() << ", " << nodes
              << " nodes): " << failures << " failed, " << events << " events in " << elapsed_s << " s ("
              << static_cast<uint64_t>(static_cast<double>(events) / std::max(elapsed_s, 1e-9))
              << " events/s)\n";
  }
  return failures == 0 ? 0 : 1;
}
