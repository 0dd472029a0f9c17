#include "consensus/progress.h"

#include <algorithm>

#include "base/assert.h"

namespace synod {

void Inflights::add(Index last_index, size_t bytes) {
  SYNOD_ASSERT(sent_.empty() || sent_.back().last_index < last_index);
  sent_.push_back({last_index, bytes});
  bytes_ += bytes;
}

void Inflights::free_up_to(Index index) {
  while (!sent_.empty() && sent_.front().last_index <= index) free_first();
}

void Inflights::free_first() {
  if (sent_.empty()) return;
  bytes_ -= sent_.front().bytes;
  sent_.pop_front();
}

void Inflights::reset() {
  sent_.clear();
  bytes_ = 0;
}

void Inflights::encode(StateEncoder& out) const {
  out.u64(sent_.size());
  for (const Sent& sent : sent_) {
    out.u64(sent.last_index);
    out.u64(sent.bytes);
  }
}

void Progress::encode(StateEncoder& out) const {
  out.u64(match_);
  out.u64(next_);
  out.u64(static_cast<uint64_t>(state_));
  out.flag(probe_sent_);
  out.u64(pending_snapshot_);
  out.flag(recent_active_);
  inflights_.encode(out);
  if (out.timed()) out.u64(static_cast<uint64_t>(snapshot_ticks()));
}

const char* progress_state_name(ProgressState state) {
  switch (state) {
    case ProgressState::kProbe: return "probe";
    case ProgressState::kReplicate: return "replicate";
    case ProgressState::kSnapshot: return "snapshot";
  }
  return "?";
}

void Progress::become_probe() {
  // After a snapshot the follower holds at least the snapshot: resume right after it.
  if (state_ == ProgressState::kSnapshot) {
    next_ = std::max(match_ + 1, pending_snapshot_ + 1);
  } else {
    next_ = match_ + 1;
  }
  state_ = ProgressState::kProbe;
  probe_sent_ = false;
  pending_snapshot_ = 0;
  inflights_.reset();
}

void Progress::become_replicate() {
  state_ = ProgressState::kReplicate;
  next_ = match_ + 1;
  probe_sent_ = false;
  pending_snapshot_ = 0;
  inflights_.reset();
}

void Progress::become_snapshot(Index snapshot_index) {
  state_ = ProgressState::kSnapshot;
  probe_sent_ = false;
  pending_snapshot_ = snapshot_index;
  snapshot_ticks_ = 0;
  inflights_.reset();
}

void Progress::sent_entries(Index last_index, size_t bytes) {
  switch (state_) {
    case ProgressState::kReplicate:
      if (last_index >= next_) {
        next_ = last_index + 1;
        inflights_.add(last_index, bytes);
      }
      break;
    case ProgressState::kProbe: probe_sent_ = true; break;
    case ProgressState::kSnapshot: SYNOD_ASSERT_MSG(false, "no batches while a snapshot is pending");
  }
}

bool Progress::maybe_update(Index index) {
  bool updated = false;
  if (index > match_) {
    match_ = index;
    updated = true;
    probe_sent_ = false;
  }
  next_ = std::max(next_, index + 1);
  return updated;
}

bool Progress::maybe_decrease(Index rejected, Index next_guess) {
  if (state_ == ProgressState::kReplicate) {
    // Appends are pipelined: a rejection at or below match is an echo of an old message.
    if (rejected <= match_) return false;
    next_ = match_ + 1;
    return true;
  }
  // Probing sends one Append at next - 1; any other rejection is stale.
  if (rejected != next_ - 1) return false;
  next_ = std::max(std::min(rejected, next_guess), match_ + 1);
  probe_sent_ = false;
  return true;
}

bool Progress::paused() const {
  switch (state_) {
    case ProgressState::kProbe: return probe_sent_;
    case ProgressState::kReplicate: return inflights_.full();
    case ProgressState::kSnapshot: return true;
  }
  return true;
}

}  // namespace synod
