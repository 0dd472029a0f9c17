#include "bench/cluster/histogram.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

namespace synod::bench {
namespace {

TEST(Histogram, emptyReportsZeros) {
  Histogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.min(), 0u);
  EXPECT_EQ(h.max(), 0u);
  EXPECT_EQ(h.at(0.99), 0u);
  EXPECT_TRUE(h.cdf(10).empty());
}

TEST(Histogram, smallValuesAreExact) {
  Histogram h;
  for (uint64_t v = 1; v <= 100; ++v) h.record(v);
  EXPECT_EQ(h.at(0.5), 50u);
  EXPECT_EQ(h.at(0.99), 99u);
  EXPECT_EQ(h.at(1.0), 100u);
  EXPECT_EQ(h.min(), 1u);
  EXPECT_DOUBLE_EQ(h.mean(), 50.5);
}

TEST(Histogram, mergeEqualsRecordingEverything) {
  Histogram a, b, all;
  for (uint64_t v = 1; v < 5000; v += 7) {
    (v % 2 ? a : b).record(v * 1000);
    all.record(v * 1000);
  }
  a.merge(b);
  EXPECT_EQ(a.count(), all.count());
  for (double f : {0.1, 0.5, 0.9, 0.99, 0.999}) EXPECT_EQ(a.at(f), all.at(f));
  EXPECT_EQ(a.min(), all.min());
  EXPECT_EQ(a.max(), all.max());
}

// Every percentile is within the bucket error (1/128) of the exact one, over values from nanoseconds to
// hours, and the CDF rises to 1.
RC_GTEST_PROP(Histogram, percentilesWithinRelativeError, ()) {
  auto values = *rc::gen::nonEmpty(
      rc::gen::container<std::vector<uint64_t>>(rc::gen::inRange<uint64_t>(1, uint64_t{1} << 42)));
  Histogram h;
  for (uint64_t v : values) h.record(v);
  std::sort(values.begin(), values.end());
  for (double f : {0.0, 0.25, 0.5, 0.9, 0.99, 0.999, 1.0}) {
    size_t rank = std::max<size_t>(1, static_cast<size_t>(f * static_cast<double>(values.size())));
    uint64_t exact = f >= 1.0 ? values.back() : values[rank - 1];
    double error = std::abs(static_cast<double>(h.at(f)) - static_cast<double>(exact));
    RC_ASSERT(error <= static_cast<double>(exact) / 128.0 + 1.0);
  }
  auto cdf = h.cdf(50);
  RC_ASSERT(!cdf.empty());
  RC_ASSERT(cdf.back().second == 1.0);
  for (size_t i = 1; i < cdf.size(); ++i) {
    RC_ASSERT(cdf[i].first >= cdf[i - 1].first);
    RC_ASSERT(cdf[i].second > cdf[i - 1].second);
  }
}

}  // namespace
}  // namespace synod::bench
