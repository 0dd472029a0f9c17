// The disk's own floor: how long one small append plus fdatasync takes on the data directory's disk,
// measured the way a write-ahead log does it (into preallocated space, so only data is flushed).
#pragma once

#include "bench/cluster/bench_options.h"
#include "bench/cluster/histogram.h"

namespace synod::bench {

struct FsyncResult {
  Histogram latency;
  uint64_t ops = 0;
  double seconds = 0;
  std::string error;  // why the run could not be made, if it could not
};

FsyncResult run_fsync(const BenchOptions& options);

}  // namespace synod::bench
