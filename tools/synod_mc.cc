// synod-mc: explores every interleaving of a small cluster of the real Raft, Multi-Paxos or single-decree
// Paxos core within bounds, checking safety in each state (check/model_checker.h). Prints the state
// counts and either "no violation" (with whether the bounded space was exhausted) or a numbered
// counterexample, which it also writes as a replay file for `synod-sim --replay`.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "check/model_checker.h"

namespace {

int replay_file(const std::string& path) {
  std::string account;
  synod::Result<std::string> violation = synod::check::replay_file(path, &account);
  if (!violation.is_ok()) {
    std::cerr << "synod-mc: " << violation.status().to_string() << '\n';
    return 2;
  }
  std::cout << account;
  return violation.value().empty() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  using synod::check::McEngine;
  CLI::App app{
      "synod-mc: explicit-state model checking of the Raft, Multi-Paxos and single-decree Paxos cores"};
  synod::check::McOptions options;
  std::string engine = "raft";
  std::string search = "bfs";
  std::string counterexample_path = "synod-mc-counterexample.txt";
  std::string replay_path;
  bool quiet = false;
  app.add_option("--engine", engine, "raft, paxos (Multi-Paxos) or single-decree")
      ->check(CLI::IsMember({"raft", "paxos", "single-decree"}));
  app.add_option("--nodes", options.setup.nodes, "cluster size")->check(CLI::Range(1, 7));
  app.add_option("--seed", options.setup.seed, "seed of the cores' own randomness (timers only)");
  app.add_option("--bug", options.setup.bug, "inject a bug of the core (test builds)");
  app.add_option("--search", search, "bfs (shortest counterexample) or dfs (less memory)")
      ->check(CLI::IsMember({"bfs", "dfs"}));
  app.add_option("--max-term", options.bounds.max_term, "highest Raft term or Paxos ballot round");
  app.add_option("--max-log", options.bounds.max_log, "longest log (entries or slots) on any node");
  app.add_option("--max-in-flight", options.bounds.max_in_flight, "most messages in flight at once");
  app.add_option("--proposals", options.bounds.proposals, "values proposed on a path");
  app.add_option("--restarts", options.bounds.restarts, "crash-restarts on a path");
  app.add_option("--duplicates", options.bounds.duplicates, "message duplications on a path");
  app.add_option("--reads", options.bounds.reads, "linearizable reads asked on a path");
  app.add_option("--max-depth", options.max_depth, "deepest path explored (0: none for bfs, 200 for dfs)");
  app.add_option("--max-states", options.max_states, "stop after this many distinct states (0: no limit)");
  app.add_flag("--pre-vote", options.setup.pre_vote, "run the pre-vote round before each election");
  app.add_flag("--time", options.setup.timed,
               "equal-rate clocks (Raft): every node ticks together, timers are state, check-quorum and "
               "lease reads are on");
  app.add_option("--max-ticks", options.bounds.max_ticks, "clock ticks on a path (with --time)");
  app.add_flag("!--no-symmetry", options.symmetry, "do not merge states that differ by a renaming of ids");
  app.add_option("--counterexample", counterexample_path, "where to write a counterexample's replay file");
  app.add_option("--replay", replay_path, "run a replay file instead and print every step");
  app.add_flag("--quiet", quiet, "no progress line");
  CLI11_PARSE(app, argc, argv);

  if (!replay_path.empty()) return replay_file(replay_path);
  for (McEngine e : {McEngine::kRaft, McEngine::kMultiPaxos, McEngine::kSingleDecree}) {
    if (engine == synod::check::engine_name(e)) options.setup.engine = e;
  }
  options.depth_first = search == "dfs";
  if (synod::Status valid = options.setup.validate(); !valid.is_ok()) {
    std::cerr << "synod-mc: " << valid.to_string() << '\n';
    return 2;
  }
  if (!quiet) {
    options.progress = [](const synod::check::McResult& r) {
      std::fprintf(stderr, "\r%llu distinct states, %llu transitions, depth %zu, %.0f states/s   ",
                   static_cast<unsigned long long>(r.distinct_states),
                   static_cast<unsigned long long>(r.transitions), r.max_depth,
                   r.seconds > 0 ? static_cast<double>(r.distinct_states) / r.seconds : 0.0);
    };
  }
  synod::check::McResult result = synod::check::model_check(options);
  if (!quiet) std::fprintf(stderr, "\n");

  const synod::check::McBounds& b = options.bounds;
  std::printf(
      "synod-mc: %s, %zu nodes, %s; bounds: term %llu, log %llu, in flight %zu, proposals %u, "
      "restarts %u, duplicates %u, reads %u%s%s\n",
      engine.c_str(), options.setup.nodes, search.c_str(), static_cast<unsigned long long>(b.max_term),
      static_cast<unsigned long long>(b.max_log), b.max_in_flight, b.proposals, b.restarts, b.duplicates,
      b.reads, options.setup.timed ? (", time global, ticks " + std::to_string(b.max_ticks)).c_str() : "",
      options.setup.bug.empty() ? "" : (", bug " + options.setup.bug).c_str());
  std::printf(
      "%llu distinct states, %llu transitions (%llu past a bound), depth %zu, %.2f s, %.0f distinct "
      "states/s\n",
      static_cast<unsigned long long>(result.distinct_states),
      static_cast<unsigned long long>(result.transitions), static_cast<unsigned long long>(result.pruned),
      result.max_depth, result.seconds,
      result.seconds > 0 ? static_cast<double>(result.distinct_states) / result.seconds : 0.0);
  if (result.ok()) {
    std::printf("no violation; bounded space %s\n",
                result.exhausted
                    ? "exhausted"
                    : (result.depth_limited ? "NOT exhausted (depth limit)" : "NOT exhausted (state limit)"));
    return 0;
  }
  std::printf("VIOLATION after %zu steps: %s\n", result.counterexample.steps.size(),
              result.violation.c_str());
  std::string account;
  (void)synod::check::replay(result.counterexample, &account);
  std::printf("%s", account.c_str());
  std::ofstream out(counterexample_path);
  out << result.counterexample.to_text(result.violation);
  if (out)
    std::printf("replay file: %s (synod-sim --replay %s)\n", counterexample_path.c_str(),
                counterexample_path.c_str());
  return 1;
}
