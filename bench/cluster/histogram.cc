#include "bench/cluster/histogram.h"

#include <algorithm>
#include <bit>

namespace synod::bench {

size_t Histogram::bucket_of(uint64_t nanos) {
  constexpr uint64_t kSub = uint64_t{1} << kSubBits;
  if (nanos < kSub) return nanos;
  int msb = 63 - std::countl_zero(nanos);  // >= kSubBits
  int shift = msb - kSubBits;
  uint64_t top = nanos >> shift;  // in [kSub, 2 kSub)
  return (static_cast<size_t>(shift + 1) << kSubBits) + static_cast<size_t>(top - kSub);
}

uint64_t Histogram::value_of(size_t bucket) {
  constexpr uint64_t kSub = uint64_t{1} << kSubBits;
  size_t group = bucket >> kSubBits;
  uint64_t offset = bucket & (kSub - 1);
  if (group == 0) return offset;
  int shift = static_cast<int>(group) - 1;
  uint64_t low = (kSub + offset) << shift;
  return low + ((uint64_t{1} << shift) >> 1);
}

void Histogram::record(uint64_t nanos) {
  ++buckets_[bucket_of(nanos)];
  ++count_;
  sum_ += nanos;
  min_ = std::min(min_, nanos);
  max_ = std::max(max_, nanos);
}

void Histogram::merge(const Histogram& other) {
  for (size_t i = 0; i < kBuckets; ++i) buckets_[i] += other.buckets_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

uint64_t Histogram::at(double fraction) const {
  if (count_ == 0) return 0;
  if (fraction >= 1.0) return max_;
  // The rank of the value asked for, 1-based: the smallest value with at least this many at or below it.
  auto rank = static_cast<uint64_t>(fraction * static_cast<double>(count_));
  rank = std::max<uint64_t>(rank, 1);
  uint64_t seen = 0;
  for (size_t i = 0; i < kBuckets; ++i) {
    seen += buckets_[i];
    // Clamped so that no percentile reads below the true minimum or above the true maximum.
    if (seen >= rank) return std::clamp(value_of(i), min_, max_);
  }
  return max_;
}

std::vector<std::pair<uint64_t, double>> Histogram::cdf(size_t points) const {
  std::vector<std::pair<uint64_t, double>> all;
  uint64_t seen = 0;
  for (size_t i = 0; i < kBuckets; ++i) {
    if (buckets_[i] == 0) continue;
    seen += buckets_[i];
    all.emplace_back(std::clamp(value_of(i), min_, max_),
                     static_cast<double>(seen) / static_cast<double>(count_));
  }
  if (all.size() <= points || points < 2) return all;
  // Thin evenly by fraction, keeping the tail: the last points are the ones plots care about.
  std::vector<std::pair<uint64_t, double>> thinned;
  double step = 1.0 / static_cast<double>(points);
  double next = 0;
  for (size_t i = 0; i < all.size(); ++i) {
    bool tail = all[i].second > 0.99;
    if (all[i].second >= next || tail || i + 1 == all.size()) {
      thinned.push_back(all[i]);
      next = all[i].second + step;
    }
  }
  return thinned;
}

}  // namespace synod::bench
