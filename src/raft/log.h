// RaftLog: the core's view of the replicated log. It holds every entry after the latest snapshot in
// memory and tracks how far the log is durable, committed and applied. Storage of the bytes on disk is
// the caller's (through Ready); the core never reads a file.
//
// Invariant: snapshot_index <= applied <= applying <= committed <= last_index.
// Invariant: snapshot_index <= stable <= last_index.
// Invariant: entries_[k].index == snapshot_index + 1 + k, and terms never decrease along the log.
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

#include "consensus/state_encoder.h"
#include "consensus/types.h"

namespace synod::raft {

class RaftLog {
 public:
  RaftLog() = default;
  // Restores the log a node had made durable. Returns nullopt if `state` is inconsistent.
  static std::optional<RaftLog> restore(const DurableState& state);

  Index snapshot_index() const { return snapshot_index_; }
  Term snapshot_term() const { return snapshot_term_; }
  Index first_index() const { return snapshot_index_ + 1; }
  Index last_index() const { return snapshot_index_ + entries_.size(); }
  Term last_term() const;

  // The term of the entry at `index`: known for the snapshot's last index and every held entry.
  std::optional<Term> term(Index index) const;
  bool match_term(Index index, Term term) const;
  const Entry* entry(Index index) const;

  // Raft's election restriction (paper 5.4.1): is a log ending at (last_index, last_term) at least as
  // up to date as this one?
  bool is_up_to_date(Index last_index, Term last_term) const;

  // Follower side of AppendEntries. If the entry before `entries` matches (prev_index, prev_term),
  // appends what is new (truncating a conflicting suffix) and returns the index of the last entry the
  // message covered. Returns nullopt on a mismatch. Never truncates committed entries: an attempt
  // is reported through `overwrite_committed` and changes nothing.
  std::optional<Index> maybe_append(Index prev_index, Term prev_term, const std::vector<Entry>& entries,
                                    bool* overwrite_committed);

  // Leader side: appends an entry of the current term at the end.
  void append(Entry entry);

  // Entries in [low, high), at most `max_bytes` of them but always at least one when the range is not
  // empty. Returns nullopt if part of the range is compacted.
  std::optional<std::vector<Entry>> slice(Index low, Index high, size_t max_bytes) const;

  // The first index of the run of entries with the same term as `index`, looking no further back than
  // the snapshot. Used for the fast-backtracking hint.
  Index first_index_of_term_at(Index index) const;
  // The last index whose term is `term`, if any entry has it.
  std::optional<Index> last_index_of_term(Term term) const;

  Index committed() const { return committed_; }
  // Commits up to `index` if it holds an entry of `term` (the leader's current-term rule is the
  // caller's; this only refuses to commit an index whose term it cannot vouch for).
  bool maybe_commit(Index index, Term term);
  // Follower: the leader says `index` is committed.
  void commit_to(Index index);

  // Durability tracking: entries after stable are waiting for a Ready to persist them.
  Index stable() const { return stable_; }
  std::vector<Entry> unstable_entries() const;
  // The caller persisted entries up to (index, term); ignored if the log changed there since.
  void stable_to(Index index, Term term);

  // Applying: committed entries after `applying` are waiting to be handed to the state machine.
  Index applied() const { return applied_; }
  Index applying() const { return applying_; }
  std::vector<Entry> next_committed() const;
  void applying_to(Index index);
  void applied_to(Index index);

  // Replaces the whole log with a snapshot received from the leader.
  void restore_snapshot(const SnapshotMeta& meta);
  // Discards entries up to `index`, which the application has snapshotted. Requires index <= applied.
  void compact(Index index);

  size_t entry_count() const { return entries_.size(); }
  // Changes whenever an entry is added, replaced or discarded: lets checkers skip unchanged logs.
  uint64_t version() const { return version_; }

  // For the model checker: everything but the version counter.
  void encode(StateEncoder& out) const;

 private:
  Index snapshot_index_ = 0;
  Term snapshot_term_ = 0;
  std::vector<Entry> entries_;
  Index committed_ = 0;
  Index applying_ = 0;
  Index applied_ = 0;
  Index stable_ = 0;
  uint64_t version_ = 0;
};

}  // namespace synod::raft
