// Multi-Paxos ballots as one number, so that they travel and persist where the engine interface has a
// term: HardState.term is the highest ballot an acceptor promised, an entry's term the ballot that
// slot was accepted at. round * 2^16 + node keeps ballots totally ordered (by round, then node, as
// paxos/ballot.h) and unique per node.
#pragma once

#include <cstdint>
#include <string>

#include "consensus/types.h"

namespace synod::paxos {

inline constexpr NodeId kMaxBallotNode = 0xFFFF;
// Rounds stay below 2^47, so round + 1 never overflows the 64-bit number.
inline constexpr uint64_t kMaxBallotRound = (uint64_t{1} << 47U) - 1;

inline Term make_ballot(uint64_t round, NodeId node) {
  return (round << 16U) | node;
}
inline uint64_t ballot_round(Term ballot) {
  return ballot >> 16U;
}
inline NodeId ballot_node(Term ballot) {
  return ballot & kMaxBallotNode;
}
inline std::string ballot_string(Term ballot) {
  return "(" + std::to_string(ballot_round(ballot)) + "," + std::to_string(ballot_node(ballot)) + ")";
}

}  // namespace synod::paxos
