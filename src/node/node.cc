#include "node/node.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "base/assert.h"
#include "base/bytes.h"

namespace synod::node {
namespace {

// Marks data the node wrapped: a byte no state machine command of Synod's starts with.
constexpr uint8_t kEnvelopeMagic = 0xE5;

std::string read_context(uint64_t incarnation, uint64_t request) {
  ByteWriter out;
  out.put_varint(incarnation);
  out.put_varint(request);
  return std::move(out).take();
}

}  // namespace

std::string wrap_command(NodeId origin, uint64_t incarnation, uint64_t request, std::string_view command) {
  ByteWriter out;
  out.put_u8(kEnvelopeMagic);
  out.put_varint(origin);
  out.put_varint(incarnation);
  out.put_varint(request);
  std::string wrapped = std::move(out).take();
  wrapped.append(command);
  return wrapped;
}

std::optional<Envelope> unwrap_command(std::string_view data) {
  ByteReader in(data);
  Result<uint8_t> magic = in.u8();
  if (!magic.is_ok() || magic.value() != kEnvelopeMagic) return std::nullopt;
  Result<uint64_t> origin = in.varint();
  Result<uint64_t> incarnation = origin.is_ok() ? in.varint() : origin;
  Result<uint64_t> request = incarnation.is_ok() ? in.varint() : incarnation;
  if (!request.is_ok()) return std::nullopt;
  return Envelope{origin.value(), incarnation.value(), request.value(), in.rest()};
}

Node::Node(NodeOptions options, std::unique_ptr<Engine> engine, StateMachine& state_machine, Storage& storage,
           Outbox outbox)
    : options_(std::move(options)),
      engine_(std::move(engine)),
      state_machine_(state_machine),
      storage_(storage),
      outbox_(std::move(outbox)) {
  SYNOD_ASSERT(engine_ != nullptr);
  SYNOD_ASSERT_MSG(options_.incarnation != 0, "each start of a node needs a fresh, non-zero incarnation");
  snapshot_index_ = engine_->status().snapshot_index;
  SYNOD_ASSERT_MSG(state_machine_.applied_index() == engine_->status().applied,
                   "the state machine must hold the engine's snapshot before the node starts");
}

Node::~Node() = default;

void Node::tick() {
  ++ticks_;
  engine_->tick();
  expire_requests();
  run_completions();
}

Status Node::step(const Message& message) {
  return engine_->step(message);
}

// ---- Proposals ---------------------------------------------------------------------------------------

Result<Proposal> Node::propose(std::string_view command, ProposeDone done) {
  uint64_t request = next_request_++;
  Result<Proposal> proposal =
      engine_->propose(wrap_command(options_.id, options_.incarnation, request, command));
  if (!proposal.is_ok()) return proposal;
  const Proposal& where = proposal.value();
  proposals_.emplace(request,
                     PendingProposal{std::move(done), where.index, ticks_ + options_.request_timeout_ticks});
  if (!where.forwarded) proposals_by_index_.emplace(where.index, request);
  return proposal;
}

// The apply loop: one committed entry into the state machine, then whoever waits on it.
void Node::apply(const Entry& entry) {
  std::optional<Envelope> envelope;
  std::string_view command;
  if (entry.type == EntryType::kNormal) {
    envelope = unwrap_command(entry.data);
    command = envelope ? envelope->command : std::string_view(entry.data);
  }
  std::string result = state_machine_.apply(entry, command);
  SYNOD_ASSERT(state_machine_.applied_index() == entry.index);
  if (apply_hook_) apply_hook_(entry);

  uint64_t mine = 0;
  if (envelope && envelope->origin == options_.id && envelope->incarnation == options_.incarnation) {
    mine = envelope->request;
  }
  // Every other proposal of ours that sat in this slot lost it: the slot is now committed, so the
  // entry there can never be replaced and theirs can never commit.
  auto [first, last] = proposals_by_index_.equal_range(entry.index);
  for (auto it = first; it != last; ++it) {
    if (it->second == mine) continue;
    auto pending = proposals_.find(it->second);
    if (pending == proposals_.end()) continue;
    later(std::move(pending->second.done),
          Status(ErrorCode::kAborted, "log slot " + std::to_string(entry.index) +
                                          " went to another entry (a new leader); not applied"));
    proposals_.erase(pending);
  }
  proposals_by_index_.erase(first, last);
  if (mine != 0) {
    auto pending = proposals_.find(mine);
    if (pending != proposals_.end()) {
      later(std::move(pending->second.done), std::move(result));
      proposals_.erase(pending);
    }
  }
}

Status Node::install_snapshot(const Snapshot& snapshot) {
  SYNOD_ASSERT_MSG(!snapshot.detached, "a snapshot to install carries its bytes (the core refuses others)");
  Status restored = state_machine_.restore(snapshot.data);
  if (!restored.is_ok()) {
    // The leader's application wrote it, so the two disagree on the format or it was damaged on the
    // way: no retry helps, and applying further entries on the old state would diverge. Stop.
    return Status(ErrorCode::kCorruption, "cannot restore the snapshot at index " +
                                              std::to_string(snapshot.meta.index) + ": " +
                                              restored.message());
  }
  if (state_machine_.applied_index() != snapshot.meta.index) {
    return Status(ErrorCode::kCorruption, "the snapshot at index " + std::to_string(snapshot.meta.index) +
                                              " restores a state machine at index " +
                                              std::to_string(state_machine_.applied_index()));
  }
  snapshot_index_ = snapshot.meta.index;
  // Proposals inside the snapshot may or may not be in it: their outcome is unknown here.
  for (auto it = proposals_by_index_.begin();
       it != proposals_by_index_.end() && it->first <= snapshot.meta.index;) {
    auto pending = proposals_.find(it->second);
    if (pending != proposals_.end()) {
      later(std::move(pending->second.done),
            Status(ErrorCode::kTimedOut, "a snapshot from the leader covers the proposal; outcome unknown"));
      proposals_.erase(pending);
    }
    it = proposals_by_index_.erase(it);
  }
  return Status::ok();
}

// ---- Reads -------------------------------------------------------------------------------------------

// The read path: a read index from the engine (a quorum round, or the lease), then a wait until the
// state machine has applied up to it.
Status Node::read(ReadDone done) {
#if SYNOD_BUG_INJECTION
  if (options_.bugs.serve_reads_locally) {
    later_read(std::move(done), Status::ok());
    run_completions();
    return Status::ok();
  }
#endif
  if (engine_->status().leader == kNoNode) return Status(ErrorCode::kNoLeader, "no leader is known");
  uint64_t request = next_request_++;
  reads_.emplace(request, PendingRead{std::move(done), 0, ticks_ + options_.request_timeout_ticks});
  unbatched_reads_.push_back(request);
  return Status::ok();
}

// Every read of the batch arrived before the engine was asked, so the index it confirms (at least the
// leader's commit index when the request reached it, with leadership confirmed after) bounds what each
// of them must see.
void Node::flush_reads() {
  if (unbatched_reads_.empty()) return;
  std::vector<uint64_t> batch;
  batch.swap(unbatched_reads_);
  uint64_t id = next_request_++;
  Status status = engine_->read_index(read_context(options_.incarnation, id));
  if (status.is_ok()) {
    read_batches_.emplace(id, std::move(batch));
    return;
  }
  for (uint64_t request : batch) {
    auto pending = reads_.find(request);
    if (pending == reads_.end()) continue;
    later_read(std::move(pending->second.done), status);
    reads_.erase(pending);
  }
}

void Node::confirm_read(const ReadState& state) {
  ByteReader in(state.context);
  Result<uint64_t> incarnation = in.varint();
  Result<uint64_t> id = incarnation.is_ok() ? in.varint() : incarnation;
  if (!id.is_ok() || incarnation.value() != options_.incarnation) return;
  auto batch = read_batches_.find(id.value());
  if (batch == read_batches_.end()) return;
  for (uint64_t request : batch->second) {
    auto pending = reads_.find(request);
    if (pending == reads_.end()) continue;  // timed out meanwhile
    pending->second.index = state.index;
#if SYNOD_BUG_INJECTION
    if (options_.bugs.skip_apply_wait)
      pending->second.index = std::min(state.index, state_machine_.applied_index());
#endif
  }
  read_batches_.erase(batch);
}

// A read still waiting for its read index when the leader changes will not get one: the old leader
// dropped its pending read-only requests when it stepped down, and a request forwarded to it is lost.
// Failing it now (it had no effect, so the client may retry) beats making the client wait out the
// request timeout.
void Node::abandon_unconfirmed_reads() {
  read_batches_.clear();
  unbatched_reads_.clear();
  for (auto it = reads_.begin(); it != reads_.end();) {
    if (it->second.index == 0) {
      later_read(std::move(it->second.done),
                 Status(ErrorCode::kAborted, "the leader changed before the read was confirmed"));
      it = reads_.erase(it);
    } else {
      ++it;
    }
  }
}

void Node::serve_reads() {
  for (auto it = reads_.begin(); it != reads_.end();) {
    if (it->second.index != 0 && it->second.index <= state_machine_.applied_index()) {
      later_read(std::move(it->second.done), Status::ok());
      it = reads_.erase(it);
    } else {
      ++it;
    }
  }
}

// ---- Ready -------------------------------------------------------------------------------------------

Status Node::process_ready() {
  flush_reads();
  while (engine_->has_ready()) {
    Ready ready = engine_->ready();
    // A leader's replication traffic leaves before its own fsync, so followers write in parallel with
    // it (Raft thesis 10.2.1); everything else (votes, acknowledgements) waits for the disk.
    std::vector<Message> after_persist;
    for (Message& message : ready.messages) {
      if (may_send_before_persist(message)) {
        Status sent = send(std::move(message));
        if (!sent.is_ok()) return sent;
      } else {
        after_persist.push_back(std::move(message));
      }
    }
    // Committed entries older than this Ready's new ones are already durable here (each Ready is persisted
    // before the next) and on a quorum: apply them and answer their clients now rather than after this
    // Ready's fsync, which under load holds the next batch. A snapshot to install comes first, though.
    size_t applied_early = 0;
    if (!ready.snapshot) {
      Index first_new =
          ready.entries.empty() ? std::numeric_limits<Index>::max() : ready.entries.front().index;
      while (applied_early < ready.committed.size() && ready.committed[applied_early].index < first_new) {
        apply(ready.committed[applied_early++]);
      }
      if (applied_early > 0) run_completions();
    }
    // One of our own in progress is older than the leader's: it would only be refused by the engine,
    // and its file must not be marked after the leader's.
    if (ready.snapshot) abandon_snapshot();
    Status persisted = storage_.persist(ready);
    if (!persisted.is_ok()) return persisted;
    for (Message& message : after_persist) {
      Status sent = send(std::move(message));
      if (!sent.is_ok()) return sent;
    }
    if (ready.snapshot) {
      Status installed = install_snapshot(*ready.snapshot);
      if (!installed.is_ok()) return installed;
    }
    for (size_t i = applied_early; i < ready.committed.size(); ++i) apply(ready.committed[i]);
    for (const ReadState& state : ready.read_states) confirm_read(state);
    if (ready.soft_state && ready.soft_state->leader != known_leader_) {
      known_leader_ = ready.soft_state->leader;
      abandon_unconfirmed_reads();
    }
    serve_reads();
    engine_->advance();
  }
  Status snapshotted = maybe_snapshot();
  release_durable_snapshot();
  run_completions();
  return snapshotted;
}

void Node::release_durable_snapshot() {
  // Once per snapshot (this runs every turn): the engine holds the one at snapshot_index_.
  if (snapshot_index_ == released_snapshot_index_ || snapshot_index_ > storage_.reloadable_snapshot_index()) {
    return;
  }
  engine_->release_snapshot_data();
  released_snapshot_index_ = snapshot_index_;
}

Status Node::send(Message message) {
  if (message.snapshot && message.snapshot->detached) {
    Result<SnapshotPtr> reloaded = storage_.reload_snapshot(message.snapshot->meta);
    // The snapshot was durable when the engine let its bytes go: failing to read it back is the disk
    // failing, and without it the follower can never catch up. Stop, as for a failed persist.
    if (!reloaded.is_ok()) {
      return Status(reloaded.status().code(),
                    "cannot read back the snapshot at index " + std::to_string(message.snapshot->meta.index) +
                        " for node " + std::to_string(message.to) + ": " + reloaded.status().message());
    }
    message.snapshot = std::move(reloaded).value();
  }
  outbox_(std::move(message));
  return Status::ok();
}

Status Node::maybe_snapshot() {
  compact_to_written_snapshot();
  if (snapshot_writer_ == nullptr) {
    // One at a time: the last one is not durable yet.
    if (written_snapshot_) return Status::ok();
    Index applied = state_machine_.applied_index();
    if (options_.snapshot_entries == 0 || applied < snapshot_index_ + options_.snapshot_entries) {
      return Status::ok();
    }
    // Not compactable (e.g. the engine has not caught up): try again after the next apply.
    Result<SnapshotMeta> meta = engine_->snapshot_meta(applied);
    if (!meta.is_ok()) return Status::ok();
    Result<std::unique_ptr<SnapshotSink>> sink = storage_.begin_snapshot(meta.value());
    if (!sink.is_ok()) return sink.status();
    snapshot_writer_ = state_machine_.begin_snapshot();
    SYNOD_ASSERT(snapshot_writer_->index() == applied);
    snapshot_sink_ = std::move(sink).value();
    written_snapshot_ = std::move(meta).value();
    snapshot_index_ = applied;
  }
  // The disk is behind: let it catch up rather than hold the encoding in memory.
  if (!snapshot_slice_due()) return Status::ok();
  size_t budget =
      options_.snapshot_slice_bytes == 0 ? std::numeric_limits<size_t>::max() : options_.snapshot_slice_bytes;
  bool whole = snapshot_writer_->write_some(budget);
  Status appended = snapshot_sink_->append(snapshot_writer_->drain());
  if (!appended.is_ok()) return appended;
  if (!whole) return Status::ok();
  Status finished = snapshot_sink_->finish();
  snapshot_writer_.reset();
  snapshot_sink_.reset();
  if (!finished.is_ok()) return finished;
  compact_to_written_snapshot();
  return Status::ok();
}

void Node::compact_to_written_snapshot() {
  if (!written_snapshot_ || snapshot_writer_ != nullptr ||
      storage_.reloadable_snapshot_index() < written_snapshot_->index) {
    return;
  }
  // Refused only when the log moved past it (a configuration changed since it began): the log then
  // stays as it is until the next snapshot, and the file is still a sound one to recover from.
  (void)engine_->compact_detached(*written_snapshot_);
  written_snapshot_.reset();
}

void Node::abandon_snapshot() {
  snapshot_writer_.reset();
  snapshot_sink_.reset();
  written_snapshot_.reset();
}

// ---- Timeouts ----------------------------------------------------------------------------------------

void Node::expire_requests() {
  for (auto it = proposals_.begin(); it != proposals_.end();) {
    if (it->second.deadline <= ticks_) {
      later(std::move(it->second.done),
            Status(ErrorCode::kTimedOut, "not applied in time; it may still take effect"));
      it = proposals_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto it = reads_.begin(); it != reads_.end();) {
    if (it->second.deadline <= ticks_) {
      later_read(std::move(it->second.done), Status(ErrorCode::kTimedOut, "no read index in time"));
      it = reads_.erase(it);
    } else {
      ++it;
    }
  }
  // A batch whose reads all timed out waits for nothing (its answer may have been lost).
  std::erase_if(read_batches_, [&](const auto& batch) {
    return std::none_of(batch.second.begin(), batch.second.end(),
                        [&](uint64_t request) { return reads_.contains(request); });
  });
}

void Node::fail_pending(const Status& status) {
  for (auto& [request, pending] : proposals_) later(std::move(pending.done), status);
  for (auto& [request, pending] : reads_) later_read(std::move(pending.done), status);
  proposals_.clear();
  proposals_by_index_.clear();
  reads_.clear();
  unbatched_reads_.clear();
  read_batches_.clear();
  run_completions();
}

// ---- Completions -------------------------------------------------------------------------------------

void Node::later(ProposeDone done, Result<std::string> result) {
  completions_.emplace_back(
      [done = std::move(done), result = std::move(result)]() mutable { done(std::move(result)); });
}

void Node::later_read(ReadDone done, Status status) {
  completions_.emplace_back([done = std::move(done), status = std::move(status)]() mutable { done(status); });
}

void Node::run_completions() {
  // A callback may propose or read again, which may queue more: run until none is left.
  while (!completions_.empty()) {
    std::vector<std::function<void()>> batch;
    batch.swap(completions_);
    for (std::function<void()>& completion : batch) completion();
  }
}

}  // namespace synod::node
