#include "check/mc_trace.h"

#include <algorithm>
#include <charconv>
#include <sstream>

#include "base/assert.h"
#include "paxos/multi_config.h"
#include "raft/config.h"
#include "sim/paxos_engine.h"
#include "sim/raft_engine.h"

namespace synod::check {
namespace {

// Short timeouts: a timeout step ticks until the node acts, so fewer ticks only make it cheaper.
constexpr int kElectionTick = 2;
// Ticks a timeout step gives a node to act: past the longest randomized election timeout.
constexpr int kMaxTicksPerTimeout = 4 * kElectionTick + 2;

std::optional<uint64_t> parse_number(std::string_view text) {
  uint64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

std::vector<std::string_view> words(std::string_view line) {
  std::vector<std::string_view> out;
  size_t at = 0;
  while (at < line.size()) {
    while (at < line.size() && (line[at] == ' ' || line[at] == '\t')) ++at;
    size_t end = at;
    while (end < line.size() && line[end] != ' ' && line[end] != '\t') ++end;
    if (end > at) out.push_back(line.substr(at, end - at));
    at = end;
  }
  return out;
}

struct KindName {
  McStep::Kind kind;
  std::string_view name;
  bool has_value;
};
constexpr KindName kKinds[] = {
    {McStep::Kind::kDeliver, "deliver", false},     {McStep::Kind::kDrop, "drop", false},
    {McStep::Kind::kDuplicate, "duplicate", false}, {McStep::Kind::kTimeout, "timeout", false},
    {McStep::Kind::kTick, "tick", false},           {McStep::Kind::kRestart, "restart", false},
    {McStep::Kind::kPropose, "propose", true},      {McStep::Kind::kRead, "read", true},
};

}  // namespace

const char* engine_name(McEngine engine) {
  switch (engine) {
    case McEngine::kRaft: return "raft";
    case McEngine::kMultiPaxos: return "paxos";
    case McEngine::kSingleDecree: return "single-decree";
  }
  return "?";
}

std::vector<std::string> McSetup::bug_names(McEngine engine) {
#if SYNOD_BUG_INJECTION
  if (engine == McEngine::kRaft) {
    // unbounded-lease acts only on lease reads: it needs time mode global (McSetup::timed).
    return {"commit-old-term-by-counting", "grant-two-votes-per-term", "skip-up-to-date-check",
            "read-without-quorum-check", "unbounded-lease"};
  }
  if (engine == McEngine::kSingleDecree) return {"accept-below-promise", "ignore-accepted-values"};
  return {"accept-below-promise", "ignore-highest-accepted", "skip-hole-filling"};
#else
  (void)engine;
  return {};
#endif
}

Status McSetup::validate() const {
  if (nodes == 0 || nodes > 7) return Status(ErrorCode::kInvalidArgument, "nodes must be 1 to 7");
  if (timed && engine != McEngine::kRaft) {
    return Status(ErrorCode::kInvalidArgument, "time mode global is built for Raft only so far");
  }
  if (!bug.empty()) {
    std::vector<std::string> known = bug_names(engine);
    if (std::find(known.begin(), known.end(), bug) == known.end()) {
      std::string list;
      for (const std::string& name : known) list += (list.empty() ? "" : ", ") + name;
      return Status(ErrorCode::kInvalidArgument,
                    "unknown bug '" + bug + "' for this engine" +
                        (list.empty() ? std::string(" (this build injects none: use a debug build)")
                                      : " (known: " + list + ")"));
    }
  }
  return Status::ok();
}

sim::EngineFactory McSetup::factory() const {
  SYNOD_ASSERT_MSG(engine != McEngine::kSingleDecree, "single-decree Paxos is not an Engine");
  if (engine == McEngine::kRaft) {
    raft::Config config;
    config.election_tick = kElectionTick;
    config.heartbeat_tick = 1;
    // Time mode global: equal-rate clocks, so check-quorum and lease reads are meaningful (and checked).
    config.check_quorum = timed;
    config.read_only = timed ? raft::ReadOnlyOption::kLeaseBased : raft::ReadOnlyOption::kSafe;
    config.pre_vote = pre_vote;
    // One entry per Append, so that every prefix of a log can be in flight (a leader that batches
    // hides interleavings that a slower network or a smaller limit would show).
    config.max_bytes_per_message = 1;
    config.forward_proposals = false;
#if SYNOD_BUG_INJECTION
    config.bugs.commit_old_term_by_counting = bug == "commit-old-term-by-counting";
    config.bugs.grant_two_votes_per_term = bug == "grant-two-votes-per-term";
    config.bugs.skip_up_to_date_check = bug == "skip-up-to-date-check";
    config.bugs.read_without_quorum_check = bug == "read-without-quorum-check";
    config.bugs.unbounded_lease = bug == "unbounded-lease";
#endif
    return sim::raft_engine_factory(config);
  }
  paxos::MultiPaxosConfig config;
  config.election_tick = kElectionTick;
  config.heartbeat_tick = 1;
  config.check_quorum = false;
  config.lease_reads = false;
  config.pre_vote = pre_vote;
  config.max_bytes_per_message = 1;
#if SYNOD_BUG_INJECTION
  config.bugs.accept_below_promise = bug == "accept-below-promise";
  config.bugs.ignore_highest_accepted = bug == "ignore-highest-accepted";
  config.bugs.skip_hole_filling = bug == "skip-hole-filling";
#endif
  return sim::multi_paxos_engine_factory(config);
}

std::unique_ptr<sim::Cluster> McSetup::make_cluster() const {
  std::vector<NodeId> ids;
  for (size_t i = 1; i <= nodes; ++i) ids.push_back(static_cast<NodeId>(i));
  return std::make_unique<sim::Cluster>(std::move(ids), factory(), seed);
}

std::string proposal_value(uint32_t number) {
  return "v" + std::to_string(number);
}
std::string read_context(uint32_t number) {
  return "r" + std::to_string(number);
}

std::string McStep::to_string() const {
  for (const KindName& k : kKinds) {
    if (k.kind != kind) continue;
    std::string out = std::string(k.name) + ' ' + std::to_string(arg);
    if (k.has_value) out += ' ' + std::to_string(value);
    return out;
  }
  return "?";
}

std::optional<McStep> McStep::parse(std::string_view text) {
  std::vector<std::string_view> w = words(text);
  if (w.empty()) return std::nullopt;
  for (const KindName& k : kKinds) {
    if (k.name != w[0]) continue;
    if (w.size() != (k.has_value ? 3U : 2U)) return std::nullopt;
    std::optional<uint64_t> arg = parse_number(w[1]);
    if (!arg || *arg > UINT32_MAX) return std::nullopt;
    McStep step{k.kind, static_cast<uint32_t>(*arg), 0};
    if (k.has_value) {
      std::optional<uint64_t> value = parse_number(w[2]);
      if (!value || *value > UINT32_MAX) return std::nullopt;
      step.value = static_cast<uint32_t>(*value);
    }
    return step;
  }
  return std::nullopt;
}

bool apply_step(sim::Cluster& cluster, const McStep& step) {
  auto valid_node = [&](uint32_t id) {
    const std::vector<NodeId>& ids = cluster.ids();
    return std::find(ids.begin(), ids.end(), id) != ids.end() && cluster.is_up(id);
  };
  switch (step.kind) {
    case McStep::Kind::kDeliver:
      if (step.arg >= cluster.in_flight().size()) return false;
      (void)cluster.deliver(step.arg);  // a refusal is the core's answer, not a failed step
      return true;
    case McStep::Kind::kDrop:
      if (step.arg >= cluster.in_flight().size()) return false;
      cluster.drop(step.arg);
      return true;
    case McStep::Kind::kDuplicate:
      if (step.arg >= cluster.in_flight().size()) return false;
      cluster.duplicate(step.arg);
      return true;
    case McStep::Kind::kTimeout: {
      if (!valid_node(step.arg)) return false;
      EngineStatus before = cluster.engine(step.arg).status();
      size_t in_flight = cluster.in_flight().size();
      for (int i = 0; i < kMaxTicksPerTimeout; ++i) {
        cluster.tick(step.arg);
        EngineStatus now = cluster.engine(step.arg).status();
        if (cluster.in_flight().size() != in_flight || now.role != before.role || now.term != before.term)
          return true;
      }
      return true;  // it had nothing to do (a single-node leader, say): time passed all the same
    }
    case McStep::Kind::kTick: cluster.tick_all(); return true;
    case McStep::Kind::kRestart:
      if (!valid_node(step.arg)) return false;
      cluster.crash(step.arg);
      cluster.restart(step.arg);
      return true;
    case McStep::Kind::kPropose:
      if (!valid_node(step.arg) || cluster.engine(step.arg).status().role != Role::kLeader) return false;
      (void)cluster.propose(step.arg, proposal_value(step.value));
      return true;
    case McStep::Kind::kRead:
      if (!valid_node(step.arg) || cluster.engine(step.arg).status().role != Role::kLeader) return false;
      (void)cluster.read_index(step.arg, read_context(step.value));
      return true;
  }
  return false;
}

std::string McTrace::to_text(const std::string& comment) const {
  std::ostringstream out;
  out << "# synod-mc replay file: `synod-sim --replay FILE` runs it again\n";
  if (!comment.empty()) {
    std::istringstream lines(comment);
    for (std::string line; std::getline(lines, line);) out << "# " << line << '\n';
  }
  out << "engine " << engine_name(setup.engine) << '\n';
  out << "nodes " << setup.nodes << '\n';
  out << "seed " << setup.seed << '\n';
  if (!setup.bug.empty()) out << "bug " << setup.bug << '\n';
  out << "pre-vote " << (setup.pre_vote ? "on" : "off") << '\n';
  out << "time " << (setup.timed ? "global" : "chosen") << '\n';
  for (const McStep& step : steps) out << "step " << step.to_string() << '\n';
  return out.str();
}

Result<McTrace> McTrace::parse(std::string_view text) {
  McTrace trace;
  size_t line_number = 0;
  size_t at = 0;
  while (at <= text.size()) {
    size_t end = text.find('\n', at);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(at, end - at);
    at = end + 1;
    ++line_number;
    if (size_t hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    std::vector<std::string_view> w = words(line);
    if (w.empty()) continue;
    auto bad = [&](const std::string& why) {
      return Status(ErrorCode::kInvalidArgument,
                    "replay file line " + std::to_string(line_number) + ": " + why);
    };
    if (w[0] == "engine" && w.size() == 2) {
      bool known = false;
      for (McEngine engine : {McEngine::kRaft, McEngine::kMultiPaxos, McEngine::kSingleDecree}) {
        if (w[1] != engine_name(engine)) continue;
        trace.setup.engine = engine;
        known = true;
      }
      if (!known) return bad("engine must be raft, paxos or single-decree");
    } else if (w[0] == "nodes" && w.size() == 2) {
      std::optional<uint64_t> n = parse_number(w[1]);
      if (!n) return bad("nodes must be a number");
      trace.setup.nodes = static_cast<size_t>(*n);
    } else if (w[0] == "seed" && w.size() == 2) {
      std::optional<uint64_t> s = parse_number(w[1]);
      if (!s) return bad("seed must be a number");
      trace.setup.seed = *s;
    } else if (w[0] == "pre-vote" && w.size() == 2 && (w[1] == "on" || w[1] == "off")) {
      trace.setup.pre_vote = w[1] == "on";
    } else if (w[0] == "time" && w.size() == 2 && (w[1] == "chosen" || w[1] == "global")) {
      trace.setup.timed = w[1] == "global";
    } else if (w[0] == "bug" && w.size() == 2) {
      trace.setup.bug = std::string(w[1]);
    } else if (w[0] == "step") {
      std::optional<McStep> step = McStep::parse(line.substr(line.find("step") + 4));
      if (!step) return bad("not a step: '" + std::string(line) + "'");
      trace.steps.push_back(*step);
    } else {
      return bad("unknown line '" + std::string(line) + "'");
    }
  }
  if (Status valid = trace.setup.validate(); !valid.is_ok()) return valid;
  return trace;
}

}  // namespace synod::check
