// Progress: a leader's view of one follower's log, and the flow control of replication to it. Shared
// by the Raft core (Appends) and the Multi-Paxos core (Accepts); "a batch" below is either.
//
//   kProbe:     the leader does not know how far the follower's log goes. It sends one batch per
//               heartbeat interval and waits for the answer (Raft backtracks on each rejection; Paxos
//               resumes from the prefix the follower reports).
//   kReplicate: the follower is known to hold everything up to `match`. The leader streams batches
//               optimistically (advancing `next` on send), bounded by the inflight window, so a
//               follower that goes silent is sent a window's worth and then nothing but heartbeats.
//   kSnapshot:  the follower needs entries the leader has compacted; a snapshot is on its way and
//               nothing else is sent until it is acknowledged (or times out).
//
// Invariant: match < next.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>

#include "consensus/state_encoder.h"
#include "consensus/types.h"

namespace synod {

// The batches sent to a follower in kReplicate and not yet acknowledged, by last index and size.
class Inflights {
 public:
  Inflights(size_t max_messages, size_t max_bytes) : max_messages_(max_messages), max_bytes_(max_bytes) {}

  void add(Index last_index, size_t bytes);
  // The follower acknowledged everything up to `index`.
  void free_up_to(Index index);
  void free_first();
  void reset();
  bool full() const { return sent_.size() >= max_messages_ || bytes_ >= max_bytes_; }
  size_t count() const { return sent_.size(); }
  size_t bytes() const { return bytes_; }
  void encode(StateEncoder& out) const;

 private:
  struct Sent {
    Index last_index;
    size_t bytes;
  };
  size_t max_messages_;
  size_t max_bytes_;
  std::deque<Sent> sent_;  // Invariant: last_index strictly increasing.
  size_t bytes_ = 0;
};

enum class ProgressState : uint8_t { kProbe, kReplicate, kSnapshot };
const char* progress_state_name(ProgressState state);

class Progress {
 public:
  Progress(Index next, size_t max_inflight_messages, size_t max_inflight_bytes)
      : next_(next), inflights_(max_inflight_messages, max_inflight_bytes) {}

  Index match() const { return match_; }
  Index next() const { return next_; }
  ProgressState state() const { return state_; }
  Index pending_snapshot() const { return pending_snapshot_; }
  Inflights& inflights() { return inflights_; }
  const Inflights& inflights() const { return inflights_; }

  // Whether the follower answered since the last check-quorum round.
  bool recent_active() const { return recent_active_; }
  void set_recent_active(bool active) { recent_active_ = active; }

  void become_probe();
  void become_replicate();
  void become_snapshot(Index snapshot_index);

  // A batch covering up to `last_index` was sent (`bytes` long).
  void sent_entries(Index last_index, size_t bytes);
  void sent_probe() { probe_sent_ = true; }
  // A heartbeat answer lets a probing leader try again.
  void resume_probe() { probe_sent_ = false; }

  // The follower acknowledged up to `index`. Returns false if that was old news.
  bool maybe_update(Index index);
  // The follower rejected the Append (Raft) whose previous index was `rejected`; `next_guess` is where the
  // leader's reading of the hint says to try next. Returns false if the rejection is stale.
  bool maybe_decrease(Index rejected, Index next_guess);

  // Whether the leader must hold back new batches for now.
  bool paused() const;

  // Ticks spent in kSnapshot; a snapshot lost on the way is retried after a timeout.
  int snapshot_ticks() const { return snapshot_ticks_; }
  void tick_snapshot() { ++snapshot_ticks_; }

  // For the model checker (consensus/engine.h): all but the snapshot timer.
  void encode(StateEncoder& out) const;

 private:
  Index match_ = 0;
  Index next_ = 1;
  ProgressState state_ = ProgressState::kProbe;
  bool probe_sent_ = false;
  Index pending_snapshot_ = 0;
  int snapshot_ticks_ = 0;
  bool recent_active_ = false;
  Inflights inflights_;
};

}  // namespace synod
