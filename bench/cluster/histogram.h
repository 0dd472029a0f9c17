// A latency histogram with bounded relative error, for the cluster load generator.
//
// Log-linear buckets (the HdrHistogram idea): values below 2^kSubBits nanoseconds get a bucket each, and
// every power of two above is split into 2^kSubBits equal buckets, so a recorded value is known to within
// 1/2^kSubBits (0.8 %) whatever its size, in a fixed 60 KiB table. One histogram per driver thread, merged
// at the end, so recording takes no lock.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace synod::bench {

class Histogram {
 public:
  static constexpr int kSubBits = 7;

  void record(uint64_t nanos);
  void merge(const Histogram& other);

  uint64_t count() const { return count_; }
  uint64_t min() const { return count_ == 0 ? 0 : min_; }
  uint64_t max() const { return max_; }
  double mean() const { return count_ == 0 ? 0 : static_cast<double>(sum_) / static_cast<double>(count_); }
  // The value at or below which `fraction` (0..1) of the recorded values lie, to within the bucket error.
  uint64_t at(double fraction) const;
  // (value, fraction of values at or below it) at every non-empty bucket, thinned to about `points`.
  std::vector<std::pair<uint64_t, double>> cdf(size_t points) const;

 private:
  static constexpr size_t kBuckets = (64 - kSubBits + 1) << kSubBits;
  static size_t bucket_of(uint64_t nanos);
  // The middle of a bucket's range: what a value in it is reported as.
  static uint64_t value_of(size_t bucket);

  std::array<uint64_t, kBuckets> buckets_{};
  uint64_t count_ = 0;
  uint64_t sum_ = 0;
  uint64_t min_ = UINT64_MAX;
  uint64_t max_ = 0;
};

}  // namespace synod::bench
