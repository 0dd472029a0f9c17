// Micro benchmarks of the Raft core, the in-memory cluster and the quorum arithmetic. What each one
// measures, how to run them and the latest numbers: docs/benchmarks.md.
//
// Every benchmark checks that the work it timed really happened (entries committed and applied, steps
// accepted) and reports an error through SkipWithError otherwise, so a broken core cannot show up as a
// fast one.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "consensus/engine.h"
#include "consensus/message.h"
#include "consensus/quorum.h"
#include "consensus/types.h"
#include "raft/config.h"
#include "raft/raft.h"
#include "sim/cluster.h"
#include "sim/durable_store.h"
#include "sim/raft_engine.h"
#include "sim/state_machine.h"

namespace synod {
namespace {

// Logs are compacted once they hold this many entries, so memory stays bounded however long a run is.
constexpr Index kCompactEvery = 4096;

// An opaque command of `bytes` bytes: the KvStateMachine hashes it into its chain and ignores it otherwise.
std::string make_payload(size_t bytes) {
  std::string payload(bytes, 'x');
  for (size_t k = 0; k < bytes; ++k) payload[k] = static_cast<char>('a' + k % 26);
  return payload;
}

std::vector<NodeId> voter_ids(int64_t count) {
  std::vector<NodeId> ids;
  for (int64_t id = 1; id <= count; ++id) ids.push_back(static_cast<NodeId>(id));
  return ids;
}

// ---------------------------------------------------------------------------------------------------
// Entries committed per second through N cores wired together in memory. Every Ready is handled at once,
// in the contract's order: persisted to an in-memory DurableStore, its messages queued, its committed
// entries applied, advance(). No fsync, no network, and no ticks (so no heartbeats) during the run. Two
// harnesses do that:
//   Cluster   sim::Cluster, the test harness: applies to a KvStateMachine, describes every event for
//             observers, checks links, queues messages in a vector;
//   CoreLoop  below: the core's own work plus the in-memory DurableStore, with a trivial state machine
//             (it checks the order of the applied indexes), to show what the core costs without the
//             harness. BM_KvStateMachineApply gives the test state machine's share separately.

// A minimal node loop around N Raft cores: persist to a DurableStore, queue messages in a deque, check
// and count applied entries, advance.
class CoreLoop {
 public:
  explicit CoreLoop(const std::vector<NodeId>& ids) : size_(ids.size()) {
    uint64_t seed = 42;
    for (NodeId id : ids) {
      raft::Config config;
      config.id = id;
      config.voters = ids;
      config.seed = seed++;
      Result<std::unique_ptr<raft::Raft>> created = raft::Raft::create(config);
      if (!created.is_ok()) continue;
      nodes_[id].raft = std::move(created).value();
    }
  }

  // Empty if every core was built and none refused anything since reset_refused().
  std::string error() const {
    if (nodes_.size() != size_) return "a core could not be built";
    if (refused_ > 0) return std::to_string(refused_) + " inputs refused, the first: " + first_refusal_;
    return "";
  }
  // Late votes after an election are refused as stale; the benchmark counts refusals after setup only.
  void reset_refused() {
    refused_ = 0;
    first_refusal_.clear();
  }
  Engine& engine(NodeId id) { return *nodes_.at(id).raft; }
  Index applied_index(NodeId id) const { return nodes_.at(id).applied; }

  // Ticks `id` until it campaigns, then delivers everything. Returns the leader after, if any.
  std::optional<NodeId> campaign(NodeId id) {
    Node& node = nodes_.at(id);
    for (int k = 0; k < 1000 && node.raft->status().role == Role::kFollower; ++k) {
      node.raft->tick();
      handle_ready(node);
    }
    deliver_all();
    for (auto& [other, n] : nodes_) {
      if (n.raft->status().role == Role::kLeader) return other;
    }
    return std::nullopt;
  }

