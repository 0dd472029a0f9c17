// Metrics: counters, gauges and histograms in a Registry that renders them in the Prometheus text
// exposition format 0.0.4 (what `GET /metrics` serves, as etcd does).
//
// Updating a metric is one or two relaxed atomic operations and never locks, so the Raft and storage hot
// paths can count freely. Registering takes the registry's mutex; register once at start-up and keep the
// returned reference, which stays valid as long as the Registry.
//
// Metric and label names are fixed by Synod's own code, so a malformed name, or one name registered as two
// kinds, is a programming error (SYNOD_ASSERT), not a Status.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace synod::metrics {

// Constant labels of one metric, e.g. {{"peer", "2"}}. Their order does not matter: a registry sorts them
// by name, which is the order they render in.
using Labels = std::vector<std::pair<std::string, std::string>>;

class Counter {
 public:
  void inc(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

class Gauge {
 public:
  void set(double value) { value_.store(value, std::memory_order_relaxed); }
  void add(double delta) { value_.fetch_add(delta, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Counts observations into buckets with fixed upper bounds ("le": less than or equal), plus +Inf.
class Histogram {
 public:
  // `bounds`: finite and strictly increasing (asserted); +Inf is implicit.
  explicit Histogram(std::vector<double> bounds);

  void observe(double value);

  const std::vector<double>& bounds() const { return bounds_; }
  // Observations in bucket i alone (not cumulative); i == bounds().size() is the +Inf bucket.
  uint64_t bucket_count(size_t i) const { return buckets_[i].load(std::memory_order_relaxed); }
  uint64_t count() const;
  double sum() const { return sum_.load(std::memory_order_relaxed); }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;
  std::atomic<double> sum_{0};
};

// `count` bounds: start, start*factor, start*factor^2, ...
std::vector<double> exponential_buckets(double start, double factor, size_t count);
// For durations in seconds: 100 µs doubling up to ~3.3 s (16 buckets), to see both a fast disk's fsync
// and a slow one's stall in one histogram.
std::vector<double> duration_buckets();

class Registry {
 public:
  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Registering a name and labels again returns the same metric when kind (and bounds) match; help text
  // must match too, since a family renders one HELP line.
  Counter& counter(std::string_view name, std::string_view help, Labels labels = {});
  Gauge& gauge(std::string_view name, std::string_view help, Labels labels = {});
  Histogram& histogram(std::string_view name, std::string_view help, std::vector<double> bounds,
                       Labels labels = {});
  // A gauge whose value is `read()` at render time, for values owned elsewhere (a queue's length, the
  // current term). `read` runs under the registry's mutex on the rendering thread: it must not touch the
  // registry, and must stay callable for as long as render() may be called.
  void gauge_fn(std::string_view name, std::string_view help, Labels labels, std::function<double()> read);

  // The text exposition format 0.0.4: families sorted by name, metrics within a family by labels.
  std::string render() const;

  struct Family;
  enum class Kind : uint8_t;

 private:
  Family& family(std::string_view name, std::string_view help, Kind kind);

  mutable std::mutex mutex_;
  std::map<std::string, std::unique_ptr<Family>, std::less<>> families_;
};

// The Content-Type of render()'s output.
inline constexpr std::string_view kExpositionContentType = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace synod::metrics
