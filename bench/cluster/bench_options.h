// What one run of synod-bench does: the workload and its parameters, from the command line.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace synod::bench {

enum class Workload { kPut, kRange, kTxnCas, kMixed, kWatch, kLease, kFsync };

struct BenchOptions {
  Workload workload = Workload::kPut;
  std::string workload_name = "put";
  std::vector<std::string> endpoints = {"127.0.0.1:2379"};
  int conns = 1;
  int clients = 1;
  int threads = 0;         // 0: one per core, at most one per connection
  uint64_t total = 10000;  // operations, unless duration_s > 0
  double duration_s = 0;
  int key_size = 8;
  int value_size = 256;
  uint64_t key_space = 100000;
  std::string prefix = "b/";
  bool serializable = false;  // range: consistency s
  double read_ratio = 0.9;    // mixed
  int hot_keys = 16;          // txn-cas
  int watchers = 100;         // watch
  int64_t lease_ttl = 60;     // lease
  double rate = 0;            // open loop when > 0: ops per second, all clients together
  double timeout_s = 10;      // per request
  std::string dir = ".";      // fsync: where the test file goes
  bool json = false;
  bool progress = true;
  uint64_t seed = 0;  // 0: from the clock
};

// Parses argv. On bad input prints the reason and returns false with `exit_code` set (0 for --help).
bool parse_options(int argc, char** argv, BenchOptions& out, int& exit_code);

// The key for index i: prefix + i in decimal, zero-padded to make the key key_size bytes where it fits.
std::string key_for(const BenchOptions& options, uint64_t i);

}  // namespace synod::bench
