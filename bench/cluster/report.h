// What a run measured, printed for people (a summary table) and for scripts (--json).
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <string>

#include "bench/cluster/bench_options.h"
#include "bench/cluster/histogram.h"

namespace synod::bench {

struct Report {
  const BenchOptions* options = nullptr;
  std::string server_version;
  uint64_t ops = 0;
  double seconds = 0;
  Histogram latency;
  std::map<std::string, uint64_t> errors;
  // Workload-specific; zero where they do not apply.
  uint64_t cas_won = 0;
  uint64_t cas_lost = 0;
  uint64_t watch_puts = 0;
  uint64_t watch_events = 0;

  uint64_t error_count() const;
  double throughput() const { return seconds > 0 ? static_cast<double>(ops) / seconds : 0; }
};

void print_summary(std::FILE* out, const Report& report);
void print_json(std::FILE* out, const Report& report);

}  // namespace synod::bench
