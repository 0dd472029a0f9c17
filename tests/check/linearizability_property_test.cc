// The checker against random histories (RapidCheck). Histories are made by running the sequential
// key-value model with random concurrency: every operation gets a linearization point inside its
// [call, return] interval (unknown ones anywhere after their call, or none), and outputs come from running
// the model in point order, so the history is linearizable by construction. Mutations then break it
// (often, not always). On small histories every verdict must agree exactly with a brute-force checker
// (brute_force.h); on larger ones the constructed histories must be accepted. Every counterexample must
// explain itself: its partial linearization is legal and no operation of its window can follow it.
#include <cstdint>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <rapidcheck.h>

#include "brute_force.h"
#include "check/linearizability.h"
#include "support/rapidcheck_gtest.h"

namespace synod::check::test {
namespace {

// RapidCheck scales even gen::inRange by the test size, which starts near 0; a fixed size keeps the early
// cases from being all alike. Both bounds are inclusive.
int draw(int low, int high) {
  return *rc::gen::resize(100, rc::gen::inRange(low, high + 1));
}

struct Shape {
  int ops_min = 1;
  int ops_max = 7;
  int clients_max = 3;
  int keys_max = 2;
  int values_max = 3;
  int unknown_percent = 20;  // and 10% fail
};

History linearizable_history(const Shape& shape) {
  int ops = draw(shape.ops_min, shape.ops_max);
  int clients = draw(1, shape.clients_max);
  int keys = draw(1, shape.keys_max);
  int values = draw(1, shape.values_max);
  std::vector<int64_t> client_free(static_cast<size_t>(clients), 0);
  History history;
  std::vector<std::optional<int64_t>> points;  // where each op takes effect, if it does
  for (int i = 0; i < ops; ++i) {
    Operation op;
    op.client = draw(0, clients - 1);
    int kind = draw(0, 9);
    op.kind = kind < 4 ? OpKind::kGet : kind < 6 ? OpKind::kPut : kind < 7 ? OpKind::kDelete : OpKind::kCas;
    op.key = "k" + std::to_string(draw(0, keys - 1));
    if (op.kind == OpKind::kPut || op.kind == OpKind::kCas)
      op.value = "v" + std::to_string(draw(0, values - 1));
    if (op.kind == OpKind::kCas) op.expect = "v" + std::to_string(draw(0, values - 1));
    // Clients are sequential: the next call is at or after the previous return (equal times overlap).
    int64_t& free_at = client_free[static_cast<size_t>(op.client)];
    op.call = free_at + draw(0, 3);
    int64_t duration = draw(0, 4);
    op.return_time = op.call + duration;
    free_at = *op.return_time;
    int status = draw(0, 99);
    std::optional<int64_t> point;
    if (status < 90 - shape.unknown_percent) {
      op.status = OpStatus::kOk;
      point = op.call + draw(0, static_cast<int>(duration));
    } else if (status < 90) {
      op.status = OpStatus::kUnknown;
      if (draw(0, 1) == 1) point = op.call + draw(0, 12);  // it took effect, maybe after it "returned"
      if (draw(0, 1) == 1) op.return_time.reset();
    } else {
      op.status = OpStatus::kFail;
    }
    history.push_back(op);
    points.push_back(point);
  }
  // Run the model in point order (ties by index: any order of equal points fits both intervals).
  std::multimap<std::pair<int64_t, size_t>, size_t> order;
  for (size_t i = 0; i < history.size(); ++i) {
    if (points[i]) order.emplace(std::make_pair(*points[i], i), i);
  }
  std::map<std::string, std::optional<std::string>> store;
  for (const auto& [when, index] : order) {
    Operation& op = history[index];
    std::optional<std::string>& value = store[op.key];
    switch (op.kind) {
      case OpKind::kGet:
        if (op.status == OpStatus::kOk) op.read = value;
        break;
      case OpKind::kPut: value = op.value; break;
      case OpKind::kDelete: value.reset(); break;
      case OpKind::kCas: {
        bool matches = value && *value == op.expect;
        if (op.status == OpStatus::kOk) op.cas_succeeded = matches;
        if (matches) value = op.value;
        break;
      }
    }
  }
  return history;
}

std::optional<std::string> some_value(int values) {
  int choice = draw(0, values);
  return choice == values ? std::nullopt : std::optional<std::string>("v" + std::to_string(choice));
}

// One random change: an output, a status, a time or a written value.
void mutate(History* history) {
  if (history->empty()) return;
  Operation& op = (*history)[static_cast<size_t>(draw(0, static_cast<int>(history->size()) - 1))];
  switch (draw(0, 5)) {
    case 0:
      if (op.kind == OpKind::kGet && op.status == OpStatus::kOk) op.read = some_value(3);
      break;
    case 1:
      if (op.kind == OpKind::kCas && op.status == OpStatus::kOk) op.cas_succeeded = !op.cas_succeeded;
      break;
    case 2: {
      Operation& other = (*history)[static_cast<size_t>(draw(0, static_cast<int>(history->size()) - 1))];
      if (op.kind == OpKind::kGet && other.kind == OpKind::kGet && op.status == OpStatus::kOk &&
          other.status == OpStatus::kOk) {
        std::swap(op.read, other.read);
      }
      break;
    }
    case 3:
      if (op.status != OpStatus::kOk) {
        op.status = OpStatus::kOk;
        if (!op.return_time) op.return_time = op.call + draw(0, 4);
        if (op.kind == OpKind::kGet) op.read = some_value(3);
        if (op.kind == OpKind::kCas) op.cas_succeeded = draw(0, 1) == 1;
      } else {
        op.status = draw(0, 1) == 1 ? OpStatus::kFail : OpStatus::kUnknown;
        op.read.reset();
      }
      break;
    case 4: {
      int64_t length = op.return_time ? *op.return_time - op.call : 0;
      op.call += draw(-6, 6);
      if (op.return_time) op.return_time = op.call + std::max<int64_t>(0, length + draw(-3, 3));
      break;
    }
    default:
      if (op.kind == OpKind::kPut || op.kind == OpKind::kCas) op.value = "v" + std::to_string(draw(0, 2));
      if (op.kind == OpKind::kCas && draw(0, 1) == 1) op.expect = "v" + std::to_string(draw(0, 2));
      break;
  }
}

std::string text_of(const History& history) {
  std::ostringstream out;
  write_history(out, history);
  return out.str();
}

// Mutates until something changed (most draws pick an op the chosen mutation does not apply to).
void mutate_once(History* history) {
  std::string before = text_of(*history);
  for (int tries = 0; tries < 20 && text_of(*history) == before; ++tries) mutate(history);
}

// The counterexample explains itself: its partial linearization is a legal sequential run that respects
// real time and leaves the key at stuck_value, and no operation of the window can follow it.
void check_counterexample(const History& history, const CheckResult& result) {
  RC_ASSERT(result.counterexample.has_value());
  const Counterexample& example = *result.counterexample;
  RC_ASSERT(example.key == result.key);
  RC_ASSERT(!example.window.empty());
  RC_ASSERT(brute_force_legal(history, example.partial));
  RC_ASSERT(brute_force_respects_real_time(history, example.partial));
  std::optional<std::string> value;
  for (size_t index : example.partial) {
    const Operation& op = history[index];
    RC_ASSERT(op.key == example.key);
    RC_ASSERT(op.status != OpStatus::kFail);
    if (op.kind == OpKind::kPut) value = op.value;
    if (op.kind == OpKind::kDelete) value.reset();
    if (op.kind == OpKind::kCas && value && *value == op.expect) value = op.value;
  }
  RC_ASSERT(value == example.stuck_value);
  bool frontier_in_window = false;
  for (size_t index : example.window) {
    RC_ASSERT(history[index].key == example.key);
    RC_ASSERT(history[index].status == OpStatus::kOk);
    std::vector<size_t> longer = example.partial;
    longer.push_back(index);
    RC_ASSERT(!brute_force_legal(history, longer));
    frontier_in_window = frontier_in_window || index == example.frontier;
  }
  RC_ASSERT(frontier_in_window);
  RC_ASSERT(!describe_result(result, history).empty());
}

using testing_support::expect_success;

template <typename Property>
rc::detail::TestResult check(const std::string& id, int cases, uint64_t seed, Property property) {
  return testing_support::check_property(id, cases, seed, property);
}

TEST(LinearizabilityProperty, agreesWithBruteForceOnSmallMutatedHistories) {
  constexpr int kCases = 3000;
  expect_success(
      check("small-mutated", kCases, 404,
            [] {
              History history = linearizable_history(Shape{});
              int mutations = draw(0, 3);
              for (int k = 0; k < mutations; ++k) mutate_once(&history);
              bool expected = brute_force_linearizable(history);
              CheckResult result = check_linearizability(history);
              RC_CLASSIFY(expected, "linearizable");
              RC_CLASSIFY(!expected, "not linearizable");
              RC_ASSERT(result.verdict == (expected ? Verdict::kLinearizable : Verdict::kNotLinearizable));
              if (!expected) check_counterexample(history, result);
            }),
      kCases);
}

TEST(LinearizabilityProperty, acceptsEveryHistoryBuiltFromTheSequentialModel) {
  constexpr int kCases = 400;
  expect_success(check("built-from-model", kCases, 505,
                       [] {
                         Shape shape{
                             .ops_min = 20, .ops_max = 200, .clients_max = 8, .keys_max = 3, .values_max = 6};
                         History history = linearizable_history(shape);
                         CheckResult result = check_linearizability(history);
                         RC_ASSERT(result.verdict == Verdict::kLinearizable);
                       }),
                 kCases);
}

// Long single-key histories where a third of the operations have unknown outcomes: the unknown and the
// linearized sets span several words of the cache's bitsets.
TEST(LinearizabilityProperty, acceptsLongHistoriesOfOneKeyWithManyUnknownOutcomes) {
  constexpr int kCases = 100;
  expect_success(check("one-key-many-unknown", kCases, 707,
                       [] {
                         Shape shape{.ops_min = 150,
                                     .ops_max = 300,
                                     .clients_max = 6,
                                     .keys_max = 1,
                                     .values_max = 8,
                                     .unknown_percent = 35};
                         History history = linearizable_history(shape);
                         CheckResult result = check_linearizability(history);
                         RC_ASSERT(result.verdict == Verdict::kLinearizable);
                       }),
                 kCases);
}

TEST(LinearizabilityProperty, explainsEveryRejectionOfALargerMutatedHistory) {
  constexpr int kCases = 400;
  expect_success(check("larger-mutated", kCases, 606,
                       [] {
                         Shape shape{
                             .ops_min = 10, .ops_max = 60, .clients_max = 5, .keys_max = 2, .values_max = 4};
                         History history = linearizable_history(shape);
                         mutate_once(&history);
                         CheckResult result = check_linearizability(history);
                         RC_CLASSIFY(result.verdict == Verdict::kNotLinearizable, "not linearizable");
                         RC_ASSERT(result.verdict != Verdict::kMalformed);
                         RC_ASSERT(result.verdict != Verdict::kUndecided);
                         if (result.verdict == Verdict::kNotLinearizable)
                           check_counterexample(history, result);
                       }),
                 kCases);
}

}  // namespace
}  // namespace synod::check::test
