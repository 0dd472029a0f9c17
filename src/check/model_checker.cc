#include "check/model_checker.h"

#include <algorithm>
#include <chrono>
#include <deque>
#include <fstream>
#include <memory>
#include <numeric>
#include <set>
#include <sstream>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "check/invariants.h"
#include "check/mc_invariants.h"
#include "paxos/multi_ballot.h"

namespace synod::check {
namespace {

constexpr size_t kDefaultDepthFirstLimit = 200;

struct McState {
  std::unique_ptr<sim::Cluster> cluster;
  McGhost ghost;
};

struct Parent {
  uint64_t parent = 0;
  McStep step;
  bool root = false;
};

class Explorer {
 public:
  explicit Explorer(const McOptions& options)
      : options_(options), ids_(ids_of(options.setup.nodes)), start_(std::chrono::steady_clock::now()) {
    NodeId top = ids_.back();
    identity_.assign(top + 1, kNoNode);
    for (NodeId id : ids_) identity_[id] = id;
    anonymous_.assign(top + 1, kNoNode);
    symmetric_ = options.symmetry && options.setup.engine == McEngine::kRaft && ids_.size() > 1;
    std::vector<NodeId> permutation = ids_;
    do {
      std::vector<NodeId> renaming(top + 1, kNoNode);
      for (size_t i = 0; i < ids_.size(); ++i) renaming[ids_[i]] = permutation[i];
      renamings_.push_back(std::move(renaming));
    } while (symmetric_ && std::next_permutation(permutation.begin(), permutation.end()));
  }

  McResult run() {
    McState root;
    root.cluster = options_.setup.make_cluster();
    std::string violation =
        check_state(options_.setup.engine, *root.cluster, root.ghost, snapshot_nodes(*root.cluster), nullptr);
    if (!violation.empty()) {
      result_.violation = violation;
      result_.counterexample.setup = options_.setup;
      return finish();
    }
    if (options_.depth_first) {
      depth_first(std::move(root));
    } else {
      breadth_first(std::move(root));
    }
    return finish();
  }

 private:
  static std::vector<NodeId> ids_of(size_t nodes) {
    std::vector<NodeId> ids(nodes);
    std::iota(ids.begin(), ids.end(), NodeId{1});
    return ids;
  }

  McResult finish() {
    result_.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    return result_;
  }

  void maybe_report() {
    if (!options_.progress || (result_.transitions & 1023U) != 0) return;
    auto now = std::chrono::steady_clock::now();
    if (now - last_report_ < std::chrono::seconds(1)) return;
    last_report_ = now;
    result_.seconds = std::chrono::duration<double>(now - start_).count();
    options_.progress(result_);
  }

  static void encode_node(const sim::Cluster& cluster, NodeId id, StateEncoder& out) {
    bool up = cluster.is_up(id);
    out.flag(up);
    if (up) cluster.engine(id).encode_state(out);
    const DurableState& durable = cluster.store(id).state();
    out.u64(durable.hard_state.term);
    out.node(durable.hard_state.vote);
    out.u64(durable.hard_state.commit);
    out.u64(durable.entries.size());
    for (const Entry& entry : durable.entries) out.entry(entry);
    out.flag(durable.snapshot != nullptr);
    if (durable.snapshot) out.snapshot_meta(durable.snapshot->meta);
    out.u64(cluster.state_machine(id).applied_index());
    out.u64(cluster.state_machine(id).chain_hash());
  }

  void encode(const McState& state, const std::vector<NodeId>& renaming, StateEncoder& out) const {
    const sim::Cluster& cluster = *state.cluster;
    out.sorted_by_node(cluster.ids(), [&](NodeId id) { encode_node(cluster, id, out); });
    // The network is a multiset: its messages in a canonical order.
    std::vector<std::string> messages;
    messages.reserve(cluster.in_flight().size());
    for (const Message& message : cluster.in_flight()) {
      StateEncoder one(renaming);
      one.message(message);
      messages.push_back(one.take());
    }
    std::sort(messages.begin(), messages.end());
    out.u64(messages.size());
    for (const std::string& message : messages) out.bytes(message);
    state.ghost.encode(out);
  }

