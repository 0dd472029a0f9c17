// Quorum arithmetic, shared by every engine: the commit index a set of acknowledged indexes allows, and
// whether a tally of votes is won, lost or still pending.
//
// MajorityConfig is one voter set. JointConfig (two voter sets, both must agree) is what membership
// changes will use; callers go through QuorumConfig so adding joint consensus changes no caller.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <vector>

#include "consensus/types.h"

namespace synod {

enum class VoteResult { kPending, kLost, kWon };
const char* vote_result_name(VoteResult result);

// Returns the index a voter has acknowledged, or nullopt if it has not acknowledged anything.
using AckedIndexFn = std::function<std::optional<Index>(NodeId)>;

class MajorityConfig {
 public:
  MajorityConfig() = default;
  explicit MajorityConfig(std::vector<NodeId> voters);

  const std::vector<NodeId>& voters() const { return voters_; }
  bool contains(NodeId id) const;
  size_t size() const { return voters_.size(); }
  size_t quorum() const { return voters_.size() / 2 + 1; }

  // The largest index acknowledged by a majority. An empty config commits everything (it never
  // constrains a joint config), so it returns the maximum Index.
  Index committed_index(const AckedIndexFn& acked) const;

  // `votes` maps voter -> granted. Voters absent from the map have not answered.
  VoteResult vote_result(const std::map<NodeId, bool>& votes) const;

 private:
  std::vector<NodeId> voters_;  // Invariant: sorted, unique, no kNoNode.
};

// The configuration quorum decisions are made in. Today a single majority; the joint (old, new) form of
// membership changes slots in here.
class QuorumConfig {
 public:
  QuorumConfig() = default;
  explicit QuorumConfig(MajorityConfig incoming) : incoming_(std::move(incoming)) {}

  const MajorityConfig& incoming() const { return incoming_; }
  bool contains(NodeId id) const { return incoming_.contains(id); }
  // All voters, each once.
  std::vector<NodeId> voters() const { return incoming_.voters(); }

  Index committed_index(const AckedIndexFn& acked) const { return incoming_.committed_index(acked); }
  VoteResult vote_result(const std::map<NodeId, bool>& votes) const { return incoming_.vote_result(votes); }

 private:
  MajorityConfig incoming_;
};

}  // namespace synod
