// synod-bench: a load generator for the etcd v3 gRPC API. The same binary drives Synod and etcd, so the
// two are measured by one yardstick (scripts/bench-vs-etcd). See docs/benchmarks.md.
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

#include "bench/cluster/bench_options.h"
#include "bench/cluster/driver.h"
#include "bench/cluster/fsync_workload.h"
#include "bench/cluster/report.h"
#include "bench/cluster/workloads.h"

namespace synod::bench {
namespace {

// A line on stderr every second while the run lasts: how far it is and how fast it goes.
class ProgressLine {
 public:
  ProgressLine(const Driver& driver, bool enabled) : driver_(driver) {
    if (enabled) thread_ = std::thread([this] { loop(); });
  }
  ~ProgressLine() { stop(); }

  void stop() {
    {
      std::lock_guard lock(mutex_);
      stopped_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  void loop() {
    bool tty = ::isatty(STDERR_FILENO) != 0;
    uint64_t last_ops = 0;
    int tick = 0;
    std::unique_lock lock(mutex_);
    while (!wake_.wait_for(lock, std::chrono::seconds(1), [this] { return stopped_; })) {
      ++tick;
      uint64_t ops = driver_.ops_done();
      double elapsed = std::chrono::duration<double>(Clock::now() - driver_.started_at()).count();
      // A log (not a terminal) gets one line every 5 s rather than a line a second.
      if (tty || tick % 5 == 0) {
        std::fprintf(stderr, "%s%7.1fs %10llu done %9llu/s %6llu errors%s", tty ? "\r" : "", elapsed,
                     static_cast<unsigned long long>(ops), static_cast<unsigned long long>(ops - last_ops),
                     static_cast<unsigned long long>(driver_.errors_done()), tty ? "" : "\n");
        std::fflush(stderr);
      }
      last_ops = ops;
    }
    if (tty && tick > 0) std::fprintf(stderr, "\n");
  }

  const Driver& driver_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopped_ = false;
  std::thread thread_;
};

int run(const BenchOptions& options) {
  Report report;
  report.options = &options;
  if (options.workload == Workload::kFsync) {
    FsyncResult result = run_fsync(options);
    if (!result.error.empty()) {
      std::fprintf(stderr, "synod-bench: %s\n", result.error.c_str());
      return 1;
    }
    report.ops = result.ops;
    report.seconds = result.seconds;
    report.latency = result.latency;
  } else {
    Driver driver(options);
    if (!driver.connect()) return 1;
    report.server_version = server_version(driver);
    bool ran = false;
    {
      ProgressLine progress(driver, options.progress);
      ran = options.workload == Workload::kWatch ? run_watch(driver) : run_workload(driver);
    }
    if (!ran) return 1;
    report.seconds = std::chrono::duration<double>(Clock::now() - driver.started_at()).count();
    ThreadStats stats = driver.merged_stats();
    report.ops = driver.ops_done();
    report.latency = stats.latency;
    report.errors = stats.errors;
    report.cas_won = driver.cas_won.load();
    report.cas_lost = driver.cas_lost.load();
    report.watch_puts = driver.watch_puts.load();
    report.watch_events = driver.watch_events.load();
  }
  print_summary(options.json ? stderr : stdout, report);
  if (options.json) print_json(stdout, report);
  return 0;
}

}  // namespace
}  // namespace synod::bench

int main(int argc, char** argv) {
  synod::bench::BenchOptions options;
  int exit_code = 0;
  if (!synod::bench::parse_options(argc, argv, options, exit_code)) return exit_code;
  return synod::bench::run(options);
}
