// Proposer: drives one ballot of single-decree Paxos (seed 002, "Basic Paxos") through its two phases.
//
//   phase 1: send prepare(b) to every acceptor; wait for promises from a majority.
//   choose:  the value accepted at the highest ballot among those promises, or, if none accepted
//            anything, the proposer's own value. This is what makes a value chosen by a majority
//            survive: any later majority overlaps it, so a later proposer sees the value and keeps it.
//   phase 2: send accept(b, value) to every acceptor; a majority accepting means the value is chosen.
//
// A refusal means a higher ballot exists: the ballot is abandoned, and the node retries later (after
// a randomized backoff, so that duelling proposers stop preempting each other) with a higher one.
// The choice rule lives here, in take_promise().
#pragma once

#include <cstddef>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "consensus/state_encoder.h"
#include "paxos/ballot.h"
#include "paxos/message.h"

namespace synod::paxos {

#if SYNOD_BUG_INJECTION
struct ProposerBugs {
  bool ignore_accepted_values = false;  // propose its own value even when a promise reports one
};
#endif

class Proposer {
 public:
  enum class Phase : uint8_t { kIdle, kPreparing, kAccepting, kChosen };

  Proposer(NodeId id, std::vector<NodeId> acceptors);

  // Starts phase 1 at `ballot` (which the node chose above every ballot it has seen, and made durable)
  // for `value`. Returns the prepare requests, one per acceptor.
  std::vector<Message> start(Ballot ballot, std::string value);
  // Takes an acceptor's answer to this proposer. Returns the requests to send next: the accept requests
  // once a majority has promised, nothing otherwise. Answers to older ballots are ignored.
  std::vector<Message> handle(const Message& answer);
  // Gives up the current ballot (a timeout, or the decision became known another way).
  void abandon() { phase_ = Phase::kIdle; }

  Phase phase() const { return phase_; }
  const Ballot& ballot() const { return ballot_; }
  // The highest ballot any acceptor said it promised when refusing this proposer: the next ballot must
  // be above it.
  const Ballot& highest_refusal() const { return highest_refusal_; }
  // The value a majority accepted at this proposer's ballot, once phase() is kChosen.
  const std::optional<std::string>& chosen() const { return chosen_; }
  // The value of phase 2 (own or adopted), once phase 1 succeeded.
  const std::optional<std::string>& proposed() const { return proposed_; }

  // Everything that decides what this proposer does next (for the model checker).
  void encode_state(StateEncoder& out) const;

#if SYNOD_BUG_INJECTION
  ProposerBugs bugs;
#endif

 private:
  std::vector<Message> requests(MessageType type) const;
  std::vector<Message> take_promise(const Message& promise);
  std::vector<Message> take_accepted(const Message& accepted);
  size_t quorum() const {
    return acceptors_.size() / 2 + 1;
  }

  NodeId id_;
  std::vector<NodeId> acceptors_;
  Phase phase_ = Phase::kIdle;
  Ballot ballot_;
  std::string own_value_;
  std::set<NodeId> promised_by_;
  std::set<NodeId> accepted_by_;
  Ballot highest_accepted_;  // among the promises so far
  std::optional<std::string> highest_accepted_value_;
  std::optional<std::string> proposed_;
  std::optional<std::string> chosen_;
  Ballot highest_refusal_;
};

}  // namespace synod::paxos
