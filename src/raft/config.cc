#include "raft/config.h"

#include <algorithm>
#include <string>

namespace synod::raft {

Status Config::validate() const {
  auto invalid = [](std::string why) { return Status(ErrorCode::kInvalidArgument, std::move(why)); };
  if (id == kNoNode) return invalid("node id must not be 0");
  if (voters.empty()) return invalid("a cluster needs at least one voter");
  if (std::count(voters.begin(), voters.end(), kNoNode) > 0) return invalid("voter id 0 is reserved");
  if (heartbeat_tick <= 0) return invalid("heartbeat_tick must be positive");
  if (election_tick <= heartbeat_tick) return invalid("election_tick must be greater than heartbeat_tick");
  if (read_only == ReadOnlyOption::kLeaseBased && !check_quorum) {
    return invalid("lease-based reads need check_quorum: without it a deposed leader keeps serving");
  }
  if (max_bytes_per_message == 0) return invalid("max_bytes_per_message must be positive");
  if (max_inflight_messages == 0) return invalid("max_inflight_messages must be positive");
  if (max_inflight_bytes == 0) return invalid("max_inflight_bytes must be positive");
  if (max_entry_bytes == 0) return invalid("max_entry_bytes must be positive");
  if (max_uncommitted_bytes < max_entry_bytes) {
    return invalid("max_uncommitted_bytes must allow at least one maximal entry");
  }
  if (max_entries_per_message == 0) return invalid("max_entries_per_message must be positive");
  return Status::ok();
}

}  // namespace synod::raft
