// synod-sim: the deterministic simulator. One seed sets every choice; every run is checked for
// invariants after each event and for linearizability of its client history at the end; a failing seed
// prints the exact command that replays it. Exit 0 when every run is safe, live and linearizable, 1 on
// any failure, 2 on bad usage.
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>

#include "check/model_checker.h"
#include "check/sim_run.h"
#include "paxos/multi_config.h"
#include "raft/config.h"
#include "sim/paxos_engine.h"
#include "sim/raft_engine.h"
#include "sim/simulator.h"

namespace {

void usage(std::ostream& out) {
  out << "usage: synod-sim [--seed N | --seeds A-B] [--nodes N] [--faults LIST] [--seconds S] [--ops N]\n"
         "                 [--clients N] [--keys N] [--history FILE] [--trace FILE] [--check-timeout S]\n"
         "                 [--engine raft|paxos]"
#if SYNOD_BUG_INJECTION
         " [--bug NAME]"
#endif
         "\n"
         "       synod-sim --replay FILE   (a synod-mc counterexample, run again step by step)\n"
         "  --faults         comma list of partition, crash, pause, skew, drop, dup (or none); default all\n"
         "  --seconds        virtual seconds of faults before the liveness phase (default 20, or 600 with "
         "--ops)\n"
         "  --ops            client operations per run; the fault phase ends when they are done\n"
         "  --clients        concurrent clients (default 5), one operation at a time each\n"
         "  --keys           keys the clients share (default 5)\n"
         "  --history        write the client history of the (single) run to FILE (JSON Lines)\n"
         "  --trace          write every event of the (single) run to FILE\n"
         "  --check-timeout  give the linearizability check this long per run (default 60 s)\n"
#if SYNOD_BUG_INJECTION
         "  --bug            inject a bug: serve-reads-locally, skip-apply-wait (node glue); with --engine\n"
         "                   paxos also accept-below-promise, ignore-highest-accepted, skip-hole-filling\n"
#endif
      ;
}

bool parse_u64(const std::string& text, uint64_t& out) {
  if (text.empty() || text[0] == '-') return false;
  char* end = nullptr;
  errno = 0;
  out = std::strtoull(text.c_str(), &end, 10);
  return end != nullptr && *end == '\0' && errno == 0;
}

[[noreturn]] void bad_usage(const std::string& message) {
  std::cerr << "synod-sim: " << message << '\n';
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  using synod::sim::FaultMix;
  uint64_t first = 1;
  uint64_t last = 1;
  uint64_t nodes = 5;
  uint64_t seconds = 0;
  uint64_t ops = 0;
  uint64_t clients = 5;
  uint64_t keys = 5;
  uint64_t check_timeout_s = 60;
  std::string faults_text = "partition,crash,pause,skew,drop,dup";
  std::string trace_file;
  std::string history_file;
  std::string bug;
  std::string engine = "raft";
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) bad_usage(arg + " needs a value");
      return argv[++i];
    };
    auto number = [&](uint64_t low, uint64_t high) -> uint64_t {
      uint64_t out = 0;
      if (!parse_u64(value(), out) || out < low || out > high) {
        bad_usage(arg + " needs a number from " + std::to_string(low) + " to " + std::to_string(high));
      }
      return out;
    };
    if (arg == "--help" || arg == "-h") {
      usage(std::cout);
      return 0;
    } else if (arg == "--seed") {
      first = last = number(0, UINT64_MAX);
    } else if (arg == "--seeds") {
      std::string range = value();
      size_t dash = range.find('-');
      if (dash == std::string::npos || !parse_u64(range.substr(0, dash), first) ||
          !parse_u64(range.substr(dash + 1), last) || last < first) {
        bad_usage("--seeds needs a range A-B with A <= B");
      }
    } else if (arg == "--nodes") {
      nodes = number(1, 9);
    } else if (arg == "--seconds") {
      seconds = number(1, 100'000);
    } else if (arg == "--ops") {
      ops = number(1, 100'000'000);
    } else if (arg == "--clients") {
      clients = number(0, 1000);
    } else if (arg == "--keys") {
      keys = number(1, 1'000'000);
    } else if (arg == "--check-timeout") {
      check_timeout_s = number(1, 86'400);
    } else if (arg == "--faults") {
      faults_text = value();
    } else if (arg == "--trace") {
      trace_file = value();
    } else if (arg == "--history") {
      history_file = value();
    } else if (arg == "--replay") {
      // A synod-mc counterexample (check/mc_trace.h): every step again, with each node's state.
      std::string account;
      synod::Result<std::string> violation = synod::check::replay_file(value(), &account);
      if (!violation.is_ok()) {
        std::cerr << "synod-sim: " << violation.status().to_string() << '\n';
        return 2;
      }
      std::cout << account;
      return violation.value().empty() ? 0 : 1;
    } else if (arg == "--engine") {
      engine = value();
      if (engine != "raft" && engine != "paxos") bad_usage("unknown engine '" + engine + "' (raft, paxos)");
#if SYNOD_BUG_INJECTION
    } else if (arg == "--bug") {
      bug = value();
      if (bug != "serve-reads-locally" && bug != "skip-apply-wait" && bug != "accept-below-promise" &&
          bug != "ignore-highest-accepted" && bug != "skip-hole-filling") {
        bad_usage("unknown bug '" + bug +
                  "' (serve-reads-locally, skip-apply-wait, accept-below-promise, ignore-highest-accepted, "
                  "skip-hole-filling)");
      }
#endif
    } else {
      usage(std::cerr);
      bad_usage("unknown argument '" + arg + "'");
    }
  }
  synod::Result<FaultMix> faults = FaultMix::parse(faults_text);
  if (!faults.is_ok()) bad_usage(faults.status().message());
  if (first != last && (!trace_file.empty() || !history_file.empty())) {
    bad_usage("--trace and --history need a single --seed");
  }
  if (seconds == 0) seconds = ops != 0 ? 600 : 20;

  std::string replay = " --nodes " + std::to_string(nodes) + " --faults " + faults.value().to_string() +
                       " --seconds " + std::to_string(seconds) + " --clients " + std::to_string(clients) +
                       " --keys " + std::to_string(keys) + (ops != 0 ? " --ops " + std::to_string(ops) : "") +
                       (bug.empty() ? "" : " --bug " + bug) + (engine == "raft" ? "" : " --engine " + engine);
  if (engine == "raft" &&
      (bug == "accept-below-promise" || bug == "ignore-highest-accepted" || bug == "skip-hole-filling")) {
    bad_usage("--bug " + bug + " needs --engine paxos");
  }
  synod::raft::Config config;
  synod::paxos::MultiPaxosConfig paxos_config;
#if SYNOD_BUG_INJECTION
  paxos_config.bugs.accept_below_promise = bug == "accept-below-promise";
  paxos_config.bugs.ignore_highest_accepted = bug == "ignore-highest-accepted";
  paxos_config.bugs.skip_hole_filling = bug == "skip-hole-filling";
#endif
  bool paxos = engine == "paxos";
  synod::sim::EngineFactory factory =
      paxos ? synod::sim::multi_paxos_engine_factory(paxos_config) : synod::sim::raft_engine_factory(config);
  synod::check::Protocol protocol =
      paxos ? synod::check::Protocol::kMultiPaxos : synod::check::Protocol::kRaft;
  synod::check::CheckOptions check_options;
  check_options.timeout = std::chrono::seconds(check_timeout_s);
  uint64_t failures = 0;
  uint64_t events = 0;
  uint64_t operations = 0;
  uint64_t committed = 0;
  uint64_t messages = 0;
  uint64_t syncs = 0;
  uint64_t virtual_us = 0;
  auto started = std::chrono::steady_clock::now();
  for (uint64_t seed = first; seed <= last; ++seed) {
    synod::sim::SimulatorOptions options;
    options.nodes = nodes;
    options.seed = seed;
    options.faults = faults.value();
    options.fault_duration_us = seconds * 1'000'000;
    options.ops = ops;
    options.clients = clients;
    options.keys = keys;
    options.keep_trace = !trace_file.empty();
    options.keep_entries_after_snapshot = paxos;
#if SYNOD_BUG_INJECTION
    options.bugs.serve_reads_locally = bug == "serve-reads-locally";
    options.bugs.skip_apply_wait = bug == "skip-apply-wait";
#endif
    synod::check::SimRun run = synod::check::run_checked(options, factory, check_options, protocol);
    const synod::sim::SimulatorResult& result = run.result;
    events += result.events;
    operations += result.history.size();
    committed += result.committed;
    messages += result.messages;
    syncs += result.syncs;
    virtual_us += result.virtual_time_us;
    if (!trace_file.empty()) {
      std::ofstream out(trace_file);
      for (const std::string& line : run.trace) out << line << '\n';
    }
    if (!history_file.empty()) {
      std::ofstream out(history_file);
      synod::check::write_history(out, result.history);
    }
    if (!run.ok()) {
      ++failures;
      std::cout << "\nseed " << seed << " FAILED: " << run.failure << "\nreplay: synod-sim --seed " << seed
                << replay << " --trace trace.txt --history history.jsonl\n";
    }
    if (first == last) {
      std::cout << "seed " << seed << ": " << (run.ok() ? "ok" : "FAILED") << ", " << result.events
                << " events, " << result.leaders << " leaders, commit " << result.committed << ", "
                << result.history.size() << " operations (" << result.ops_ok << " ok), "
                << synod::check::verdict_name(run.linearizability.verdict) << ", trace hash " << std::hex
                << result.trace_hash << std::dec << '\n';
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
    std::cout << (last - first + 1) << " seeds (" << faults.value().to_string() << ", " << nodes << " nodes, "
              << clients << " clients): " << failures << " failed, " << operations << " operations checked, "
              << events << " events in " << elapsed_s << " s ("
              << static_cast<uint64_t>(static_cast<double>(events) / std::max(elapsed_s, 1e-9))
              << " events/s, "
              << static_cast<uint64_t>(static_cast<double>(last - first + 1) * 60 / std::max(elapsed_s, 1e-9))
              << " seeds/min)\n"
              << "per committed entry: "
              << static_cast<double>(messages) / static_cast<double>(std::max<uint64_t>(committed, 1))
              << " messages, "
              << static_cast<double>(syncs) / static_cast<double>(std::max<uint64_t>(committed, 1))
              << " syncs (" << committed << " entries committed, cluster-wide counts); "
              << static_cast<double>(committed) * 1e6 / static_cast<double>(std::max<uint64_t>(virtual_us, 1))
              << " entries committed per virtual second\n";
  }
  return failures == 0 ? 0 : 1;
}
