#include "paxos/slot_log.h"

#include <algorithm>
#include <utility>

#include "base/assert.h"

namespace synod::paxos {

std::optional<SlotLog> SlotLog::restore(const DurableState& durable) {
  SlotLog log;
  if (durable.snapshot) {
    log.snapshot_index_ = durable.snapshot->meta.index;
    log.snapshot_term_ = durable.snapshot->meta.term;
  }
  for (const Entry& entry : durable.entries) {
    if (entry.index != log.last_index() + 1) return std::nullopt;
    log.slots_.push_back(entry);
  }
  // A commit index written without an fsync may be newer than the slots that survived: it is relearned.
  log.commit_ = std::max(log.snapshot_index_, std::min(durable.hard_state.commit, log.last_index()));
  for (Index slot = log.first_index(); slot <= log.commit_; ++slot) {
    if (log.at(slot)->type == EntryType::kVacant) return std::nullopt;
  }
  log.applied_ = log.snapshot_index_;
  log.unpersisted_from_ = log.last_index() + 1;
  return log;
}

const Entry* SlotLog::at(Index slot) const {
  if (slot <= snapshot_index_ || slot > last_index()) return nullptr;
  return &slots_[slot - snapshot_index_ - 1];
}

Term SlotLog::accepted_ballot(Index slot) const {
  const Entry* entry = at(slot);
  return entry == nullptr || entry->type == EntryType::kVacant ? 0 : entry->term;
}

void SlotLog::put(Entry entry) {
  SYNOD_ASSERT_MSG(entry.index > commit_ && entry.type != EntryType::kVacant,
                   "a chosen slot never changes, and only values are accepted");
  while (last_index() + 1 < entry.index) {
    slots_.push_back(Entry{0, last_index() + 1, EntryType::kVacant, {}});
  }
  Index slot = entry.index;
  if (slot == last_index() + 1) {
    slots_.push_back(std::move(entry));
  } else {
    slots_[slot - snapshot_index_ - 1] = std::move(entry);
  }
  unpersisted_from_ = std::min(unpersisted_from_, slot);
  ++version_;
}

void SlotLog::commit_to(Index index) {
  if (index <= commit_) return;
  SYNOD_ASSERT(index <= last_index());
  for (Index slot = commit_ + 1; slot <= index; ++slot) {
    SYNOD_ASSERT_MSG(at(slot)->type != EntryType::kVacant, "a slot nothing was accepted for is never chosen");
  }
  commit_ = index;
}

void SlotLog::compact(Index index, Term term) {
  SYNOD_ASSERT(index > snapshot_index_ && index <= applied_);
  slots_.erase(slots_.begin(), slots_.begin() + static_cast<std::ptrdiff_t>(index - snapshot_index_));
  snapshot_index_ = index;
  snapshot_term_ = term;
  unpersisted_from_ = std::max(unpersisted_from_, first_index());
}

void SlotLog::install(Index index, Term term) {
  SYNOD_ASSERT(index > commit_);
  size_t drop = std::min<size_t>(slots_.size(), index - snapshot_index_);
  slots_.erase(slots_.begin(), slots_.begin() + static_cast<std::ptrdiff_t>(drop));
  snapshot_index_ = index;
  snapshot_term_ = term;
  commit_ = index;
  applied_ = index;
  // The snapshot replaces every stored slot: what stays after it is written again.
  unpersisted_from_ = first_index();
  ++version_;
}

std::vector<Entry> SlotLog::unpersisted() const {
  std::vector<Entry> out;
  for (Index slot = std::max(unpersisted_from_, first_index()); slot <= last_index(); ++slot) {
    out.push_back(*at(slot));
  }
  return out;
}

std::vector<Entry> SlotLog::to_apply() const {
  std::vector<Entry> out;
  for (Index slot = applied_ + 1; slot <= commit_; ++slot) out.push_back(*at(slot));
  return out;
}

void SlotLog::mark_applied(Index index) {
  SYNOD_ASSERT(index <= commit_);
  applied_ = std::max(applied_, index);
}

void SlotLog::encode(StateEncoder& out) const {
  out.u64(snapshot_index_);
  out.u64(snapshot_term_);
  out.u64(slots_.size());
  for (const Entry& entry : slots_) out.entry(entry);
  out.u64(commit_);
  out.u64(applied_);
  out.u64(unpersisted_from_);
}

}  // namespace synod::paxos
