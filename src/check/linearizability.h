// Linearizability checker for key-value histories (check/history.h) against a sequential key-value map
// that starts empty: get reads a key (absent or a value), put writes it, delete removes it, and cas writes
// `value` only if the key currently holds exactly `expect` (an absent key fails the compare).
//
// How it decides:
//   - Linearizability is compositional (Herlihy and Wing, 1990), so each key is checked on its own.
//   - Per key, Wing and Gong's search (1993) as improved by Lowe (2017): operations sit in a list of call
//     and return events ordered by time; an operation may be linearized next if it was called before the
//     earliest return among the operations still pending. Depth-first, with a cache of configurations
//     (the set of linearized operations as a bitset, and the model state) so that no configuration is
//     explored twice.
//   - Operations of unknown outcome may be linearized at any point after their call, or never: they have
//     no return event, never block another operation, and the search succeeds once every ok operation is
//     linearized. A configuration is also skipped when one with the same ok operations and state but a
//     subset of the unknown ones was already seen (having more unknown operations left to use can only
//     help), which keeps a few unknown writes from multiplying the search. And an unknown write is only
//     placed right before an operation that reads what it wrote: one followed by another write could be
//     left out, as nothing saw it.
//   - Failed operations took no effect and are left out, as are gets of unknown outcome (they observed
//     nothing and changed nothing).
//   - Time order: A precedes B only if A's return is strictly before B's call; equal times overlap.
//
// When a key is not linearizable the result keeps the longest partial linearization the search found
// (the most ok operations it could order) and the window where it got stuck: the operations that could
// have gone next there, none of which the state allows.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "check/history.h"

namespace synod::check {

enum class Verdict : uint8_t {
  kLinearizable,
  kNotLinearizable,
  kUndecided,  // a limit (time, memory) stopped the search before every key was decided, none proven bad
  kMalformed,  // the history breaks the format's rules (see validate_operation)
};

std::string_view verdict_name(Verdict verdict);  // "linearizable", "not linearizable", ...

struct CheckOptions {
  // Give up after this long (wall clock) and answer kUndecided. No limit if unset.
  std::optional<std::chrono::steady_clock::duration> timeout;
  // Give up (kUndecided) when one key's cache of explored configurations grows past about this much.
  size_t memory_bytes_max = size_t{2} << 30U;
};

// Why one key is not linearizable. Operations are named by their index in the history.
struct Counterexample {
  std::string key;
  // The longest partial linearization found, in order; it may include operations of unknown outcome.
  std::vector<size_t> partial;
  // The key's value after `partial` (nullopt: absent).
  std::optional<std::string> stuck_value;
  // The ok operations that could have been linearized next (called before `frontier` returned), and
  // `frontier` itself, the pending ok operation that returned first: none is possible in `stuck_value`.
  std::vector<size_t> window;
  size_t frontier = 0;
  // Operations of unknown outcome that could also have gone there; linearizing them did not help.
  std::vector<size_t> pending_unknown;
};

struct CheckStats {
  size_t operations = 0;        // in the history, all statuses
  size_t keys = 0;              // distinct keys
  size_t keys_checked = 0;      // keys decided before the result (all of them unless bad or out of time)
  uint64_t configurations = 0;  // cached configurations, summed over keys
  double seconds = 0;
};

struct CheckResult {
  Verdict verdict = Verdict::kLinearizable;
  // kNotLinearizable: the key and why. kUndecided: the key being searched when time ran out.
  std::string key;
  std::optional<Counterexample> counterexample;
  // kMalformed: what is wrong ("line 7: ..." when the operation came from a file). kUndecided: which
  // limit stopped the search ("ran out of time").
  std::string message;
  CheckStats stats;
};

CheckResult check_linearizability(const History& history, const CheckOptions& options = {});

// A readable report: the verdict; for kNotLinearizable the key, the stuck window with each operation's
// call and return times and why it cannot go next, and the partial linearization (its last
// `partial_lines_max` steps).
std::string describe_result(const CheckResult& result, const History& history, size_t partial_lines_max = 20);

}  // namespace synod::check
