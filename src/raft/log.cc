#include "raft/log.h"

#include <algorithm>

#include "base/assert.h"

namespace synod::raft {

std::optional<RaftLog> RaftLog::restore(const DurableState& state) {
  RaftLog log;
  if (state.snapshot) {
    log.snapshot_index_ = state.snapshot->meta.index;
    log.snapshot_term_ = state.snapshot->meta.term;
  }
  Term previous_term = log.snapshot_term_;
  Index expected_index = log.snapshot_index_ + 1;
  for (const Entry& entry : state.entries) {
    if (entry.index != expected_index || entry.term < previous_term) return std::nullopt;
    previous_term = entry.term;
    ++expected_index;
  }
  log.entries_ = state.entries;
  if (state.hard_state.commit > log.last_index()) return std::nullopt;
  if (!state.entries.empty() && state.entries.back().term > state.hard_state.term) return std::nullopt;
  log.committed_ = std::max(state.hard_state.commit, log.snapshot_index_);
  log.applying_ = log.snapshot_index_;
  log.applied_ = log.snapshot_index_;
  log.stable_ = log.last_index();
  return log;
}

Term RaftLog::last_term() const {
  return entries_.empty() ? snapshot_term_ : entries_.back().term;
}

std::optional<Term> RaftLog::term(Index index) const {
  if (index == snapshot_index_) return snapshot_term_;
  if (index < snapshot_index_ || index > last_index()) return std::nullopt;
  return entries_[index - snapshot_index_ - 1].term;
}

bool RaftLog::match_term(Index index, Term term_value) const {
  auto found = term(index);
  return found.has_value() && *found == term_value;
}

const Entry* RaftLog::entry(Index index) const {
  if (index <= snapshot_index_ || index > last_index()) return nullptr;
  return &entries_[index - snapshot_index_ - 1];
}

bool RaftLog::is_up_to_date(Index candidate_last_index, Term candidate_last_term) const {
  Term mine = last_term();
  return candidate_last_term > mine || (candidate_last_term == mine && candidate_last_index >= last_index());
}

std::optional<Index> RaftLog::maybe_append(Index prev_index, Term prev_term,
                                           const std::vector<Entry>& entries, bool* overwrite_committed) {
  *overwrite_committed = false;
  if (!match_term(prev_index, prev_term)) return std::nullopt;
  Index last_new = prev_index + entries.size();
  // Find the first entry that is not already in the log with the same term.
  size_t first_new = 0;
  for (; first_new < entries.size(); ++first_new) {
    const Entry& incoming = entries[first_new];
    if (incoming.index <= snapshot_index_) continue;  // covered by the snapshot: committed, identical
    if (!match_term(incoming.index, incoming.term)) break;
  }
  if (first_new == entries.size()) return last_new;
  Index conflict = entries[first_new].index;
  if (conflict <= committed_) {
    *overwrite_committed = true;
    return std::nullopt;
  }
  if (conflict <= last_index()) {
    entries_.resize(conflict - snapshot_index_ - 1);
    stable_ = std::min(stable_, conflict - 1);
  }
  entries_.insert(entries_.end(), entries.begin() + static_cast<std::ptrdiff_t>(first_new), entries.end());
  ++version_;
  return last_new;
}

void RaftLog::append(Entry entry) {
  SYNOD_ASSERT(entry.index == last_index() + 1);
  SYNOD_ASSERT(entry.term >= last_term());
  entries_.push_back(std::move(entry));
  ++version_;
}

std::optional<std::vector<Entry>> RaftLog::slice(Index low, Index high, size_t max_bytes) const {
  SYNOD_ASSERT(low <= high);
  if (low <= snapshot_index_ || high > last_index() + 1) return std::nullopt;
  std::vector<Entry> out;
  out.reserve(std::min<size_t>(high - low, 64));
  size_t bytes = 0;
  for (Index index = low; index < high; ++index) {
    const Entry& entry = entries_[index - snapshot_index_ - 1];
    if (!out.empty() && bytes + entry.size_bytes() > max_bytes) break;
    bytes += entry.size_bytes();
    out.push_back(entry);
  }
  return out;
}

Index RaftLog::first_index_of_term_at(Index index) const {
  SYNOD_ASSERT(index >= snapshot_index_ && index <= last_index());
  Term wanted = *term(index);
  while (index > snapshot_index_ + 1 && *term(index - 1) == wanted) --index;
  return index;
}

std::optional<Index> RaftLog::last_index_of_term(Term wanted) const {
  for (Index index = last_index(); index > snapshot_index_; --index) {
    Term found = *term(index);
    if (found == wanted) return index;
    if (found < wanted) return std::nullopt;  // terms only grow along the log
  }
  if (snapshot_term_ == wanted && snapshot_index_ > 0) return snapshot_index_;
  return std::nullopt;
}

bool RaftLog::maybe_commit(Index index, Term term_value) {
  if (index <= committed_ || !match_term(index, term_value)) return false;
  committed_ = index;
  return true;
}

void RaftLog::commit_to(Index index) {
  if (index <= committed_) return;
  SYNOD_ASSERT(index <= last_index());
  committed_ = index;
}

std::vector<Entry> RaftLog::unstable_entries() const {
  if (stable_ >= last_index()) return {};
  return {entries_.begin() + static_cast<std::ptrdiff_t>(stable_ - snapshot_index_), entries_.end()};
}

void RaftLog::stable_to(Index index, Term term_value) {
  if (index <= stable_ || !match_term(index, term_value)) return;
  stable_ = index;
}

std::vector<Entry> RaftLog::next_committed() const {
  Index from = std::max(applying_, snapshot_index_) + 1;
  if (from > committed_) return {};
  return {entries_.begin() + static_cast<std::ptrdiff_t>(from - snapshot_index_ - 1),
          entries_.begin() + static_cast<std::ptrdiff_t>(committed_ - snapshot_index_)};
}

void RaftLog::applying_to(Index index) {
  SYNOD_ASSERT(index <= committed_);
  applying_ = std::max(applying_, index);
}

void RaftLog::applied_to(Index index) {
  SYNOD_ASSERT(index <= applying_);
  applied_ = std::max(applied_, index);
}

void RaftLog::restore_snapshot(const SnapshotMeta& meta) {
  SYNOD_ASSERT(meta.index > committed_);
  entries_.clear();
  ++version_;
  snapshot_index_ = meta.index;
  snapshot_term_ = meta.term;
  committed_ = meta.index;
  applying_ = meta.index;
  applied_ = meta.index;
  stable_ = meta.index;
}

void RaftLog::compact(Index index) {
  SYNOD_ASSERT(index > snapshot_index_ && index <= applied_);
  Term compacted_term = *term(index);
  entries_.erase(entries_.begin(), entries_.begin() + static_cast<std::ptrdiff_t>(index - snapshot_index_));
  ++version_;
  snapshot_index_ = index;
  snapshot_term_ = compacted_term;
}

void RaftLog::encode(StateEncoder& out) const {
  out.u64(snapshot_index_);
  out.u64(snapshot_term_);
  out.u64(entries_.size());
  for (const Entry& entry : entries_) out.entry(entry);
  out.u64(committed_);
  out.u64(applying_);
  out.u64(applied_);
  out.u64(stable_);
}

}  // namespace synod::raft
