// Ballot: a Paxos proposal number. Ordered by round, then by the proposer's id, so two proposers never
// use the same ballot and any proposer can always pick one higher than every ballot it has seen.
#pragma once

#include <compare>
#include <cstdint>
#include <string>

#include "consensus/types.h"

namespace synod::paxos {

struct Ballot {
  uint64_t round = 0;  // 0 only in the null ballot, below every real one
  NodeId node = kNoNode;

  bool is_null() const { return round == 0; }
  auto operator<=>(const Ballot&) const = default;
  std::string to_string() const { return "(" + std::to_string(round) + "," + std::to_string(node) + ")"; }
};

}  // namespace synod::paxos
