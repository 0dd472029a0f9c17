// Simulator: runs N Synod servers (the real node glue and replicated map around any Engine) and a set
// of workload clients in virtual time, with every choice (latencies, drops, duplicates, partitions,
// crashes, pauses, clock skew, client timing, election timeouts) drawn from one 64-bit seed, so the
// same seed on the same build replays byte for byte (trace_hash proves it).
//
// Clients run get/put/delete/cas on a few keys, one operation at a time each, against any server: a
// write is proposed through the log with the client's session (so a retry takes effect once), a get
// is a linearizable read through the node's read path. A client that gets no answer in time, or a
// "not the leader", retries at another server until its operation's deadline; every operation is
// recorded in a history (check/history.h) for the linearizability checker.
//
// A run has two phases (as TigerBeetle's VOPR does):
//   safety:   faults are injected for `fault_duration_us`; invariants are checked after every event;
//   liveness: every fault is healed, every node is up and unpaused, and the cluster must elect a leader,
//             commit a fresh proposal and bring every node to it within `liveness_duration_us`.
//
// Storage: every server keeps its log and snapshots with the real storage code on a fault-injecting
// in-memory disk. A crash power-cycles the disk (unsynced pages lost, kept or torn). With `disk` on,
// the power can also be cut in the middle of a write, and writes and syncs fail with EIO now and then;
// a storage error stops the node (never retried), which then restarts and recovers from its disk. A
// disk that cannot be recovered is a safety violation.
//
// Fault model. Network: each message takes a latency drawn uniformly from [min, max] (1 in 100 takes
// up to 10x max), so messages reorder; with `drop` some are lost, with `dup` some arrive twice.
// Partitions: a random split, a one-way cut, or a bridge (one node reaches both sides, the seed's "A
// reaches B but not C, D, E"); messages crossing a cut are lost. Nodes: crash (the engine and
// everything not in its DurableStore is lost) and restart later; pause (nothing runs; messages wait
// until it resumes); clock skew (each node's ticks run up to 20% fast or slow). Time is in virtual
// microseconds.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <set>
#include <string>
#include <vector>

#include "base/random.h"
#include "base/status.h"
#include "check/history.h"
#include "kv/map_command.h"
#include "node/node.h"
#include "sim/cluster_view.h"
#include "sim/sim_server.h"

namespace synod::sim {

struct FaultMix {
  bool partitions = false;
  bool crashes = false;
  bool pauses = false;
  bool clock_skew = false;
  bool drops = false;
  bool duplicates = false;
  bool disk = false;  // power cut in the middle of a write; EIO on writes and syncs (fatal: restart)

  // Parses "partition,crash,pause,skew,drop,dup,disk" (any subset; "none" for no faults).
  static Result<FaultMix> parse(const std::string& text);
  std::string to_string() const;
};

struct SimulatorOptions {
  size_t nodes = 5;
  uint64_t seed = 1;
  FaultMix faults;
  uint64_t tick_us = 10'000;  // one engine tick; election timeouts are counted in ticks
  uint64_t latency_min_us = 200;
  uint64_t latency_max_us = 5'000;
  uint32_t drop_per_million = 20'000;       // with drops on
  uint32_t duplicate_per_million = 20'000;  // with duplicates on
  uint64_t mean_fault_interval_us = 400'000;
  // Workload: clients issue operations during the fault phase, one at a time each, on `keys` keys.
  size_t clients = 5;
  size_t keys = 5;
  uint64_t ops = 0;                           // stop after this many operations (0: until the phase ends)
  uint64_t think_us_max = 20'000;             // pause between a client's operations
  uint64_t attempt_timeout_us = 300'000;      // then the client tries another server
  uint64_t operation_timeout_us = 3'000'000;  // then the client gives up (outcome unknown or failed)
  // Node glue: snapshot and compact every this many applied entries; requests time out after this
  // many ticks.
  uint64_t snapshot_entries = 64;
  uint64_t segment_bytes = uint64_t{64} << 10U;  // WAL segment size on the simulated disks
  // Storage keeps the entries after a snapshot it was not continuing: set for Multi-Paxos, whose
  // acceptors must never forget a slot (storage::DiskStorageOptions::keep_entries_after_snapshot).
  bool keep_entries_after_snapshot = false;
  uint32_t disk_error_per_million = 300;  // with disk faults: EIO per write and per sync
  uint64_t request_timeout_ticks = 50;
#if SYNOD_BUG_INJECTION
  node::NodeBugs bugs;
  bool bug_skip_sync = false;  // the WAL acknowledges batches it never synced
#endif
  // The fault phase lasts this long, or until `ops` operations have finished, whichever comes first.
  uint64_t fault_duration_us = 20'000'000;
  uint64_t liveness_duration_us = 30'000'000;
  bool keep_trace = false;  // keep every trace line (for --trace), not only the last ones
};

struct SimulatorResult {
  bool safe = true;
  bool live = true;
  std::string violation;  // what broke, with the last events
  uint64_t events = 0;
  uint64_t violation_event = 0;
  uint64_t trace_hash = 0;  // over every trace line, in order
  uint64_t committed = 0;   // highest commit index reached
  uint64_t leaders = 0;     // distinct (term, leader) pairs seen
  uint64_t virtual_time_us = 0;
  check::History history;  // every client operation, in the order they were called
  uint64_t ops_ok = 0;     // operations that completed with a known outcome
  // What consensus cost: messages the nodes sent (before the network lost or copied any) and syncs
  // (fsync and directory syncs) their disks did, over the whole run.
  uint64_t messages = 0;
  uint64_t syncs = 0;
};

class Simulator final : public ClusterView {
 public:
  Simulator(SimulatorOptions options, EngineFactory factory);
  ~Simulator() override;
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

