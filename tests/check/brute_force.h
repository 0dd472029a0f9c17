// A brute-force linearizability checker for tiny histories, written to be obviously right rather than fast:
// it shares nothing with check/linearizability.cc but the Operation type. It tries every subset of the
// operations of unknown outcome together with every ok operation, in every order, over all keys at once
// (no partitioning), and accepts if one order respects real time and the sequential key-value map.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/assert.h"
#include "check/history.h"

namespace synod::check::test {

// More than this and the search takes too long for a unit test.
constexpr size_t kBruteForceOpsMax = 8;

// Real time: a may not come after b if b returned strictly before a was called. Operations of unknown
// outcome have no return that binds them (they may take effect at any time after their call).
inline bool brute_force_must_precede(const Operation& b, const Operation& a) {
  int64_t b_return = b.status == OpStatus::kOk ? *b.return_time : std::numeric_limits<int64_t>::max();
  return b_return < a.call;
}

// Runs `order` against a map that starts empty; false if some operation cannot return what it did.
inline bool brute_force_legal(const History& history, const std::vector<size_t>& order) {
  std::map<std::string, std::optional<std::string>> store;
  for (size_t index : order) {
    const Operation& op = history[index];
    std::optional<std::string>& value = store[op.key];
    bool ok = op.status == OpStatus::kOk;
    switch (op.kind) {
      case OpKind::kGet:
        if (ok && value != op.read) return false;
        break;
      case OpKind::kPut: value = op.value; break;
      case OpKind::kDelete: value.reset(); break;
      case OpKind::kCas: {
        bool matches = value.has_value() && *value == op.expect;
        if (ok && matches != op.cas_succeeded) return false;
        if (matches) value = op.value;
        break;
      }
    }
  }
  return true;
}

inline bool brute_force_respects_real_time(const History& history, const std::vector<size_t>& order) {
  for (size_t i = 0; i < order.size(); ++i) {
    for (size_t j = i + 1; j < order.size(); ++j) {
      if (brute_force_must_precede(history[order[j]], history[order[i]])) return false;
    }
  }
  return true;
}

// True if some order of the ok operations plus any subset of the unknown ones explains the history.
// Failed operations took no effect and are never placed.
inline bool brute_force_linearizable(const History& history) {
  SYNOD_ASSERT(history.size() <= kBruteForceOpsMax);
  std::vector<size_t> required;
  std::vector<size_t> optional;
  for (size_t index = 0; index < history.size(); ++index) {
    if (history[index].status == OpStatus::kOk) required.push_back(index);
    if (history[index].status == OpStatus::kUnknown) optional.push_back(index);
  }
  for (uint32_t subset = 0; subset < (1U << optional.size()); ++subset) {
    std::vector<size_t> order = required;
    for (size_t k = 0; k < optional.size(); ++k) {
      if ((subset >> k) & 1U) order.push_back(optional[k]);
    }
    std::sort(order.begin(), order.end());
    do {
      if (brute_force_respects_real_time(history, order) && brute_force_legal(history, order)) return true;
    } while (std::next_permutation(order.begin(), order.end()));
  }
  return false;
}

}  // namespace synod::check::test
