// ProcessCluster: a cluster of real `synod` processes on loopback, for tests that kill -9, SIGSTOP,
// SIGTERM and restart members. Each member gets free ports (peer, client, metrics), its own data dir
// under one fresh temp directory, and its own log file. When the test fails, the directory is kept and
// its path and the tail of every member's log are printed; otherwise it is removed (set
// SYNOD_PROCESS_KEEP=1 in the environment to keep and print it anyway).
//
// Members are named m1..mN, so the server numbers them 1..N (ids are given by sorted name) and the ids
// used here are the server's member ids. Only this harness's own thread of control may start, stop or
// signal members; any thread may ask which members are serving (`serving()`), read metrics and find the
// leader.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <mutex>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "base/status.h"
#include "server/process.h"

namespace synod::process_test {

using Clock = std::chrono::steady_clock;

struct ClusterOptions {
  int members = 3;
  // Part of the temp directory's name, to tell runs apart.
  std::string label = "cluster";
  std::chrono::milliseconds heartbeat{50};
  std::chrono::milliseconds election{500};
  uint64_t snapshot_count = 10'000;
  std::string log_level = "info";
  // --engine: raft or paxos. SYNOD_PROCESS_ENGINE in the environment sets the default, so the whole
  // suite runs on either engine (ctest's process.paxos).
  std::string engine = default_engine();

  static std::string default_engine() {
    const char* engine = std::getenv("SYNOD_PROCESS_ENGINE");
    return engine != nullptr && *engine != '\0' ? engine : "raft";
  }
};

// Prometheus text, parsed: each sample's name (with its labels, as written) and value.
using MetricMap = std::map<std::string, double>;
MetricMap parse_metrics(const std::string& text);

// A plain HTTP GET on 127.0.0.1:port with a deadline. nullopt if nothing came back in time (refused,
// a stopped process, a timeout); otherwise the status code and the body.
struct HttpReply {
  int status = 0;
  std::string body;
};
std::optional<HttpReply> http_get(uint16_t port, const std::string& path, std::chrono::milliseconds timeout);

class ProcessCluster {
 public:
  explicit ProcessCluster(ClusterOptions options);
  // Kills whatever still runs; removes the data unless the current test has failed (then keeps it and
  // prints where it is and the tail of every log).
  ~ProcessCluster();
  ProcessCluster(const ProcessCluster&) = delete;
  ProcessCluster& operator=(const ProcessCluster&) = delete;

  // Creates the directory, picks ports, starts every member and waits until each answers /metrics.
  Status start();

  const ClusterOptions& options() const { return options_; }
  int size() const { return options_.members; }
  std::vector<int> ids() const;
  const std::string& root() const { return root_; }
  std::string log_path(int id) const;
  std::string client_endpoint(int id) const;  // "127.0.0.1:PORT"
  uint16_t metrics_port(int id) const;

  // Running, answering (started up) and not stopped: the members a client may expect an answer from.
  // Thread-safe.
  std::vector<int> serving() const;
  bool running(int id) const;

  void kill9(int id);  // SIGKILL, reaped
  void kill9_all();    // SIGKILL to every running member first, then reaps them all
  void sigstop(int id);
  void sigcont(int id);
  // Starts a member that is not running, with the flags it had; waits until it answers /metrics
  // (retrying the start a few times if it exits at once, e.g. its port is still held).
  Status restart(int id);
  // Replaces every member's data with a member made from `backup` by `synod snapshot restore`, with the
  // member's own name, peers and token (so the same cluster id). Every member must be stopped; start
  // them again with restart().
  Status restore_from(const std::string& backup);
  // SIGTERM, waits up to `grace` (then SIGKILL). Returns the wait status.
  int terminate(int id, std::chrono::milliseconds grace = std::chrono::seconds(15));
  // SIGTERM to every running member at once, then waits for each. Wait statuses by id (index id - 1);
  // members that were not running get -1.
  std::vector<int> stop_all(std::chrono::milliseconds grace = std::chrono::seconds(15));

  std::optional<MetricMap> metrics(int id,
                                   std::chrono::milliseconds timeout = std::chrono::milliseconds(500));
  std::optional<double> metric(int id, const std::string& name,
                               std::chrono::milliseconds timeout = std::chrono::milliseconds(500));

  // A serving member that says it leads (etcd_server_is_leader 1), not in `exclude`; if two do (an old
  // leader that has not noticed yet), the one with the higher term.
  std::optional<int> leader(const std::set<int>& exclude = {});
  struct LeaderFound {
    int id = 0;
    Clock::duration took{};
  };
  // Polls leader() until one is found (nullopt after `timeout`).
  std::optional<LeaderFound> wait_for_leader(Clock::duration timeout, const std::set<int>& exclude = {});

  // Polls until `id`'s synod_server_apply_index reaches the leader's commit index as read once at the
  // start. False after `timeout`.
  bool wait_caught_up(int id, Clock::duration timeout);

  // Members that exited without being told to (a crash, a sanitizer report, a failed start), each
  // described with its wait status; they are reaped and count as not running from then on.
  std::vector<std::string> unexpected_exits();

  // The last `lines` lines of every member's log.
  void print_logs(std::ostream& out, size_t lines = 40) const;
  // Keep the data (and print the logs) when the harness is destroyed, even if the test passed.
  void keep() { keep_ = true; }

 private:
  struct Member {
    std::string name;
    uint16_t peer_port = 0;
    uint16_t client_port = 0;
    uint16_t metrics_port = 0;
    std::string data_dir;
    std::string log;
    server::ChildProcess process;
    bool paused = false;
    bool starting = false;  // started, not yet answering /metrics
  };

  Member& member(int id);
  const Member& member(int id) const;
  std::vector<std::string> arguments(const Member& member) const;
  Status spawn(int id);
  // Waits until the member answers /metrics; an error (with its log's tail) if it exited first.
  Status wait_answering(int id, Clock::duration timeout);

  ClusterOptions options_;
  std::string root_;
  std::string initial_cluster_;
  std::vector<Member> members_;
  mutable std::mutex mutex_;        // members_' process and paused state, for serving() from other threads
  std::vector<std::string> exits_;  // unexpected exits seen so far, not yet reported
  bool keep_ = false;
};

// The tail of a file: its last `lines` lines.
std::string tail_of_file(const std::string& path, size_t lines);

// Durations as "123 ms".
std::string format_ms(Clock::duration duration);

}  // namespace synod::process_test
