// ReadOnly: the leader's queue of ReadIndex requests waiting for leadership to be confirmed (Raft
// thesis, section 6.4). Each request records the commit index at the time it arrived and the heartbeat
// round sent for it. A follower acknowledging round r has recognised this leader after every request
// of round <= r was recorded, so once a quorum acknowledged r, all those requests are safe to serve.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "consensus/quorum.h"
#include "consensus/state_encoder.h"
#include "consensus/types.h"

namespace synod::raft {

struct PendingRead {
  uint64_t round = 0;
  Index index = 0;  // the leader's commit index when the request arrived
  std::string context;
  NodeId from = kNoNode;  // who asked: the leader itself or a follower that forwarded it
};

class ReadOnly {
 public:
  // Records a request and returns the heartbeat round that will confirm it.
  uint64_t add(Index index, std::string context, NodeId from);
  // `peer` answered the heartbeat of `round`.
  void acknowledge(NodeId peer, uint64_t round);
  // Removes and returns the requests a quorum has confirmed. `self` is the leader's own id.
  std::vector<PendingRead> release(const QuorumConfig& quorum, NodeId self);

  uint64_t last_round() const { return next_round_ - 1; }
  size_t pending() const { return queue_.size(); }
  void clear();
  void encode(StateEncoder& out) const;

  static std::string encode_round(uint64_t round);
  // Returns 0 if `context` is not a round this leader could have sent.
  static uint64_t decode_round(const std::string& context);

 private:
  uint64_t next_round_ = 1;
  std::deque<PendingRead> queue_;  // Invariant: rounds strictly increasing.
  std::map<NodeId, uint64_t> acked_;
};

}  // namespace synod::raft
