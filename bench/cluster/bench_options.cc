#include "bench/cluster/bench_options.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <map>

#include "client/etcd_connection.h"

namespace synod::bench {

bool parse_options(int argc, char** argv, BenchOptions& out, int& exit_code) {
  CLI::App app{
      "synod-bench: load generator for the etcd v3 gRPC API (drives Synod and etcd alike)\n"
      "Workloads: put, range, txn-cas, mixed, watch, lease, fsync (the disk's own fdatasync floor)"};
  const std::map<std::string, Workload> workloads = {
      {"put", Workload::kPut},     {"range", Workload::kRange}, {"txn-cas", Workload::kTxnCas},
      {"mixed", Workload::kMixed}, {"watch", Workload::kWatch}, {"lease", Workload::kLease},
      {"fsync", Workload::kFsync}};
  std::string endpoints = "127.0.0.1:2379";
  std::string consistency = "l";
  app.add_option("workload", out.workload_name, "What to run")
      ->required()
      ->check(CLI::IsMember({"put", "range", "txn-cas", "mixed", "watch", "lease", "fsync"}));
  app.add_option("--endpoints", endpoints, "Comma-separated host:port of the members");
  app.add_option("--conns", out.conns, "gRPC connections, assigned to the endpoints in turn")
      ->check(CLI::Range(1, 10000));
  app.add_option("--clients", out.clients, "Requests in flight at once (for watch: the putters)")
      ->check(CLI::Range(1, 100000));
  app.add_option("--threads", out.threads, "Completion-queue threads (0: one per core)")
      ->check(CLI::Range(0, 256));
  app.add_option("--total", out.total, "Operations to run (unless --duration)")
      ->check(CLI::Range(1, 1'000'000'000));
  app.add_option("--duration", out.duration_s, "Seconds to run, instead of --total")
      ->check(CLI::Range(0.0, 86400.0));
  app.add_option("--key-size", out.key_size, "Bytes per key")->check(CLI::Range(1, 65536));
  app.add_option("--value-size", out.value_size, "Bytes per value")->check(CLI::Range(0, 1 << 20));
  app.add_option("--key-space", out.key_space, "Distinct keys, chosen uniformly")
      ->check(CLI::Range(1, 1'000'000'000));
  app.add_option("--prefix", out.prefix, "Prefix of every key");
  app.add_option("--consistency", consistency, "range: l (linearizable) or s (serializable)")
      ->check(CLI::IsMember({"l", "s"}));
  app.add_option("--read-ratio", out.read_ratio, "mixed: fraction of operations that are ranges")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--hot-keys", out.hot_keys, "txn-cas: keys the compare-and-swaps contend on")
      ->check(CLI::Range(1, 1'000'000));
  app.add_option("--watchers", out.watchers, "watch: watchers, spread over the connections")
      ->check(CLI::Range(1, 1'000'000));
  app.add_option("--lease-ttl", out.lease_ttl, "lease: TTL of each granted lease, seconds")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 31));
  app.add_option("--rate", out.rate,
                 "Open loop: operations per second in all; latency counts from the intended send time")
      ->check(CLI::Range(0.0, 1e9));
  app.add_option("--timeout", out.timeout_s, "Seconds before a request counts as failed")
      ->check(CLI::Range(0.001, 3600.0));
  app.add_option("--dir", out.dir, "fsync: directory for the test file (on the disk to measure)");
  app.add_option("--seed", out.seed, "Random seed for key choice (0: from the clock)");
  app.add_flag("--json", out.json, "Print the result as one JSON object on stdout");
  bool no_progress = false;
  app.add_flag("--no-progress", no_progress, "No progress line on stderr");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    exit_code = app.exit(e);
    return false;
  }
  out.workload = workloads.at(out.workload_name);
  // The same endpoint syntax as synodctl's (host:port, an http:// prefix allowed, as etcdctl does).
  Result<std::vector<std::string>> parsed = client::parse_endpoints(endpoints);
  if (!parsed.is_ok() || parsed.value().empty()) {
    std::fprintf(stderr, "synod-bench: --endpoints: %s\n",
                 parsed.is_ok() ? "names no endpoint" : parsed.status().message().c_str());
    exit_code = 2;
    return false;
  }
  out.endpoints = std::move(parsed).value();
  out.serializable = consistency == "s";
  out.progress = !no_progress;
  if (out.watchers < 1) out.watchers = 1;
  return true;
}

std::string key_for(const BenchOptions& options, uint64_t i) {
  std::string digits = std::to_string(i);
  size_t width = static_cast<size_t>(options.key_size) > options.prefix.size()
                     ? static_cast<size_t>(options.key_size) - options.prefix.size()
                     : 0;
  if (digits.size() < width) digits.insert(0, width - digits.size(), '0');
  return options.prefix + digits;
}

}  // namespace synod::bench
