// The load generator's engine: connections, completion-queue threads, the ticket dispenser that paces
// operations (closed or open loop) and the per-thread statistics.
//
// Every in-flight operation belongs to a client object (workloads.cc, watch_workload.cc) whose completions
// come back on its connection's completion queue as a `Tag`. A client takes a ticket for each operation;
// in open loop the ticket carries the time the operation was meant to start, and its latency counts from
// then, so a slow server cannot hide its queueing delay by slowing the generator down (coordinated
// omission).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "api/proto/lease.grpc.pb.h"
#include "api/proto/rpc.grpc.pb.h"
#include "api/proto/watch.grpc.pb.h"
#include "bench/cluster/bench_options.h"
#include "bench/cluster/histogram.h"

namespace synod::bench {

using Clock = std::chrono::steady_clock;

// A completion-queue event's handler: the tag of every async operation.
class Tag {
 public:
  virtual ~Tag() = default;
  virtual void proceed(bool ok) = 0;
};

struct Connection {
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<etcdserverpb::KV::Stub> kv;
  std::unique_ptr<etcdserverpb::Watch::Stub> watch;
  std::unique_ptr<etcdserverpb::Lease::Stub> lease;
  grpc::CompletionQueue* cq = nullptr;
  size_t thread = 0;  // which thread polls cq: whose statistics its clients write
  std::string endpoint;
};

struct Ticket {
  uint64_t index = 0;
  Clock::time_point intended;  // open loop: when the operation should start; closed loop: unset
};

struct ThreadStats {
  Histogram latency;
  std::map<std::string, uint64_t> errors;
};

class Driver {
 public:
  explicit Driver(const BenchOptions& options);
  ~Driver();
  Driver(const Driver&) = delete;
  Driver& operator=(const Driver&) = delete;

  // Opens every connection and waits until each is ready; false (with the reason printed) if one is not.
  bool connect();
  const BenchOptions& options() const { return options_; }
  std::vector<Connection>& connections() { return connections_; }
  Connection& connection_for(size_t i) { return connections_[i % connections_.size()]; }

  // Marks the start of measurement; tickets are dealt from here.
  void start();
  // The next operation's ticket, or nothing once the run's total or duration is used up.
  std::optional<Ticket> take();
  bool open_loop() const { return options_.rate > 0; }

  // Outcome of one operation, recorded in its thread's statistics. `started` is the ticket's intended
  // time in open loop, the send time otherwise.
  void record_ok(size_t thread, Clock::time_point started, Clock::time_point done);
  void record_error(size_t thread, const std::string& kind, uint64_t n = 1);
  // A latency sample that is not an operation of its own (watch events).
  void record_sample(size_t thread, uint64_t nanos);

  // Clients call this once when they have no more work; the run ends when every client has.
  void client_started() { active_clients_.fetch_add(1); }
  void client_finished();
  void wait_for_clients();

  uint64_t ops_done() const { return ops_.load(std::memory_order_relaxed); }
  uint64_t errors_done() const { return errors_.load(std::memory_order_relaxed); }
  Clock::time_point started_at() const { return start_; }
  ThreadStats merged_stats() const;

  // Stops the completion-queue threads after every outstanding event was handled.
  void shutdown();

  // Workload-specific counts, for the report.
  std::atomic<uint64_t> cas_won{0};       // txn-cas: compares that held, so the swap was made
  std::atomic<uint64_t> cas_lost{0};      // txn-cas: compares that failed (another client swapped first)
  std::atomic<uint64_t> watch_puts{0};    // watch: acknowledged puts
  std::atomic<uint64_t> watch_events{0};  // watch: events received over all watchers

 private:
  void poll(grpc::CompletionQueue* cq);

  BenchOptions options_;
  std::vector<std::unique_ptr<grpc::CompletionQueue>> queues_;
  std::vector<std::thread> threads_;
  std::vector<ThreadStats> stats_;
  std::vector<Connection> connections_;
  Clock::time_point start_;
  Clock::time_point end_;  // duration runs only
  std::atomic<uint64_t> next_ticket_{0};
  std::atomic<uint64_t> ops_{0};
  std::atomic<uint64_t> errors_{0};
  std::atomic<int> active_clients_{0};
  std::mutex mutex_;
  std::condition_variable all_done_;
  bool shut_down_ = false;
};

// "CODE: message", shortened: the error kinds the report counts.
std::string error_kind(const grpc::Status& status);

}  // namespace synod::bench