  static uint64_t hash(const StateEncoder& out) { return std::hash<std::string_view>{}(out.data()); }

  // The least hash over every renaming of ids, so that symmetric states share one fingerprint. Only
  // renamings that keep the nodes in the order of their id-free encodings can give the least canonical
  // form's competitors, and that order is itself the same for symmetric states: trying only those is
  // as canonical as trying all, and usually one is left.
  uint64_t fingerprint(const McState& state) const {
    if (!symmetric_) {
      StateEncoder out(identity_);
      encode(state, identity_, out);
      return hash(out);
    }
    std::vector<std::string> signature(ids_.size());
    for (size_t i = 0; i < ids_.size(); ++i) {
      StateEncoder out(anonymous_);
      encode_node(*state.cluster, ids_[i], out);
      signature[i] = out.take();
    }
    uint64_t best = UINT64_MAX;
    for (const std::vector<NodeId>& renaming : renamings_) {
      bool keeps_order = true;
      for (size_t i = 0; i < ids_.size() && keeps_order; ++i) {
        for (size_t j = 0; j < ids_.size() && keeps_order; ++j) {
          if (signature[i] < signature[j] && renaming[ids_[i]] > renaming[ids_[j]]) keeps_order = false;
        }
      }
      if (!keeps_order) continue;
      StateEncoder out(renaming);
      encode(state, renaming, out);
      best = std::min(best, hash(out));
    }
    return best;
  }

  std::vector<McStep> steps(const McState& state) const {
    const sim::Cluster& cluster = *state.cluster;
    const McBounds& bounds = options_.bounds;
    std::vector<McStep> out;
    // Identical messages in flight lead to the same states: one position for each.
    std::set<std::string> seen;
    for (size_t p = 0; p < cluster.in_flight().size(); ++p) {
      StateEncoder one;
      one.message(cluster.in_flight()[p]);
      if (!seen.insert(one.take()).second) continue;
      auto position = static_cast<uint32_t>(p);
      out.push_back({McStep::Kind::kDeliver, position, 0});
      out.push_back({McStep::Kind::kDrop, position, 0});
      if (state.ghost.duplicates < bounds.duplicates) out.push_back({McStep::Kind::kDuplicate, position, 0});
    }
    for (NodeId node : cluster.ids()) {
      if (!cluster.is_up(node)) continue;
      auto id = static_cast<uint32_t>(node);
      out.push_back({McStep::Kind::kTimeout, id, 0});
      bool leads = cluster.engine(id).status().role == Role::kLeader;
      if (leads && state.ghost.proposals < bounds.proposals)
        out.push_back({McStep::Kind::kPropose, id, state.ghost.proposals + 1});
      if (leads && state.ghost.reads_asked < bounds.reads)
        out.push_back({McStep::Kind::kRead, id, state.ghost.reads_asked + 1});
      if (state.ghost.restarts < bounds.restarts) out.push_back({McStep::Kind::kRestart, id, 0});
    }
    return out;
  }

  enum class Outcome : uint8_t { kNew, kNotApplicable, kPruned, kViolation };

  Outcome successor(const McState& from, const McStep& step, McState& to, std::string& violation) const {
    to.cluster = from.cluster->clone();
    to.ghost = from.ghost;
    std::vector<McNodeBefore> before = snapshot_nodes(*to.cluster);
    if (!apply_step(*to.cluster, step)) return Outcome::kNotApplicable;
    to.ghost.spend(step);
    // Violations first: a state just past a bound is as real as any.
    violation = check_state(options_.setup.engine, *to.cluster, to.ghost, before, &step);
    if (!violation.empty()) return Outcome::kViolation;
    const McBounds& bounds = options_.bounds;
    if (to.cluster->in_flight().size() > bounds.max_in_flight) return Outcome::kPruned;
    for (NodeId id : to.cluster->ids()) {
      if (!to.cluster->is_up(id)) continue;
      EngineStatus status = to.cluster->engine(id).status();
      uint64_t round =
          options_.setup.engine == McEngine::kMultiPaxos ? paxos::ballot_round(status.term) : status.term;
      if (round > bounds.max_term || status.last_index > bounds.max_log) return Outcome::kPruned;
    }
    return Outcome::kNew;
  }

