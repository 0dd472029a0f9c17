// Measures what the MVCC store holds in memory per key and per revision, and checks its own estimate
// (approximate_bytes(), reported as Maintenance.Status's dbSize) against the measurement. Every heap
// allocation of this test binary is counted by replacing operator new and delete; the counts are the
// requested (ASan) or usable (glibc) sizes, without the allocator's own headers.
#include <malloc.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <new>

#include <gtest/gtest.h>

#include "kv/mvcc_test_util.h"

namespace {
std::atomic<int64_t> live_bytes{0};
}  // namespace

[[gnu::noinline]] void* operator new(size_t size) {
  void* p = std::malloc(size == 0 ? 1 : size);
  if (p == nullptr) throw std::bad_alloc();
  live_bytes += static_cast<int64_t>(malloc_usable_size(p));
  return p;
}
void* operator new[](size_t size) {
  return operator new(size);
}
// Not inlined: GCC would otherwise see free() meet a pointer from `new` and warn (-Wmismatched-new-delete).
[[gnu::noinline]] void operator delete(void* p) noexcept {
  if (p == nullptr) return;
  live_bytes -= static_cast<int64_t>(malloc_usable_size(p));
  std::free(p);
}
void operator delete[](void* p) noexcept {
  operator delete(p);
}
void operator delete(void* p, size_t /*size*/) noexcept {
  operator delete(p);
}
void operator delete[](void* p, size_t /*size*/) noexcept {
  operator delete(p);
}

namespace synod::kv {
namespace {

// kv/mvcc_store.h quotes this size (libstdc++ on a 64-bit machine).
static_assert(sizeof(KeyRecord) == 72);

TEST(MvccMemory, perKeyAndPerRevisionCostsMatchTheEstimate) {
  constexpr int kKeys = 20'000;
  test::Harness h;
  auto key = [](int i) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "key-%012d", i);  // 16 bytes: too long for the string's own buffer
    return std::string(buffer);
  };
  const std::string value(100, 'v');
  // Commands are built and dropped one by one; only what the store keeps stays counted.
  int64_t before = live_bytes.load();
  for (int i = 0; i < kKeys; ++i) ASSERT_TRUE(h.put(key(i), value).is_ok());
  int64_t after_first = live_bytes.load();
  for (int i = 0; i < kKeys; ++i) ASSERT_TRUE(h.put(key(i), value).is_ok());
  int64_t after_second = live_bytes.load();

  double per_key = static_cast<double>(after_first - before) / kKeys;
  double per_revision = static_cast<double>(after_second - after_first) / kKeys;
  double estimate = static_cast<double>(h.store.approximate_bytes());
  double measured = static_cast<double>(after_second - before);
  std::printf(
      "MVCC memory: %.0f bytes per key (16-byte key, 100-byte value, one revision), %.0f bytes per "
      "further revision; estimate %.0f of measured %.0f bytes\n",
      per_key, per_revision, estimate, measured);
  RecordProperty("bytes_per_key", static_cast<int>(per_key));
  RecordProperty("bytes_per_revision", static_cast<int>(per_revision));
  EXPECT_GT(per_key, 200);
  EXPECT_LT(per_key, 450);
  EXPECT_GT(per_revision, 150);
  EXPECT_LT(per_revision, 400);
  // Within 10% either way (about 5% below is usual: malloc's rounding is not in the estimate).
  EXPECT_GT(estimate, 0.9 * measured);
  EXPECT_LT(estimate, 1.1 * measured);

  // Compaction gives the old revisions back (the vectors keep their capacity).
  ASSERT_TRUE(h.compact(h.store.revision()).is_ok());
  EXPECT_EQ(h.store.index().record_count(), static_cast<size_t>(kKeys));
  EXPECT_LT(live_bytes.load() - before, after_second - before - kKeys * 100);
}

}  // namespace
}  // namespace synod::kv
