// Node: the glue between a consensus engine and the world, shared by the server and the simulator. It
// is single-threaded and deterministic: whoever owns it (the server's node loop, the simulator) feeds it
// ticks, messages and client requests, then calls process_ready(). It reaches the world only through
// its Storage, its StateMachine and the outbox function it was given.
//
// What it adds to the bare engine:
//   - proposals with completions: propose() wraps the command in an envelope naming this node, this
//     incarnation and a request id; when the entry is applied, the state machine's result goes back to
//     the proposer (whichever node the entry was forwarded to). A proposal whose log slot was taken by
//     another entry fails with kAborted (it can never commit); one whose fate cannot be known in time
//     fails with kTimedOut (it may still take effect).
//   - linearizable reads: read() asks the engine for a read index (Raft thesis, section 6.4) and
//     completes once the state machine has applied up to it; the caller then reads its state machine.
//   - snapshots: after `snapshot_entries` applied entries, the state machine begins a snapshot, which
//     the node encodes a slice per turn (`snapshot_slice_bytes`) while it goes on applying, and hands
//     each slice to storage as it comes (Storage::begin_snapshot), so memory never holds the whole
//     encoding. Once storage holds the snapshot durably, the engine's log is compacted up to the index
//     it began at and the engine keeps only its meta; the rare message that sends it to a lagging
//     follower is refilled from storage. A snapshot installed from the leader lets its bytes go the
//     same way once durable.
//
// Callbacks run from tick(), process_ready() and fail_pending(), after the engine's Ready has been
// handled. They may call propose() and read(), but must not destroy the node.
//
// Peers are trusted to run Synod: an envelope can be forged by anyone who can propose, and a snapshot
// the state machine cannot restore stops the node (process_ready() returns the error).
//
// The apply loop, the read path and the proposal bookkeeping each live in one function below.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "consensus/engine.h"
#include "consensus/state_machine.h"
#include "consensus/storage.h"

namespace synod::node {

#if SYNOD_BUG_INJECTION
// Test-only mistakes in the glue, to prove the simulator's linearizability check catches them.
struct NodeBugs {
  // Answer reads from local state at once, without a read index: a stale follower or a deposed
  // leader serves old data.
  bool serve_reads_locally = false;
  // Answer a read as soon as its read index is known, without waiting for the state machine to apply
  // up to it: a lagging follower serves state older than the read index.
  bool skip_apply_wait = false;
};
#endif

struct NodeOptions {
  NodeId id = kNoNode;
  // The voters, recorded in snapshot metadata (until membership changes land).
  std::vector<NodeId> voters;
  // Must differ between starts of the same node, and not be 0: an entry proposed before a restart may
  // commit after it and must not complete a request of the new incarnation. The server keeps a counter
  // on disk.
  uint64_t incarnation = 0;
  // Snapshot and compact after this many applied entries since the last snapshot (0: never).
  uint64_t snapshot_entries = 10'000;
  // How much of a snapshot to encode per turn: about 1 ms of work. Every turn of a loop that waits for
  // input has to wait less while a snapshot is in progress (snapshot_slice_due()).
  size_t snapshot_slice_bytes = size_t{1} << 20U;
  // While storage holds this much of the snapshot not yet written out, the node encodes no more: a
  // slow disk then holds a few slices in memory, not the whole store.
  size_t snapshot_backlog_bytes = size_t{8} << 20U;
  // Pending proposals and reads give up (kTimedOut) after this many ticks.
  uint64_t request_timeout_ticks = 100;
#if SYNOD_BUG_INJECTION
  NodeBugs bugs;
#endif
};

// The state machine's result for an applied proposal, or why there is none.
using ProposeDone = std::function<void(Result<std::string>)>;
// Ok once the state machine may be read linearizably, or why not.
using ReadDone = std::function<void(Status)>;
using Outbox = std::function<void(Message&&)>;
// Sees each applied entry after the state machine applied it (for checkers).
using ApplyHook = std::function<void(const Entry&)>;

class Node {
 public:
  // `state_machine` must already hold the state of the engine's snapshot, if it started from one.
  Node(NodeOptions options, std::unique_ptr<Engine> engine, StateMachine& state_machine, Storage& storage,
       Outbox outbox);
  ~Node();  // pending requests are dropped unanswered, as a crash would
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  void set_apply_hook(ApplyHook hook) { apply_hook_ = std::move(hook); }

  // Inputs. Call process_ready() after one or a batch of them.
  void tick();
  Status step(const Message& message);
  // On error the proposal was refused and `done` is never called; otherwise `done` is called exactly
  // once (unless the node is destroyed first).
  Result<Proposal> propose(std::string_view command, ProposeDone done);
  // On error `done` is never called; otherwise exactly once (unless the node is destroyed first).
  Status read(ReadDone done);
  Status transfer_leader(NodeId to) { return engine_->transfer_leader(to); }