  // Takes `step` from `from` into `to` and counts it. On a violation result_ holds it (the caller adds
  // the path that led there).
  Outcome take(const McState& from, const McStep& step, McState& to) {
    std::string violation;
    Outcome outcome = successor(from, step, to, violation);
    if (outcome == Outcome::kNotApplicable) return outcome;
    ++result_.transitions;
    maybe_report();
    if (outcome == Outcome::kViolation) {
      result_.violation = violation;
      result_.counterexample.setup = options_.setup;
    }
    if (outcome == Outcome::kPruned) ++result_.pruned;
    return outcome;
  }

  bool state_limit_reached() const {
    return options_.max_states != 0 && result_.distinct_states >= options_.max_states;
  }

  void breadth_first(McState root) {
    std::unordered_map<uint64_t, Parent> parents;
    uint64_t root_print = fingerprint(root);
    parents.emplace(root_print, Parent{0, {}, true});
    result_.distinct_states = 1;
    std::vector<std::pair<uint64_t, std::unique_ptr<McState>>> frontier;
    frontier.emplace_back(root_print, std::make_unique<McState>(std::move(root)));
    size_t depth = 0;
    while (!frontier.empty()) {
      if (options_.max_depth != 0 && depth >= options_.max_depth) {
        result_.depth_limited = true;
        return;
      }
      std::vector<std::pair<uint64_t, std::unique_ptr<McState>>> next;
      for (auto& [print, state] : frontier) {
        for (const McStep& step : steps(*state)) {
          auto child = std::make_unique<McState>();
          Outcome outcome = take(*state, step, *child);
          if (outcome == Outcome::kViolation) {
            std::vector<McStep> path{step};
            for (uint64_t at = print; !parents.at(at).root; at = parents.at(at).parent)
              path.push_back(parents.at(at).step);
            std::reverse(path.begin(), path.end());
            result_.counterexample.steps = std::move(path);
            result_.max_depth = depth + 1;
            return;
          }
          if (outcome != Outcome::kNew) continue;
          uint64_t child_print = fingerprint(*child);
          if (!parents.emplace(child_print, Parent{print, step, false}).second) continue;
          ++result_.distinct_states;
          result_.max_depth = depth + 1;
          if (state_limit_reached()) return;
          next.emplace_back(child_print, std::move(child));
        }
        state.reset();  // explored: its memory goes back before the next level grows
      }
      frontier = std::move(next);
      ++depth;
    }
    result_.exhausted = true;
  }