  Result<Proposal> propose(NodeId id, std::string data) {
    Node& node = nodes_.at(id);
    Result<Proposal> result = node.raft->propose(std::move(data));
    handle_ready(node);
    return result;
  }

  size_t deliver_all() {
    size_t delivered = 0;
    while (!in_flight_.empty()) {
      Message message = std::move(in_flight_.front());
      in_flight_.pop_front();
      Node& node = nodes_.at(message.to);
      if (Status status = node.raft->step(message); !status.is_ok()) refuse(status.to_string());
      handle_ready(node);
      ++delivered;
    }
    return delivered;
  }

  // As sim::Cluster::compact: snapshot at the applied index, compact, keep the snapshot.
  Status compact(NodeId id) {
    Node& node = nodes_.at(id);
    Index index = node.applied;
    std::optional<Term> term = node.raft->term_at(index);
    if (!term) return Status(ErrorCode::kCompacted, "nothing new to compact");
    std::string data = std::to_string(index);
    Status status = node.raft->compact(index, data);
    if (status.is_ok()) {
      SnapshotMeta meta{index, *term, ConfState{node.raft->quorum().voters()}};
      SYNOD_ASSERT(node.store.save_snapshot(std::make_shared<const Snapshot>(Snapshot{meta, std::move(data)}))
                       .is_ok());
    }
    handle_ready(node);
    return status;
  }

 private:
  struct Node {
    std::unique_ptr<raft::Raft> raft;
    sim::DurableStore store;
    Index applied = 0;
  };

  void refuse(std::string why) {
    if (refused_++ == 0) first_refusal_ = std::move(why);
  }

  void handle_ready(Node& node) {
    while (node.raft->has_ready()) {
      Ready ready = node.raft->ready();
      SYNOD_ASSERT(node.store.persist(ready).is_ok());
      for (Message& message : ready.messages) in_flight_.push_back(std::move(message));
      if (ready.snapshot) node.applied = ready.snapshot->meta.index;
      for (const Entry& entry : ready.committed) {
        if (entry.index != node.applied + 1)
          refuse("entry " + std::to_string(entry.index) + " applied out of order");
        node.applied = entry.index;
      }
      node.raft->advance();
    }
  }

