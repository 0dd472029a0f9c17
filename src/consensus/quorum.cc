#include "consensus/quorum.h"

#include <algorithm>
#include <limits>

#include "base/assert.h"

namespace synod {

const char* vote_result_name(VoteResult result) {
  switch (result) {
    case VoteResult::kPending: return "pending";
    case VoteResult::kLost: return "lost";
    case VoteResult::kWon: return "won";
  }
  return "?";
}

MajorityConfig::MajorityConfig(std::vector<NodeId> voters) : voters_(std::move(voters)) {
  std::sort(voters_.begin(), voters_.end());
  voters_.erase(std::unique(voters_.begin(), voters_.end()), voters_.end());
  SYNOD_ASSERT(voters_.empty() || voters_.front() != kNoNode);
}

bool MajorityConfig::contains(NodeId id) const {
  return std::binary_search(voters_.begin(), voters_.end(), id);
}

Index MajorityConfig::committed_index(const AckedIndexFn& acked) const {
  if (voters_.empty()) return std::numeric_limits<Index>::max();
  // Sort acknowledged indexes descending; the quorum()-th largest is held by a majority. Voters that
  // acknowledged nothing count as 0. Clusters are small, so a stack buffer would be premature.
  std::vector<Index> indexes;
  indexes.reserve(voters_.size());
  for (NodeId id : voters_) indexes.push_back(acked(id).value_or(0));
  std::sort(indexes.begin(), indexes.end(), std::greater<>());
  return indexes[quorum() - 1];
}

VoteResult MajorityConfig::vote_result(const std::map<NodeId, bool>& votes) const {
  if (voters_.empty()) return VoteResult::kWon;  // an empty config never blocks a joint decision
  size_t granted = 0;
  size_t rejected = 0;
  for (NodeId id : voters_) {
    auto it = votes.find(id);
    if (it == votes.end()) continue;
    if (it->second) {
      ++granted;
    } else {
      ++rejected;
    }
  }
  if (granted >= quorum()) return VoteResult::kWon;
  size_t missing = voters_.size() - granted - rejected;
  if (granted + missing >= quorum()) return VoteResult::kPending;
  return VoteResult::kLost;
}

}  // namespace synod
