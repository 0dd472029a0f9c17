#include "check/model_checker.h"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <memory>
#include <sstream>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace synod::check {
namespace {

constexpr size_t kDefaultDepthFirstLimit = 200;

struct Parent {
  uint64_t parent = 0;
  McStep step;
  bool root = false;
};

class Explorer {
 public:
  explicit Explorer(const McOptions& options)
      : options_(options), root_(make_world(options.setup)), start_(std::chrono::steady_clock::now()) {
    ids_ = root_->ids();
    NodeId top = ids_.back();
    identity_.assign(top + 1, kNoNode);
    for (NodeId id : ids_) identity_[id] = id;
    anonymous_.assign(top + 1, kNoNode);
    symmetric_ = options.symmetry && root_->symmetric() && ids_.size() > 1;
    std::vector<NodeId> permutation = ids_;
    do {
      std::vector<NodeId> renaming(top + 1, kNoNode);
      for (size_t i = 0; i < ids_.size(); ++i) renaming[ids_[i]] = permutation[i];
      renamings_.push_back(std::move(renaming));
    } while (symmetric_ && std::next_permutation(permutation.begin(), permutation.end()));
  }

  McResult run() {
    std::string violation = root_->check_initial();
    if (!violation.empty()) {
      result_.violation = violation;
      result_.counterexample.setup = options_.setup;
      return finish();
    }
    if (options_.depth_first) {
      depth_first(std::move(root_));
    } else {
      breadth_first(std::move(root_));
    }
    return finish();
  }

 private:
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

  static uint64_t hash(const StateEncoder& out) { return std::hash<std::string_view>{}(out.data()); }

  // The least hash over every renaming of ids, so that symmetric states share one fingerprint. Only
  // renamings that keep the nodes in the order of their id-free encodings can give the least canonical
  // form's competitors, and that order is itself the same for symmetric states: trying only those is
  // as canonical as trying all, and usually one is left.
  uint64_t fingerprint(const McWorld& state) const {
    if (!symmetric_) {
      StateEncoder out(identity_);
      out.set_timed(options_.setup.timed);
      state.encode(out);
      return hash(out);
    }
    std::vector<std::string> signature(ids_.size());
    for (size_t i = 0; i < ids_.size(); ++i) {
      StateEncoder out(anonymous_);
      out.set_timed(options_.setup.timed);
      state.encode_node(ids_[i], out);
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
      out.set_timed(options_.setup.timed);
      state.encode(out);
      best = std::min(best, hash(out));
    }
    return best;
  }

  enum class Outcome : uint8_t { kNew, kNotApplicable, kPruned, kViolation };

  Outcome successor(const McWorld& from, const McStep& step, std::unique_ptr<McWorld>& to,
                    std::string& violation) const {
    to = from.clone();
    if (!to->take(step, violation)) return Outcome::kNotApplicable;
    // Violations first: a state just past a bound is as real as any.
    if (!violation.empty()) return Outcome::kViolation;
    return to->past_bounds(options_.bounds) ? Outcome::kPruned : Outcome::kNew;
  }

  // Takes `step` from `from` into `to` and counts it. On a violation result_ holds it (the caller adds
  // the path that led there).
  Outcome take(const McWorld& from, const McStep& step, std::unique_ptr<McWorld>& to) {
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

  void breadth_first(std::unique_ptr<McWorld> root) {
    std::unordered_map<uint64_t, Parent> parents;
    uint64_t root_print = fingerprint(*root);
    parents.emplace(root_print, Parent{0, {}, true});
    result_.distinct_states = 1;
    std::vector<std::pair<uint64_t, std::unique_ptr<McWorld>>> frontier;
    frontier.emplace_back(root_print, std::move(root));
    size_t depth = 0;
    while (!frontier.empty()) {
      if (options_.max_depth != 0 && depth >= options_.max_depth) {
        result_.depth_limited = true;
        return;
      }
      std::vector<std::pair<uint64_t, std::unique_ptr<McWorld>>> next;
      for (auto& [print, state] : frontier) {
        for (const McStep& step : state->steps(options_.bounds)) {
          std::unique_ptr<McWorld> child;
          Outcome outcome = take(*state, step, child);
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
          // try_emplace: most successors were seen before, and then nothing is allocated.
          if (!parents.try_emplace(child_print, Parent{print, step, false}).second) continue;
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

  void depth_first(std::unique_ptr<McWorld> root) {
    struct Frame {
      std::unique_ptr<McWorld> state;
      std::vector<McStep> steps;
      size_t next = 0;
      McStep via;  // the step that led here
    };
    size_t limit = options_.max_depth != 0 ? options_.max_depth : kDefaultDepthFirstLimit;
    std::unordered_set<uint64_t> seen;
    seen.insert(fingerprint(*root));
    result_.distinct_states = 1;
    std::vector<Frame> stack;
    std::vector<McStep> root_steps = root->steps(options_.bounds);
    stack.push_back(Frame{std::move(root), std::move(root_steps), 0, {}});
    while (!stack.empty()) {
      Frame& top = stack.back();
      if (top.next == top.steps.size()) {
        stack.pop_back();
        continue;
      }
      McStep step = top.steps[top.next++];
      std::unique_ptr<McWorld> child;
      Outcome outcome = take(*top.state, step, child);
      if (outcome == Outcome::kViolation) {
        for (size_t i = 1; i < stack.size(); ++i) result_.counterexample.steps.push_back(stack[i].via);
        result_.counterexample.steps.push_back(step);
        return;
      }
      if (outcome != Outcome::kNew) continue;
      if (!seen.insert(fingerprint(*child)).second) continue;
      ++result_.distinct_states;
      if (state_limit_reached()) return;
      if (stack.size() >= limit) {
        result_.depth_limited = true;
        continue;
      }
      result_.max_depth = std::max(result_.max_depth, stack.size());
      std::vector<McStep> child_steps = child->steps(options_.bounds);
      stack.push_back(Frame{std::move(child), std::move(child_steps), 0, step});
    }
    result_.exhausted = !result_.depth_limited;
  }

  const McOptions& options_;
  std::unique_ptr<McWorld> root_;
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
  std::unique_ptr<McWorld> world = make_world(trace.setup);
  world->attach_second_opinion();
  std::ostringstream log;
  auto result = [&](const std::string& violation) {
    if (out != nullptr) *out = log.str();
    return violation;
  };
  std::string violation = world->check_initial();
  log << "initial state:\n" << world->describe();
  for (size_t i = 0; i < trace.steps.size() && violation.empty(); ++i) {
    const McStep& step = trace.steps[i];
    std::string what = world->describe_step(step);
    if (!what.empty()) what = "  (" + what + ")";
    if (!world->take(step, violation)) {
      log << (i + 1) << ". " << step.to_string() << ": does not apply here\n";
      return result("step " + std::to_string(i + 1) + " (" + step.to_string() +
                    ") does not apply: the trace does not fit this build or setup");
    }
    log << (i + 1) << ". " << step.to_string() << what << '\n' << world->describe();
  }
  std::string second = world->second_opinion();
  if (violation.empty() && !second.empty()) violation = "InvariantChecker: " + second;
  if (!violation.empty()) {
    log << "violation: " << violation << '\n';
    if (!second.empty()) log << "check::InvariantChecker agrees: " << second.substr(0, 200) << '\n';
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
