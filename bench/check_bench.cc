// Benchmarks of the linearizability checker (check/linearizability.h) and the history reader, on
// histories that look like a simulator's: clients issue one operation at a time, each takes effect at a
// random point inside its [call, return] interval, and outputs come from a sequential key-value map run in
// that order, so every history is linearizable unless a benchmark breaks it on purpose. What they measure
// and the latest numbers: docs/benchmarks.md, "Linearizability checker".
//
// Every benchmark checks the verdict it timed and reports an error through SkipWithError otherwise.
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "base/random.h"
#include "check/history.h"
#include "check/linearizability.h"

namespace synod::check {
namespace {

// Histories per benchmark, each from its own seed; every iteration checks all of them.
constexpr uint64_t kSeeds = 8;

struct Workload {
  int64_t operations = 0;
  int64_t keys = 1;
  int64_t clients = 1;
  int64_t unknown_percent = 0;  // of operations whose outcome the client never learned
};

// One client's operations follow each other: think 0-20 time units, then an operation lasting 1-100.
// Mix: 50% get, 25% put, 5% delete, 20% cas. Every write has a unique value; a cas expects one of the last
// three values written to its key, so some match and some do not. An operation of unknown outcome takes
// effect (at any time up to two durations after its call) half of the time.
History simulated_history(const Workload& workload, uint64_t seed) {
  Random random(seed);
  std::vector<int64_t> client_free(static_cast<size_t>(workload.clients), 0);
  std::map<std::string, std::vector<std::string>> recent;  // key -> values written, newest last
  History history;
  std::vector<std::optional<int64_t>> points;
  uint64_t next_value = 0;
  for (int64_t i = 0; i < workload.operations; ++i) {
    Operation op;
    op.client = static_cast<int64_t>(random.uniform(static_cast<uint64_t>(workload.clients)));
    op.key = "key" + std::to_string(random.uniform(static_cast<uint64_t>(workload.keys)));
    uint64_t roll = random.uniform(100);
    op.kind = roll < 50   ? OpKind::kGet
              : roll < 75 ? OpKind::kPut
              : roll < 80 ? OpKind::kDelete
                          : OpKind::kCas;
    std::vector<std::string>& written = recent[op.key];
    if (op.kind == OpKind::kCas) {
      op.expect = written.empty()
                      ? "none"
                      : written[written.size() - 1 - random.uniform(std::min<size_t>(3, written.size()))];
    }
    if (op.kind == OpKind::kPut || op.kind == OpKind::kCas) {
      op.value = "v" + std::to_string(next_value++);
      written.push_back(op.value);
    }
    int64_t& free_at = client_free[static_cast<size_t>(op.client)];
    op.call = free_at + static_cast<int64_t>(random.uniform(21));
    auto duration = static_cast<int64_t>(random.between(1, 100));
    op.return_time = op.call + duration;
    free_at = *op.return_time;
    std::optional<int64_t> point;
    if (random.uniform(100) < static_cast<uint64_t>(workload.unknown_percent)) {
      op.status = OpStatus::kUnknown;
      if (random.chance(1, 2))
        point = op.call + static_cast<int64_t>(random.uniform(2 * static_cast<uint64_t>(duration)));
      if (random.chance(1, 2)) op.return_time.reset();
    } else {
      point = op.call + static_cast<int64_t>(random.uniform(static_cast<uint64_t>(duration) + 1));
    }
    history.push_back(op);
    points.push_back(point);
  }
  std::vector<size_t> order;
  for (size_t i = 0; i < history.size(); ++i) {
    if (points[i]) order.push_back(i);
  }
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return *points[a] < *points[b]; });
  std::map<std::string, std::optional<std::string>> store;
  for (size_t index : order) {
    Operation& op = history[index];
    std::optional<std::string>& value = store[op.key];
    bool ok = op.status == OpStatus::kOk;
    switch (op.kind) {
      case OpKind::kGet:
        if (ok) op.read = value;
        break;
      case OpKind::kPut: value = op.value; break;
      case OpKind::kDelete: value.reset(); break;
      case OpKind::kCas:
        if (ok) op.cas_succeeded = value && *value == op.expect;
        if (value && *value == op.expect) value = op.value;
        break;
    }
  }
  return history;
}

