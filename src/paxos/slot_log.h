// SlotLog: a Multi-Paxos node's slots, as its acceptor accepted them and its learner knows them chosen.
//
// Unlike a Raft log, an acceptor may accept slot s before slot s - 1 (a lost accept must not stall the
// slots behind it), and a later accept at a higher ballot may replace a slot's value until the slot is
// chosen. The log stays contiguous all the same: a slot nothing was accepted for holds a kVacant
// placeholder, so the storage contract of consensus/ready.h (contiguous entries, a write replaces the
// stored suffix from its first index) carries Paxos unchanged. Each entry's term is the ballot its slot
// was accepted at; the chosen prefix (commit) never changes again.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "consensus/state_encoder.h"
#include "consensus/types.h"

namespace synod::paxos {

class SlotLog {
 public:
  SlotLog() = default;
  // From what a node made durable; nullopt if it is inconsistent (slots not contiguous after the
  // snapshot, the chosen prefix past the last slot or holding a vacant one).
  static std::optional<SlotLog> restore(const DurableState& durable);

  Index snapshot_index() const { return snapshot_index_; }
  Term snapshot_term() const { return snapshot_term_; }
  Index first_index() const { return snapshot_index_ + 1; }
  Index last_index() const { return snapshot_index_ + slots_.size(); }
  Index commit() const { return commit_; }
  // The entry at `slot`, vacant or not; nullptr outside (snapshot_index, last_index].
  const Entry* at(Index slot) const;
  // Whether the acceptor accepted something at `slot`, and at which ballot (0 if not).
  Term accepted_ballot(Index slot) const;

  // Accepts `entry` at entry.index (> commit), filling any gap before it with vacant slots.
  void put(Entry entry);
  // Marks everything up to `index` (<= last_index, no vacant slot) chosen.
  void commit_to(Index index);
  // The application snapshotted everything up to `index` (<= applied): forget those slots.
  void compact(Index index, Term term);
  // A snapshot from the leader up to `index` (> commit): the slots after it stay (an acceptor never
  // forgets what it accepted), everything up to it is chosen and applied.
  void install(Index index, Term term);

  // Slots changed since mark_persisted(): the suffix to write, from the lowest changed slot on.
  std::vector<Entry> unpersisted() const;
  bool has_unpersisted() const { return unpersisted_from_ <= last_index(); }
  // Slots below this one are unchanged since they were last handed out to persist.
  Index unpersisted_from() const { return unpersisted_from_; }
  void mark_persisted() { unpersisted_from_ = last_index() + 1; }
  // Chosen slots not yet handed to the application, and the hand-over.
  Index applied() const { return applied_; }
  std::vector<Entry> to_apply() const;
  bool has_to_apply() const { return applied_ < commit_; }
  void mark_applied(Index index);

  // Changes whenever an entry changes; never repeats.
  uint64_t version() const { return version_; }

  // For the model checker: everything but the version counter.
  void encode(StateEncoder& out) const;

 private:
  std::deque<Entry> slots_;  // slots_[i] is slot snapshot_index_ + 1 + i
  Index snapshot_index_ = 0;
  Term snapshot_term_ = 0;
  Index commit_ = 0;
  Index applied_ = 0;
  Index unpersisted_from_ = 1;
  uint64_t version_ = 0;
};

}  // namespace synod::paxos
