// Engine: the one interface every consensus core implements (Raft now, Multi-Paxos next). The node loop,
// the simulator, the model checker and the shared test suites are written against it, so each engine is
// held to the same tests.
//
// An engine is a pure, deterministic state machine: no threads, clocks, files or sockets, and randomness
// only from the seed it was built with. Time passes only through tick(); the world is reached only
// through the Ready it hands out (see ready.h for the caller's duties).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "base/status.h"
#include "consensus/message.h"
#include "consensus/ready.h"
#include "consensus/state_encoder.h"
#include "consensus/types.h"

namespace synod {

// Where an accepted proposal landed. A proposal forwarded to the leader has no position yet.
struct Proposal {
  Index index = 0;
  Term term = 0;
  bool forwarded = false;
};

// Counters an operator or a test reads to see what the engine refused.
struct EngineCounters {
  uint64_t messages_dropped_invalid = 0;  // failed validation (unknown sender, impossible indexes...)
  uint64_t messages_dropped_stale = 0;    // from an older term
  uint64_t proposals_rejected = 0;
};

struct EngineStatus {
  NodeId id = kNoNode;
  Role role = Role::kFollower;
  Term term = 0;
  NodeId vote = kNoNode;
  NodeId leader = kNoNode;
  Index first_index = 1;  // first entry still in the log (snapshot index + 1)
  Index last_index = 0;
  Index commit = 0;
  Index applied = 0;
  Index snapshot_index = 0;
  NodeId transferee = kNoNode;  // leader transfer target, while one is in progress
  // Changes whenever the log's entries change (never repeats within one incarnation of the engine).
  uint64_t log_version = 0;
  EngineCounters counters;
};

class Engine {
 public:
  virtual ~Engine() = default;

  // One unit of logical time. Election and heartbeat timeouts are counted in ticks.
  virtual void tick() = 0;

  // A message from a peer. Invalid or stale input is counted and refused with a Status; it never
  // changes the engine's state and never trips an assertion.
  virtual Status step(const Message& message) = 0;

  // Asks to append `data` to the replicated log.
  virtual Result<Proposal> propose(std::string data) = 0;

  // Asks for a linearizable read. When safe, a ReadState with this context appears in a Ready.
  virtual Status read_index(std::string context) = 0;

  // Asks the leader to hand leadership to `to`.
  virtual Status transfer_leader(NodeId to) = 0;

  // The application took a snapshot of its state machine after applying `index`: the engine keeps it
  // (to send to followers that fell behind) and discards the log up to `index`.
  virtual Status compact(Index index, std::string data) = 0;
  // The meta a snapshot of the state machine after `index` gets: refused (kCompacted, kInvalidArgument)
  // when compact(index, ...) would be.
  virtual Result<SnapshotMeta> snapshot_meta(Index index) const = 0;
  // compact() for a snapshot the application streamed to storage, which holds it durably and can read
  // it back: the engine keeps it detached (meta only) from the start. `meta` is what snapshot_meta()
  // gave; a meta that no longer matches (the log moved past it) is refused.
  virtual Status compact_detached(const SnapshotMeta& meta) = 0;
  // The snapshot the engine holds (the last compact() or installed one), or null: shared, so that the
  // application can make the same bytes durable instead of keeping a second copy.
  virtual SnapshotPtr snapshot() const = 0;
  // The snapshot the engine holds is durable and the application can reload it: keep only its meta
  // (a detached snapshot, consensus/types.h), so that memory holds the state machine once, not twice.
  virtual void release_snapshot_data() = 0;

  virtual bool has_ready() const = 0;
  // Hands out the pending work. Call advance() once it has been handled before calling ready() again.
  virtual Ready ready() = 0;
  virtual void advance() = 0;

  virtual EngineStatus status() const = 0;

  // Read access to the log for checkers and tools: the entry at `index`, if still held.
  virtual std::optional<Entry> entry_at(Index index) const = 0;
  virtual std::optional<Term> term_at(Index index) const = 0;

  // For the model checker (check/mc): a deep copy of this engine, and the canonical encoding of every
  // part of its state that decides what it does next, except timers, clocks and randomness (the
  // checker treats time as a choice: a timeout fires whenever it says so) and counters that only
  // report. Call both between Readies only (after advance()).
  virtual std::unique_ptr<Engine> clone() const = 0;
  virtual void encode_state(StateEncoder& out) const = 0;
};

}  // namespace synod