  size_t size_;
  std::map<NodeId, Node> nodes_;  // only the cores that were built
  std::deque<Message> in_flight_;
  uint64_t refused_ = 0;  // steps refused, entries applied out of order
  std::string first_refusal_;
};

enum class Mode {
  kUnbatched,  // propose 1 entry, deliver until it is committed everywhere, repeat
  kPipelined,  // propose 64 entries, each handled in its own Ready (64 Appends per follower), deliver
  kBatched,    // propose 64 entries before the leader's next Ready (one Append per follower), deliver
};

std::unique_ptr<sim::Cluster> make_harness(const std::vector<NodeId>& ids, sim::Cluster* /*tag*/) {
  return std::make_unique<sim::Cluster>(ids, sim::raft_engine_factory(raft::Config{}), /*seed=*/42);
}
std::unique_ptr<CoreLoop> make_harness(const std::vector<NodeId>& ids, CoreLoop* /*tag*/) {
  return std::make_unique<CoreLoop>(ids);
}
// What the benchmark needs to know about a harness beyond the calls both share.
std::string harness_error(const sim::Cluster& /*cluster*/) {
  return "";
}
std::string harness_error(const CoreLoop& loop) {
  return loop.error();
}
void reset_harness_errors(sim::Cluster& /*cluster*/) {}
void reset_harness_errors(CoreLoop& loop) {
  loop.reset_refused();
}
Index applied_index(const sim::Cluster& cluster, NodeId id) {
  return cluster.state_machine(id).applied_index();
}
Index applied_index(const CoreLoop& loop, NodeId id) {
  return loop.applied_index(id);
}

// Messages dropped and proposals rejected, summed over the cluster's cores.
template <typename Harness>
uint64_t refusals(Harness& harness, const std::vector<NodeId>& ids) {
  uint64_t total = 0;
  for (NodeId id : ids) {
    const EngineCounters counters = harness.engine(id).status().counters;
    total +=
        counters.messages_dropped_invalid + counters.messages_dropped_stale + counters.proposals_rejected;
  }
  return total;
}

template <typename Harness, Mode mode>
void BM_Commit(benchmark::State& state) {
  const int64_t nodes = state.range(0);
  const std::string payload = make_payload(static_cast<size_t>(state.range(1)));
  const uint64_t batch = mode == Mode::kUnbatched ? 1 : 64;

  const std::vector<NodeId> ids = voter_ids(nodes);
  std::unique_ptr<Harness> harness = make_harness(ids, static_cast<Harness*>(nullptr));
  if (std::string error = harness_error(*harness); !error.empty()) {
    state.SkipWithError(("setup: " + error).c_str());
    return;
  }
  std::optional<NodeId> elected = harness->campaign(1);
  if (!elected || *elected != 1) {
    state.SkipWithError("setup: node 1 did not become leader");
    return;
  }
  const NodeId leader = *elected;
  Engine& engine = harness->engine(leader);
  const Index start_commit = engine.status().commit;
  if (start_commit == 0) {
    state.SkipWithError("setup: the new leader's no-op did not commit");
    return;
  }
  reset_harness_errors(*harness);
  const uint64_t refusals_after_setup = refusals(*harness, ids);  // late votes of the election

  uint64_t proposed = 0;
  uint64_t delivered = 0;
  for (auto _ : state) {
    for (uint64_t k = 0; k < batch; ++k) {
      // In batched mode all but the last proposal go straight to the engine, so they wait for the Ready
      // the last one (through the harness) triggers, as in a server loop that drains its proposal queue
      // before asking the core for a Ready.
      Result<Proposal> result = (mode == Mode::kBatched && k + 1 < batch) ? engine.propose(payload)
                                                                          : harness->propose(leader, payload);
      if (!result.is_ok()) {
        state.SkipWithError(("propose failed: " + result.status().to_string()).c_str());
        return;
      }
    }
    delivered += harness->deliver_all();
    proposed += batch;
    EngineStatus status = engine.status();
    if (status.last_index - status.snapshot_index >= kCompactEvery) {
      for (NodeId id : ids) {
        if (Status compacted = harness->compact(id); !compacted.is_ok()) {
          state.SkipWithError(("compact failed: " + compacted.to_string()).c_str());
          return;
        }
      }
    }
  }

  // Everything proposed must be committed on the leader and applied on every node.
  const Index commit = engine.status().commit;
  if (commit != start_commit + proposed) {
    state.SkipWithError(("leader committed " + std::to_string(commit - start_commit) + " of " +
                         std::to_string(proposed) + " proposed entries")
                            .c_str());
    return;
  }
  for (NodeId id : ids) {
    if (applied_index(*harness, id) != commit || harness->engine(id).status().applied != commit) {
      state.SkipWithError(("node " + std::to_string(id) + " did not apply every committed entry").c_str());
      return;
    }
  }
  if (std::string error = harness_error(*harness); !error.empty()) {
    state.SkipWithError(("a core refused input during the run: " + error).c_str());
    return;
  }
  if (uint64_t during_run = refusals(*harness, ids) - refusals_after_setup; during_run > 0) {
    state.SkipWithError(
        (std::to_string(during_run) + " messages or proposals refused during the run").c_str());
    return;
  }
  state.SetItemsProcessed(static_cast<int64_t>(proposed));
  state.SetBytesProcessed(static_cast<int64_t>(proposed * payload.size()));
  state.counters["msgs_per_entry"] = benchmark::Counter(
      proposed == 0 ? 0.0 : static_cast<double>(delivered) / static_cast<double>(proposed));
}

void CommitArgs(benchmark::internal::Benchmark* b) {
  b->ArgNames({"nodes", "payload"});
  for (int64_t nodes : {3, 5}) {
    for (int64_t payload : {16, 256, 1024}) b->Args({nodes, payload});
  }
}

BENCHMARK(BM_Commit<sim::Cluster, Mode::kUnbatched>)->Name("BM_ClusterCommit_Unbatched")->Apply(CommitArgs);
BENCHMARK(BM_Commit<sim::Cluster, Mode::kPipelined>)->Name("BM_ClusterCommit_Pipelined64")->Apply(CommitArgs);
BENCHMARK(BM_Commit<sim::Cluster, Mode::kBatched>)->Name("BM_ClusterCommit_Batched64")->Apply(CommitArgs);
BENCHMARK(BM_Commit<CoreLoop, Mode::kUnbatched>)->Name("BM_CoreLoopCommit_Unbatched")->Apply(CommitArgs);
BENCHMARK(BM_Commit<CoreLoop, Mode::kPipelined>)->Name("BM_CoreLoopCommit_Pipelined64")->Apply(CommitArgs);
BENCHMARK(BM_Commit<CoreLoop, Mode::kBatched>)->Name("BM_CoreLoopCommit_Batched64")->Apply(CommitArgs);

// ---------------------------------------------------------------------------------------------------
// The cost of step() on one Raft core built directly (3 voters: 1, 2, 3), with the Ready drained (and
// thrown away: no persistence, no sending) after every `drain_every` steps. drain_every=1 is the cost
// of one message through a node loop; drain_every=64 shows step() itself with the Ready amortized.

raft::Config core_config(NodeId id) {
  raft::Config config;
  config.id = id;
  config.voters = {1, 2, 3};
  config.seed = 7;
  return config;
}

std::unique_ptr<raft::Raft> make_core(NodeId id) {
  Result<std::unique_ptr<raft::Raft>> created = raft::Raft::create(core_config(id));
  if (!created.is_ok()) return nullptr;
  return std::move(created).value();
}

// Hands out every pending Ready and acknowledges it, as a node loop would once it had persisted, sent
// and applied it.
void drain(raft::Raft& raft) {
  while (raft.has_ready()) {
    Ready ready = raft.ready();
    benchmark::DoNotOptimize(ready);
    raft.advance();
  }
}

Message make_message(MessageType type, NodeId from, NodeId to, Term term) {
  Message message;
  message.type = type;
  message.from = from;
  message.to = to;
  message.term = term;
  return message;
}

// Node 1 of {1, 2, 3}, elected leader by feeding it a granted pre-vote and vote from node 2, with both
// followers' acknowledgment of its no-op (so they are in the replicate state). Null if that fails.
std::unique_ptr<raft::Raft> make_leader() {
  std::unique_ptr<raft::Raft> raft = make_core(1);
  if (!raft) return nullptr;
  for (int k = 0; k < 1000 && raft->status().role == Role::kFollower; ++k) raft->tick();
  drain(*raft);
  if (raft->status().role != Role::kPreCandidate) return nullptr;
  if (!raft->step(make_message(MessageType::kPreVoteResponse, 2, 1, raft->status().term + 1)).is_ok()) {
    return nullptr;
  }
  drain(*raft);
  if (raft->status().role != Role::kCandidate) return nullptr;
  if (!raft->step(make_message(MessageType::kVoteResponse, 2, 1, raft->status().term)).is_ok())
    return nullptr;
  drain(*raft);
  if (raft->status().role != Role::kLeader) return nullptr;
  for (NodeId follower : {NodeId{2}, NodeId{3}}) {
    Message ack = make_message(MessageType::kAppendResponse, follower, 1, raft->status().term);
    ack.index = raft->status().last_index;
    if (!raft->step(ack).is_ok()) return nullptr;
  }
  drain(*raft);
  EngineStatus status = raft->status();
  if (status.role != Role::kLeader || status.commit != status.last_index) return nullptr;
  return raft;
}

// Node 2 of {1, 2, 3}, following leader 1 in term 1, with one entry of term 1 committed.
std::unique_ptr<raft::Raft> make_follower() {
  std::unique_ptr<raft::Raft> raft = make_core(2);
  if (!raft) return nullptr;
  Message append = make_message(MessageType::kAppend, 1, 2, 1);
  append.entries.push_back(Entry{1, 1, EntryType::kNormal, "x"});
  if (!raft->step(append).is_ok()) return nullptr;
  drain(*raft);
  Message heartbeat = make_message(MessageType::kHeartbeat, 1, 2, 1);
  heartbeat.commit = 1;
  if (!raft->step(heartbeat).is_ok()) return nullptr;
  drain(*raft);
  EngineStatus status = raft->status();
  if (status.role != Role::kFollower || status.leader != 1 || status.commit != 1 || status.applied != 1) {
    return nullptr;
  }
  return raft;
}

bool clean_counters(const raft::Raft& raft) {
  const EngineCounters counters = raft.status().counters;
  return counters.messages_dropped_invalid == 0 && counters.messages_dropped_stale == 0 &&
         counters.proposals_rejected == 0;
}

// (a) A follower handles an Append carrying one 256-byte entry that extends its log; each message also
// commits the entry before it (as a leader's would once a quorum acknowledged it).
void BM_StepFollowerAppend(benchmark::State& state) {
  const int64_t drain_every = state.range(0);
  std::unique_ptr<raft::Raft> raft = make_follower();
  if (!raft) {
    state.SkipWithError("setup: could not build a follower");
    return;
  }
  const Index start = raft->status().last_index;
  Message append = make_message(MessageType::kAppend, 1, 2, 1);
  append.index = start;
  append.log_term = 1;
  append.commit = start;
  append.entries.push_back(Entry{1, start + 1, EntryType::kNormal, make_payload(256)});

  int64_t since_drain = 0;
  uint64_t steps = 0;
  for (auto _ : state) {
    if (!raft->step(append).is_ok()) {
      state.SkipWithError("a valid Append was refused");
      return;
    }
    if (++since_drain == drain_every) {
      drain(*raft);
      since_drain = 0;
    }
    ++steps;
    append.index += 1;
    append.commit = append.index;
    append.entries[0].index += 1;
    if (steps % kCompactEvery == 0) {
      state.PauseTiming();
      drain(*raft);
      Status compacted = raft->compact(raft->log().applied(), "");
      state.ResumeTiming();
      if (!compacted.is_ok()) {
        state.SkipWithError(("compact failed: " + compacted.to_string()).c_str());
        return;
      }
    }
  }
  drain(*raft);
  EngineStatus status = raft->status();
  if (status.last_index != start + steps || status.commit != start + steps - 1 || !clean_counters(*raft)) {
    state.SkipWithError("the follower did not append and commit every entry");
    return;
  }
  state.SetItemsProcessed(static_cast<int64_t>(steps));
}

// (b) The leader handles AppendResponse acknowledgments. Outside the timing it proposes a window of 128
// entries, each sent in its own Append (so 128 are in flight to each follower); timed, it takes one ack
// per entry from each follower in turn. The ack from node 2 commits the entry (leader + 2 is a quorum)
// and makes the leader broadcast the new commit index; the ack from node 3 only updates its progress.
void BM_StepLeaderAppendResponse(benchmark::State& state) {
  const int64_t drain_every = state.range(0);
  constexpr Index kWindow = 128;
  std::unique_ptr<raft::Raft> raft = make_leader();
  if (!raft) {
    state.SkipWithError("setup: could not elect a leader");
    return;
  }
  const Term term = raft->status().term;
  const Index start_commit = raft->status().commit;
  const std::string payload = make_payload(256);
  Message ack = make_message(MessageType::kAppendResponse, 2, 1, term);
  Index acked = start_commit;  // the last index both followers acknowledged
  Index proposed = start_commit;
  int64_t since_drain = 0;
  uint64_t steps = 0;
  for (auto _ : state) {
    if (acked == proposed && ack.from == 2) {
      state.PauseTiming();
      drain(*raft);
      if (raft->log().applied() - raft->log().snapshot_index() >= kCompactEvery) {
        (void)raft->compact(raft->log().applied(), "");
      }
      for (Index k = 0; k < kWindow; ++k) {
        if (!raft->propose(payload).is_ok()) break;
        drain(*raft);
      }
      proposed = raft->status().last_index;
      state.ResumeTiming();
      if (proposed != acked + kWindow) {
        state.SkipWithError("the leader refused a proposal");
        return;
      }
    }
    if (ack.from == 2) {
      ack.index = acked + 1;
    } else {
      acked = ack.index;
    }
    if (!raft->step(ack).is_ok()) {
      state.SkipWithError("a valid AppendResponse was refused");
      return;
    }
    ack.from = ack.from == 2 ? 3 : 2;
    if (++since_drain == drain_every) {
      drain(*raft);
      since_drain = 0;
    }
    ++steps;
  }
  drain(*raft);
  EngineStatus status = raft->status();
  const Index expected_commit = ack.from == 3 ? ack.index : acked;
  if (status.role != Role::kLeader || status.commit != expected_commit || !clean_counters(*raft)) {
    state.SkipWithError("the leader did not commit every acknowledged entry");
    return;
  }
  state.SetItemsProcessed(static_cast<int64_t>(steps));
}

// (c1) A follower handles a Heartbeat (and answers it).
void BM_StepFollowerHeartbeat(benchmark::State& state) {
  const int64_t drain_every = state.range(0);
  std::unique_ptr<raft::Raft> raft = make_follower();
  if (!raft) {
    state.SkipWithError("setup: could not build a follower");
    return;
  }
  Message heartbeat = make_message(MessageType::kHeartbeat, 1, 2, 1);
  heartbeat.commit = raft->status().commit;
  int64_t since_drain = 0;
  uint64_t steps = 0;
  for (auto _ : state) {
    if (!raft->step(heartbeat).is_ok()) {
      state.SkipWithError("a valid Heartbeat was refused");
      return;
    }
    if (++since_drain == drain_every) {
      drain(*raft);
      since_drain = 0;
    }
    ++steps;
  }
  drain(*raft);
  if (raft->status().role != Role::kFollower || !clean_counters(*raft)) {
    state.SkipWithError("the follower dropped a heartbeat");
    return;
  }
  state.SetItemsProcessed(static_cast<int64_t>(steps));
}

// (c2) The leader handles HeartbeatResponses from followers that are up to date (nothing to resend).
void BM_StepLeaderHeartbeatResponse(benchmark::State& state) {
  const int64_t drain_every = state.range(0);
  std::unique_ptr<raft::Raft> raft = make_leader();
  if (!raft) {
    state.SkipWithError("setup: could not elect a leader");
    return;
  }
  Message response = make_message(MessageType::kHeartbeatResponse, 2, 1, raft->status().term);
  int64_t since_drain = 0;
  uint64_t steps = 0;
  for (auto _ : state) {
    if (!raft->step(response).is_ok()) {
      state.SkipWithError("a valid HeartbeatResponse was refused");
      return;
    }
    response.from = response.from == 2 ? 3 : 2;
    if (++since_drain == drain_every) {
      drain(*raft);
      since_drain = 0;
    }
    ++steps;
  }
  drain(*raft);
  if (raft->status().role != Role::kLeader || !clean_counters(*raft)) {
    state.SkipWithError("the leader dropped a heartbeat response");
    return;
  }
  state.SetItemsProcessed(static_cast<int64_t>(steps));
}

// (c3) One whole heartbeat round at the leader: tick (heartbeat_tick = 1, so it broadcasts a Heartbeat
// to both followers), drain, take both HeartbeatResponses, drain. Check-quorum stays satisfied because
// the responses mark the followers active.
void BM_LeaderHeartbeatRound(benchmark::State& state) {
  std::unique_ptr<raft::Raft> raft = make_leader();
  if (!raft) {
    state.SkipWithError("setup: could not elect a leader");
    return;
  }
  Message response = make_message(MessageType::kHeartbeatResponse, 2, 1, raft->status().term);
  uint64_t rounds = 0;
  for (auto _ : state) {
    raft->tick();
    drain(*raft);
    for (NodeId from : {NodeId{2}, NodeId{3}}) {
      response.from = from;
      if (!raft->step(response).is_ok()) {
        state.SkipWithError("a valid HeartbeatResponse was refused");
        return;
      }
    }
    drain(*raft);
    ++rounds;
  }
  if (raft->status().role != Role::kLeader || !clean_counters(*raft)) {
    state.SkipWithError("the leader lost its leadership during heartbeat rounds");
    return;
  }
  state.SetItemsProcessed(static_cast<int64_t>(rounds));
}

BENCHMARK(BM_StepFollowerAppend)->ArgName("drain_every")->Arg(1)->Arg(64);
BENCHMARK(BM_StepLeaderAppendResponse)->ArgName("drain_every")->Arg(1)->Arg(64);
BENCHMARK(BM_StepFollowerHeartbeat)->ArgName("drain_every")->Arg(1)->Arg(64);
BENCHMARK(BM_StepLeaderHeartbeatResponse)->ArgName("drain_every")->Arg(1)->Arg(64);
BENCHMARK(BM_LeaderHeartbeatRound);

// ---------------------------------------------------------------------------------------------------
// The test state machine behind sim::Cluster: applying one opaque entry (parse the verb, extend the hash
// chain). Part of every node's cost in the BM_ClusterCommit numbers, absent from BM_CoreLoopCommit.

void BM_KvStateMachineApply(benchmark::State& state) {
  sim::KvStateMachine machine;
  Entry entry{1, 1, EntryType::kNormal, make_payload(static_cast<size_t>(state.range(0)))};
  for (auto _ : state) {
    machine.apply(entry);
    ++entry.index;
  }
  if (machine.applied_index() != entry.index - 1) state.SkipWithError("an entry was not applied");
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * state.range(0));
}

BENCHMARK(BM_KvStateMachineApply)->ArgName("payload")->Arg(16)->Arg(256)->Arg(1024);

// ---------------------------------------------------------------------------------------------------
// Quorum arithmetic: the committed index of a majority, through QuorumConfig (what the leader calls
// after every acknowledgment), with the acknowledged indexes looked up through a callback.

void BM_QuorumCommittedIndex(benchmark::State& state) {
  const int64_t voters = state.range(0);
  QuorumConfig quorum{MajorityConfig(voter_ids(voters))};
  std::vector<Index> acked(static_cast<size_t>(voters) + 1);
  for (size_t id = 1; id < acked.size(); ++id) acked[id] = 1000 + (id * 7) % acked.size();
  const AckedIndexFn lookup = [&acked](NodeId id) -> std::optional<Index> { return acked[id]; };
  size_t next = 1;
  for (auto _ : state) {
    // One voter acknowledges more each time, as in a running leader.
    acked[next] += 1;
    next = next + 1 == acked.size() ? 1 : next + 1;
    Index committed = quorum.committed_index(lookup);
    benchmark::DoNotOptimize(committed);
  }
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(BM_QuorumCommittedIndex)->ArgName("voters")->Arg(3)->Arg(5)->Arg(7);

}  // namespace
}  // namespace synod
