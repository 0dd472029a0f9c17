// A concurrent client workload for the process tests, and the checks that follow it.
//
// Each client thread loops until stopped, sending one request at a time to a member (round robin over
// the serving members, or always one pinned member), and records every call in a shared history:
//   - puts of unique keys, <prefix>c<client>/<n> = v<client>.<n>, each written once and never retried,
//     so that afterwards each must hold its value if it was acknowledged, exist only if it was
//     acknowledged or of unknown outcome, and have version 1 (applied exactly once);
//   - a get then a cas on a few shared keys (s0, s1, ...), so the history has reads and contention that
//     the linearizability checker can catch stale reads and lost or doubled writes in;
//   - puts of distinct values to one counter key, whose final version (etcd counts modifications) must
//     lie between the acknowledged puts and those plus the ones of unknown outcome.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "process/etcd_client.h"
#include "process/process_cluster.h"

namespace synod::process_test {

inline constexpr const char* kCounterKey = "counter";

struct WorkloadOptions {
  int clients = 4;
  int64_t first_client_id = 1;  // clients are numbered from here (history labels, key names)
  // Short, so that a client whose request was forwarded to a leader that has just died (the follower
  // holds it until the server's own request timeout, several seconds) soon moves on.
  std::chrono::milliseconds deadline{1000};
  int shared_keys = 2;
  // Unique keys start with this; the final checks read [kUniquePrefix, kUniqueEnd).
  std::string prefix = "w/";
  // 0: round robin over the serving members. Otherwise every request goes to this member, whether it
  // serves or not (e.g. one that is SIGSTOPped, to keep requests in flight to it).
  int pinned = 0;
};

inline constexpr const char* kUniquePrefix = "w/";
inline constexpr const char* kUniqueEnd = "w0";  // '/' + 1

// What the clients were told, across every workload of a test.
struct Outcomes {
  std::mutex mutex;
  std::map<std::string, std::string> acked;  // unique key -> value, acknowledged
  std::set<std::string> unknown;             // unique keys whose put may or may not have happened
  std::set<std::string> failed;              // unique keys whose put definitely did not happen
  uint64_t counter_acked = 0;
  uint64_t counter_unknown = 0;

  size_t acked_count() {
    std::lock_guard<std::mutex> lock(mutex);
    return acked.size();
  }
  // Records one unique put's result.
  void unique_put(const std::string& key, const std::string& value, const OpResult& result);
};

class Workload {
 public:
  Workload(ProcessCluster& cluster, EtcdChannels& channels, HistoryRecorder& history, Outcomes& outcomes,
           WorkloadOptions options);
  ~Workload();  // stop()

  void start();
  void stop();
  // Requests answered ok so far (all kinds).
  uint64_t answered() const { return answered_.load(); }

 private:
  void client(int64_t id);
  std::optional<int> pick(size_t turn) const;

  ProcessCluster& cluster_;
  EtcdChannels& channels_;
  HistoryRecorder& history_;
  Outcomes& outcomes_;
  WorkloadOptions options_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> answered_{0};
  std::vector<std::thread> threads_;
};

// Writes the shared keys' first values (recorded, retried until one is acknowledged). False if no member
// took them within `timeout`.
bool init_shared_keys(EtcdChannels& channels, ProcessCluster& cluster, HistoryRecorder& history,
                      int shared_keys, Clock::duration timeout);

// Polls `done` every 10 ms until it holds or `timeout` passes; whether it held.
template <typename Predicate>
bool eventually(Clock::duration timeout, Predicate done) {
  Clock::time_point deadline = Clock::now() + timeout;
  while (true) {
    if (done()) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

// The checks after a workload (gtest EXPECTs): every acknowledged unique put is present with its value
// on a linearizable read, nothing is present that was never sent or definitely failed, every unique key
// was applied once (version 1), and the counter's version is within bounds.
void expect_writes_intact(EtcdChannels& channels, ProcessCluster& cluster, Outcomes& outcomes);

// Writes the history into the cluster's directory and runs synod-check on it (gtest EXPECT).
void expect_linearizable(const HistoryRecorder& history, const ProcessCluster& cluster,
                         const std::string& name);

}  // namespace synod::process_test
