// SingleDecree: one participant of single-decree Paxos, the one-shot consensus of seeds 002 and 004:
// proposer, acceptor and learner on one node, as a pure state machine like the Raft core (no clocks,
// threads or I/O; time comes from tick(), randomness from the configured seed).
//
// The seed's interface: propose(value) offers a value; query() says which value was decided, or that
// none is known yet. Every node's query() returns the same value once it returns one, and it never
// changes. Wrappers that block until the decision (propose() returning the decided value, which may be
// another proposer's) sit on top: the simulator scenario and synod-paxos-demo drive this object to
// that point.
//
// Handling a Ready: persist `durable` (when set) before sending `messages`: an acceptor's promise or
// acceptance must survive a crash before anyone acts on it, or a restarted acceptor could let an
// older ballot choose a second value. The same record keeps a proposer from reusing a ballot after
// a restart: its first prepare always goes to its own acceptor, in the same Ready, so the durable
// promise is at least as high as any ballot this node has sent.
//
// Liveness (FLP says no deterministic protocol guarantees it): a ballot that is refused or gets no
// majority answer within round_timeout_ticks is retried with a higher ballot after a randomized,
// doubling backoff, so duelling proposers soon leave one of them a clear run. A node that knows the
// decision answers any request with it, and repeats it to peers until each acknowledges it, so every
// node that can be reached learns it. A node whose acceptor accepted a value but that hears of no
// decision for a while runs a ballot itself (the choice rule makes it finish the value already
// chosen, if any): a proposer that crashes after its value was chosen, before telling anyone, then
// leaves nobody waiting forever.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/random.h"
#include "base/status.h"
#include "paxos/acceptor.h"
#include "paxos/message.h"
#include "paxos/proposer.h"

namespace synod::paxos {

struct SingleDecreeConfig {
  NodeId id = kNoNode;
  std::vector<NodeId> nodes;      // every participant, this one included; each is proposer, acceptor, learner
  int round_timeout_ticks = 10;   // a ballot with no majority answer by then is abandoned
  int backoff_ticks = 3;          // the first retry waits [backoff, 2 * backoff) ticks; doubles per failure
  int max_backoff_ticks = 100;    // the cap of that doubling
  int resend_decided_ticks = 10;  // how often the decision is repeated to peers that have not acknowledged
  size_t max_value_bytes = size_t{1} << 20U;
  // Rounds at or above this are refused from the network, so `round + 1` can never wrap.
  static constexpr uint64_t kMaxRound = uint64_t{1} << 62U;
  uint64_t seed = 1;  // the only source of randomness (backoff)
#if SYNOD_BUG_INJECTION
  AcceptorBugs acceptor_bugs;
  ProposerBugs proposer_bugs;
#endif
  Status validate() const;
};

// What must be on stable storage before this Ready's messages are sent.
struct SingleDecreeDurable {
  AcceptorState acceptor;
  std::optional<std::string> decided;  // the decision once learned (not needed for safety; saves work)
  bool operator==(const SingleDecreeDurable&) const = default;
  void encode(StateEncoder& out) const;  // for the model checker
};

struct SingleDecreeReady {
  std::optional<SingleDecreeDurable> durable;  // set when it changed: persist before sending
  std::vector<Message> messages;
  std::optional<std::string> learned;  // the decision, the first time this node learns it
};

class SingleDecree {
 public:
  static Result<std::unique_ptr<SingleDecree>> create(const SingleDecreeConfig& config,
                                                      const SingleDecreeDurable& durable);

  void tick();
  // Validates and handles a message from a peer. A malformed one is refused (kDropped) and changes
  // nothing; a message naming a decision that contradicts this node's is refused with kCorruption
  // (it means a peer is broken: Paxos never decides twice).
  Status step(const Message& message);
  // Offers `value`. Ignored once a decision is known (query() tells which); while a ballot is under
  // way the new value replaces the old one from the next ballot on.
  Status propose(std::string value);
  const std::optional<std::string>& query() const { return durable_.decided; }

  bool has_ready() const;
  SingleDecreeReady ready();

  // A copy that goes on exactly as this one would (the model checker branches on it).
  std::unique_ptr<SingleDecree> clone() const {
    return std::unique_ptr<SingleDecree>(new SingleDecree(*this));
  }
  // Everything that decides what this node does next but its timers and its random generator (time is
  // the model checker's choice): acceptor, proposer, the wanted value, the decision and who knows it.
  void encode_state(StateEncoder& out) const;

  const SingleDecreeDurable& durable() const { return durable_; }
  const Proposer& proposer() const { return proposer_; }
  NodeId id() const { return config_.id; }

 private:
  SingleDecree(const SingleDecreeConfig& config, const SingleDecreeDurable& durable);
  SingleDecree(const SingleDecree&) = default;

  void start_ballot();
  void schedule_retry();
  // Handles a message to this node, then every message it leads to that is for this node too.
  void deliver(const Message& message);
  void handle(const Message& message);
  void learn(const std::string& value);
  void send_decided(NodeId to);
  Status validate(const Message& message) const;

  SingleDecreeConfig config_;
  SingleDecreeDurable durable_;
  bool durable_dirty_ = false;
  Acceptor acceptor_;
  Proposer proposer_;
  Random random_;
  uint64_t ticks_ = 0;
  std::optional<std::string> wanted_;  // the value this node proposes, until a decision is known
  uint64_t ballot_started_ = 0;        // tick of the current ballot's start
  uint64_t retry_at_ = 0;              // tick of the next ballot while idle (0: none scheduled)
  int backoff_window_ = 0;
  // The highest round in any ballot this node has seen, its own acceptor's promise included (every
  // message it handles, its own prepares too, passes through handle()).
  uint64_t seen_round_ = 0;
  uint64_t heard_at_ = 0;  // tick of the last message handled (for finishing an orphaned value)
  std::set<NodeId> learned_by_;
  uint64_t resend_at_ = 0;
  std::vector<Message> outbox_;
  std::optional<std::string> newly_learned_;
};

}  // namespace synod::paxos