  // Watches every event (the invariant checker). Attach before run().
  void set_observer(ClusterObserver* observer);
  SimulatorResult run();

  const std::vector<NodeId>& ids() const override { return ids_; }
  bool is_up(NodeId id) const override;
  uint64_t incarnation(NodeId id) const override;
  const Engine& engine(NodeId id) const override;

  // Every trace line, if options.keep_trace; otherwise the last few.
  const std::deque<std::string>& trace() const { return trace_; }

 private:
  enum class EventKind : uint8_t {
    kTick,
    kDeliver,
    kFault,
    kResume,
    kRestart,
    kClientStart,    // a client begins its next operation
    kRequest,        // a client's request reaches a server
    kResponse,       // a server's answer reaches a client
    kClientTimeout,  // a client stops waiting for an attempt
  };
  // A server's answer to one attempt of a client's operation.
  struct ClientResponse {
    enum class Kind : uint8_t {
      kOk,        // applied (writes) or read linearizably (gets)
      kRejected,  // this attempt definitely took no effect
      kUnknown,   // this attempt may take effect
    };
    Kind kind = Kind::kRejected;
    kv::MapResult result;  // kOk
    NodeId leader_hint = kNoNode;
    std::string why;
  };
  struct Client {
    uint64_t id = 0;
    uint64_t sequence = 0;  // of the current (or last) operation: the session number
    bool busy = false;
    size_t history_index = 0;  // of the current operation
    kv::MapCommand command;
    uint64_t attempt = 0;     // the current attempt; answers to older ones are ignored
    NodeId target = kNoNode;  // where the current attempt went
    NodeId leader_hint = kNoNode;
    bool maybe_applied = false;  // an earlier attempt of this write may have taken effect
    uint64_t deadline_us = 0;
    std::map<std::string, std::string> seen;  // last value seen per key: what a cas expects
  };
  struct Event {
    uint64_t time_us = 0;
    uint64_t sequence = 0;  // ties break by scheduling order: deterministic
    EventKind kind = EventKind::kTick;
    NodeId node = kNoNode;
    uint64_t incarnation = 0;  // ticks of a crashed incarnation are dropped
    std::shared_ptr<Message> message;
    uint64_t client = 0;  // client events
    uint64_t attempt = 0;
    std::shared_ptr<ClientResponse> response;
    bool operator>(const Event& other) const {
      return time_us != other.time_us ? time_us > other.time_us : sequence > other.sequence;
    }
  };

  void schedule(uint64_t at_us, EventKind kind, NodeId node, std::shared_ptr<Message> message = nullptr);
  void schedule_client(uint64_t at_us, EventKind kind, uint64_t client, uint64_t attempt, NodeId node,
                       std::shared_ptr<ClientResponse> response = nullptr);
  node::NodeOptions node_options() const;
  // Starts (or restarts) a server from its disk; false if it could not (then it is down).
  bool start_server(SimServer& server);
  // Handles the server's Ready; a storage error stops it (it is crashed and restarts later).
  void process_ready(SimServer& server);
  void crash_server(SimServer& server, const std::string& why);
  void handle(const Event& event);
  void send(Message&& message);
  void inject_fault();
  void heal_everything();
  bool link_up(NodeId from, NodeId to) const { return cut_links_.count({from, to}) == 0; }
  uint64_t tick_interval_us(NodeId id) const;
  void record(const std::string& line);
  void check_event(NodeId subject, const std::string& what);
  uint64_t latency();

  // The workload (simulator_clients.cc).
  void start_operation(Client& client);
  void send_attempt(Client& client, NodeId target);
  void handle_request(const Event& event);
  void respond(uint64_t client, uint64_t attempt, NodeId from, ClientResponse response);
  void handle_response(const Event& event);
  void handle_client_timeout(const Event& event);
  void retry_or_give_up(Client& client);
  void finish(Client& client, check::OpStatus status, const kv::MapResult* result);
  void close_history();
  bool workload_done() const;

  SimServer& node(NodeId id);
  const SimServer& node(NodeId id) const;

  SimulatorOptions options_;
  EngineFactory factory_;
  Random random_;
  std::vector<NodeId> ids_;
  std::map<NodeId, std::unique_ptr<SimServer>> nodes_;
  std::vector<Client> clients_;
  std::map<std::string, std::deque<std::string>> recent_writes_;  // per key: values clients last wrote
  uint64_t ops_started_ = 0;
  std::map<NodeId, int> skew_permille_;
  std::set<NodeId> paused_;
  std::set<std::pair<NodeId, NodeId>> cut_links_;
  std::priority_queue<Event, std::vector<Event>, std::greater<>> queue_;
  uint64_t now_us_ = 0;
  uint64_t sequence_ = 0;
  bool faults_on_ = true;
  std::string storage_failure_;    // a disk that could not be recovered: a safety violation
  bool liveness_pending_ = false;  // the liveness phase's proposal waits for an answer
  Index liveness_index_ = 0;       // where the leader applied it
  ClusterObserver* observer_ = nullptr;
  std::deque<std::string> trace_;
  SimulatorResult result_;
  std::set<std::pair<Term, NodeId>> leaders_;
};

}  // namespace synod::sim
