#include "paxos/multi_config.h"

#include <algorithm>
#include <string>

#include "paxos/multi_ballot.h"

namespace synod::paxos {

Status MultiPaxosConfig::validate() const {
  auto invalid = [](std::string why) { return Status(ErrorCode::kInvalidArgument, std::move(why)); };
  if (id == kNoNode) return invalid("node id must not be 0");
  if (id > kMaxBallotNode)
    return invalid("node ids must be below 65536 (a ballot holds the node in 16 bits)");
  if (voters.empty()) return invalid("a cluster needs at least one voter");
  for (NodeId voter : voters) {
    if (voter == kNoNode) return invalid("voter id 0 is reserved");
    if (voter > kMaxBallotNode) return invalid("voter ids must be below 65536");
  }
  if (heartbeat_tick <= 0) return invalid("heartbeat_tick must be positive");
  if (election_tick <= heartbeat_tick) return invalid("election_tick must be greater than heartbeat_tick");
  if (accept_window == 0) return invalid("accept_window must be positive");
  if (lease_reads && !check_quorum) {
    return invalid("lease reads need check_quorum: without it acceptors promise a new leader at once");
  }
  if (max_bytes_per_message == 0) return invalid("max_bytes_per_message must be positive");
  if (max_entry_bytes == 0) return invalid("max_entry_bytes must be positive");
  if (max_uncommitted_bytes < max_entry_bytes) {
    return invalid("max_uncommitted_bytes must allow at least one maximal entry");
  }
  if (max_entries_per_message == 0) return invalid("max_entries_per_message must be positive");
  if (max_inflight_messages == 0) return invalid("max_inflight_messages must be positive");
  if (max_inflight_bytes < max_bytes_per_message) {
    return invalid("max_inflight_bytes must allow at least one full Accept message");
  }
  return Status::ok();
}

}  // namespace synod::paxos