  void depth_first(McState root) {
    struct Frame {
      std::unique_ptr<McState> state;
      std::vector<McStep> steps;
      size_t next = 0;
      McStep via;  // the step that led here
    };
    size_t limit = options_.max_depth != 0 ? options_.max_depth : kDefaultDepthFirstLimit;
    std::unordered_map<uint64_t, bool> seen;
    seen.emplace(fingerprint(root), true);
    result_.distinct_states = 1;
    std::vector<Frame> stack;
    auto root_state = std::make_unique<McState>(std::move(root));
    std::vector<McStep> root_steps = steps(*root_state);
    stack.push_back(Frame{std::move(root_state), std::move(root_steps), 0, {}});
    while (!stack.empty()) {
      Frame& top = stack.back();
      if (top.next == top.steps.size()) {
        stack.pop_back();
        continue;
      }
      McStep step = top.steps[top.next++];
      auto child = std::make_unique<McState>();
      Outcome outcome = take(*top.state, step, *child);
      if (outcome == Outcome::kViolation) {
        for (size_t i = 1; i < stack.size(); ++i) result_.counterexample.steps.push_back(stack[i].via);
        result_.counterexample.steps.push_back(step);
        return;
      }
      if (outcome != Outcome::kNew) continue;
      if (!seen.emplace(fingerprint(*child), true).second) continue;
      ++result_.distinct_states;
      if (state_limit_reached()) return;
      if (stack.size() >= limit) {
        result_.depth_limited = true;
        continue;
      }
      result_.max_depth = std::max(result_.max_depth, stack.size());
      std::vector<McStep> child_steps = steps(*child);
      stack.push_back(Frame{std::move(child), std::move(child_steps), 0, step});
    }
    result_.exhausted = !result_.depth_limited;
  }

  const McOptions& options_;
  std::vector<NodeId> ids_;
  std::vector<NodeId> identity_;
  std::vector<NodeId> anonymous_;  // every id written as kNoNode
  bool symmetric_ = false;
  std::vector<std::vector<NodeId>> renamings_;
  McResult result_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_report_;
};

}  // namespace

McResult model_check(const McOptions& options) {
  return Explorer(options).run();
}

std::string replay(const McTrace& trace, std::string* out) {
  std::unique_ptr<sim::Cluster> cluster = trace.setup.make_cluster();
  InvariantChecker checker(40,
                           trace.setup.engine == McEngine::kRaft ? Protocol::kRaft : Protocol::kMultiPaxos);
  cluster->set_observer(&checker);
  McGhost ghost;
  std::ostringstream log;
  auto result = [&](const std::string& violation) {
    if (out != nullptr) *out = log.str();
    return violation;
  };
  std::string violation = check_state(trace.setup.engine, *cluster, ghost, snapshot_nodes(*cluster), nullptr);
  log << "initial state:\n" << cluster->describe();
  for (size_t i = 0; i < trace.steps.size() && violation.empty(); ++i) {
    const McStep& step = trace.steps[i];
    std::vector<McNodeBefore> before = snapshot_nodes(*cluster);
    std::string what;
    if (step.kind == McStep::Kind::kDeliver || step.kind == McStep::Kind::kDrop ||
        step.kind == McStep::Kind::kDuplicate) {
      if (step.arg < cluster->in_flight().size())
        what = "  (" + cluster->in_flight()[step.arg].describe() + ")";
    }
    if (!apply_step(*cluster, step)) {
      log << (i + 1) << ". " << step.to_string() << ": does not apply here\n";
      return result("step " + std::to_string(i + 1) + " (" + step.to_string() +
                    ") does not apply: the trace does not fit this build or setup");
    }
    ghost.spend(step);
    violation = check_state(trace.setup.engine, *cluster, ghost, before, &step);
    log << (i + 1) << ". " << step.to_string() << what << '\n'
        << cluster->describe() << "  in flight: " << cluster->in_flight().size() << '\n';
  }
  checker.check_all(*cluster);
  if (violation.empty() && !checker.ok()) violation = "InvariantChecker: " + checker.violation();
  if (!violation.empty()) {
    log << "violation: " << violation << '\n';
    if (!checker.ok())
      log << "check::InvariantChecker agrees: " << checker.violation().substr(0, 200) << '\n';
  } else {
    log << "no violation\n";
  }
  return result(violation);
}

Result<std::string> replay_file(const std::string& path, std::string* out) {
  std::ifstream in(path);
  if (!in) return Status(ErrorCode::kNotFound, "cannot read replay file " + path);
  std::stringstream text;
  text << in.rdbuf();
  Result<McTrace> trace = McTrace::parse(text.str());
  if (!trace.is_ok()) return trace.status();
  return replay(trace.value(), out);
}

}  // namespace synod::check