// Turns the history stale: a get in its second half reads the value of the first put, which was
// overwritten long before. Returns false if there is no such get.
bool inject_stale_read(History* history) {
  auto first_put = std::find_if(history->begin(), history->end(), [](const Operation& op) {
    return op.kind == OpKind::kPut && op.status == OpStatus::kOk;
  });
  if (first_put == history->end()) return false;
  for (size_t i = history->size() / 2; i < history->size(); ++i) {
    Operation& op = (*history)[i];
    if (op.kind == OpKind::kGet && op.status == OpStatus::kOk && op.key == first_put->key &&
        op.call > *first_put->return_time + 1000 && op.read != first_put->value) {
      op.read = first_put->value;
      return true;
    }
  }
  return false;
}

Workload workload_of(const benchmark::State& state) {
  return Workload{state.range(0), state.range(1), state.range(2), state.range(3)};
}

// Each iteration checks every history once. Counters: the mean and the slowest check of one history
// (milliseconds, wall clock), and the configurations the search cached per history.
void run_checks(benchmark::State& state, const std::vector<History>& histories, Verdict expected) {
  using Clock = std::chrono::steady_clock;
  uint64_t configurations = 0;
  double total_ms = 0;
  double slowest_ms = 0;
  for (auto _ : state) {
    for (size_t k = 0; k < histories.size(); ++k) {
      Clock::time_point start = Clock::now();
      CheckResult result = check_linearizability(histories[k]);
      double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
      total_ms += ms;
      slowest_ms = std::max(slowest_ms, ms);
      if (result.verdict != expected) {
        state.SkipWithError(("seed " + std::to_string(k + 1) + ": " +
                             std::string(verdict_name(result.verdict)) + ", expected " +
                             std::string(verdict_name(expected)))
                                .c_str());
        return;
      }
      configurations += result.stats.configurations;
    }
  }
  auto checks = static_cast<double>(state.iterations() * histories.size());
  state.counters["ms_mean"] = total_ms / checks;
  state.counters["ms_slowest"] = slowest_ms;
  state.counters["configs"] = static_cast<double>(configurations) / checks;
}

// A whole check of a linearizable history: partitioning, building each key's model, the search.
void BM_CheckLinearizable(benchmark::State& state) {
  std::vector<History> histories;
  for (uint64_t seed = 1; seed <= kSeeds; ++seed)
    histories.push_back(simulated_history(workload_of(state), seed));
  run_checks(state, histories, Verdict::kLinearizable);
}
// The two targets: 10,000 operations over 100 keys with 20 clients (< 1 s), and 1,000 operations
// on one key with 10 clients and some unknown outcomes (< 5 s).
BENCHMARK(BM_CheckLinearizable)
    ->ArgNames({"ops", "keys", "clients", "unknown_pct"})
    ->Args({10000, 100, 20, 0})
    ->Args({10000, 100, 20, 5})
    ->Args({1000, 1, 10, 0})
    ->Args({1000, 1, 10, 5})
    ->Args({1000, 1, 10, 10})
    ->Args({1000, 1, 20, 5})
    ->Args({1000, 1, 30, 5})
    ->Args({10000, 1, 10, 5})
    ->Unit(benchmark::kMillisecond);

// Proving a violation: the same histories with one stale read injected in the second half, so the search
// must exhaust every order of the first half of the offending key's history.
void BM_CheckStaleRead(benchmark::State& state) {
  std::vector<History> histories;
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    History history = simulated_history(workload_of(state), seed);
    if (!inject_stale_read(&history)) {
      state.SkipWithError("no read to make stale");
      return;
    }
    histories.push_back(std::move(history));
  }
  run_checks(state, histories, Verdict::kNotLinearizable);
}
BENCHMARK(BM_CheckStaleRead)
    ->ArgNames({"ops", "keys", "clients", "unknown_pct"})
    ->Args({10000, 100, 20, 0})
    ->Args({1000, 1, 10, 0})
    ->Args({1000, 1, 10, 5})
    ->Unit(benchmark::kMillisecond);

// Reading the JSON Lines text of a history (parse and validate, no check).
void BM_ParseHistory(benchmark::State& state) {
  std::ostringstream text;
  write_history(text, simulated_history(Workload{state.range(0), 100, 20, 5}, 1));
  std::string document = text.str();
  for (auto _ : state) {
    Result<History> history = parse_history(document);
    if (!history.is_ok()) {
      state.SkipWithError(history.status().to_string().c_str());
      return;
    }
    benchmark::DoNotOptimize(history.value().data());
  }
  state.counters["ops/s"] = benchmark::Counter(static_cast<double>(state.iterations() * state.range(0)),
                                               benchmark::Counter::kIsRate);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * document.size()));
}
BENCHMARK(BM_ParseHistory)->ArgName("ops")->Arg(10000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace synod::check