  // Handles every pending Ready: persist, send, apply (completing proposals), serve reads, advance;
  // then snapshots if due. An error comes from storage: the node must stop.
  Status process_ready();

  // Answers every pending request with `status` (a clean shutdown).
  void fail_pending(const Status& status);

  const Engine& engine() const { return *engine_; }
  EngineStatus status() const { return engine_->status(); }
  Index applied_index() const { return state_machine_.applied_index(); }
  size_t pending_proposals() const { return proposals_.size(); }
  size_t pending_reads() const { return reads_.size(); }
  // Whether a snapshot is being encoded.
  bool snapshot_in_progress() const { return snapshot_writer_ != nullptr; }
  // Whether its next slice may be encoded now: the owner should call process_ready() again soon, input
  // or not. Not while storage is behind with the slices it has, so a slow disk does not spin the loop.
  bool snapshot_slice_due() const {
    return snapshot_writer_ != nullptr && snapshot_sink_->backlog_bytes() < options_.snapshot_backlog_bytes;
  }

 private:
  struct PendingProposal {
    ProposeDone done;
    Index index = 0;        // 0 while forwarded (the leader chooses the slot)
    uint64_t deadline = 0;  // in ticks
  };
  struct PendingRead {
    ReadDone done;
    Index index = 0;  // 0 until the engine confirmed a read index
    uint64_t deadline = 0;
  };

  void apply(const Entry& entry);
  void settle_slot(Index index, uint64_t applied_request);
  Status install_snapshot(const Snapshot& snapshot);
  // Completions run once the engine's Ready is handled (never in the middle of it), so a callback may
  // propose or read again.
  void later(ProposeDone done, Result<std::string> result);
  void later_read(ReadDone done, Status status);
  void run_completions();
  // Asks the engine for one read index for every read that came in since the last call.
  void flush_reads();
  void confirm_read(const ReadState& state);
  void serve_reads();
  void abandon_unconfirmed_reads();
  // Begins, continues or finishes this node's own snapshot.
  Status maybe_snapshot();
  // Compacts the engine to the snapshot written last, once storage holds it durably.
  void compact_to_written_snapshot();
  // Drops this node's own snapshot, begun or written: the leader's, about to be installed, is newer.
  void abandon_snapshot();
  // Lets the engine drop an installed snapshot's bytes once storage can read them back.
  void release_durable_snapshot();
  // Hands a message to the outbox, first reading back the bytes of a snapshot it carries detached.
  Status send(Message message);
  void expire_requests();

  NodeOptions options_;
  std::unique_ptr<Engine> engine_;
  StateMachine& state_machine_;
  Storage& storage_;
  Outbox outbox_;
  ApplyHook apply_hook_;
  uint64_t ticks_ = 0;
  uint64_t next_request_ = 1;
  NodeId known_leader_ = kNoNode;                    // as of the last Ready that said
  Index snapshot_index_ = 0;                         // of the newest snapshot begun or installed
  std::unique_ptr<SnapshotWriter> snapshot_writer_;  // the snapshot being encoded, if any
  std::unique_ptr<SnapshotSink> snapshot_sink_;      // where its slices go
  std::optional<SnapshotMeta> written_snapshot_;     // begun, and not yet compacted to
  Index released_snapshot_index_ = 0;                // the snapshot whose bytes the engine was told to let go
  std::map<uint64_t, PendingProposal> proposals_;    // by request id
  std::multimap<Index, uint64_t> proposals_by_index_;  // proposals with a known slot
  std::map<uint64_t, PendingRead> reads_;              // by request id
  // Reads share read index requests: those that arrived in one turn are one request (its own id, the
  // batch's) to the engine, so a thousand concurrent reads cost one leadership check, not a thousand.
  std::vector<uint64_t> unbatched_reads_;
  std::map<uint64_t, std::vector<uint64_t>> read_batches_;  // batch id -> its reads' request ids
  std::vector<std::function<void()>> completions_;
};

// The envelope the node wraps around a proposed command: who proposed it, so the applying node can
// complete the right request. Exposed for tests and tools that read logs.
struct Envelope {
  NodeId origin = kNoNode;
  uint64_t incarnation = 0;
  uint64_t request = 0;
  std::string_view command;
};
std::string wrap_command(NodeId origin, uint64_t incarnation, uint64_t request, std::string_view command);
// nullopt for data the node did not wrap (a no-op, a configuration entry, a malformed envelope).
std::optional<Envelope> unwrap_command(std::string_view data);

}  // namespace synod::node
