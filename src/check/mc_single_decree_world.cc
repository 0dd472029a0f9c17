// The model checker's world for single-decree Paxos (paxos/single_decree.h): a sim::PaxosCluster, which
// records every acceptance and checks after every step that at most one value is chosen (accepted by a
// majority at one ballot), that it never changes, and that every value learned is that one.
#include <algorithm>
#include <sstream>

#include "check/mc_world.h"
#include "sim/paxos_cluster.h"

namespace synod::check {
namespace {

// Short timers: a timeout step ticks until the node acts, so fewer ticks only make it cheaper.
paxos::SingleDecreeConfig single_decree_config(const McSetup& setup) {
  paxos::SingleDecreeConfig config;
  config.round_timeout_ticks = 2;
  config.backoff_ticks = 1;
  config.max_backoff_ticks = 2;
  config.resend_decided_ticks = 2;
#if SYNOD_BUG_INJECTION
  config.acceptor_bugs.accept_below_promise = setup.bug == "accept-below-promise";
  config.proposer_bugs.ignore_accepted_values = setup.bug == "ignore-accepted-values";
#else
  (void)setup;
#endif
  return config;
}

// Ticks a timeout step gives a node to act: past a round timeout, the longest backoff and the wait
// before an orphaned accepted value is finished (twice the round timeout).
constexpr int kMaxTicksPerTimeout = 12;

class SingleDecreeWorld final : public McWorld {
 public:
  explicit SingleDecreeWorld(const McSetup& setup)
      : McWorld(setup.nodes),
        cluster_(std::make_unique<sim::PaxosCluster>(static_cast<int>(setup.nodes), setup.seed,
                                                     single_decree_config(setup))) {}

  std::unique_ptr<McWorld> clone() const override {
    return std::unique_ptr<McWorld>(new SingleDecreeWorld(*this));
  }

  std::string check_initial() override { return verdict(); }

  std::vector<McStep> steps(const McBounds& bounds) const override {
    std::vector<McStep> out;
    add_message_steps(cluster_->network(), encode_message, bounds, out);
    for (NodeId node : ids()) {
      auto id = static_cast<uint32_t>(node);
      out.push_back({McStep::Kind::kTimeout, id, 0});
      // Any node proposes (there is no leader); once it knows the decision a proposal does nothing.
      if (spent().proposals < bounds.proposals && !cluster_->node(node).query())
        out.push_back({McStep::Kind::kPropose, id, spent().proposals + 1});
      if (spent().restarts < bounds.restarts) out.push_back({McStep::Kind::kRestart, id, 0});
    }
    return out;
  }

  bool past_bounds(const McBounds& bounds) const override {
    if (cluster_->network().size() > bounds.max_in_flight) return true;
    for (NodeId id : ids()) {
      const paxos::SingleDecree& node = cluster_->node(id);
      if (node.proposer().ballot().round > bounds.max_term ||
          node.durable().acceptor.promised.round > bounds.max_term)
        return true;
    }
    return false;
  }

  // Ballots are (round, node): a renaming of ids changes which ballot wins.
  bool symmetric() const override { return false; }

  void encode_node(NodeId id, StateEncoder& out) const override { cluster_->node(id).encode_state(out); }

  void encode(StateEncoder& out) const override {
    cluster_->encode_state(out);
    spent().encode(out);
  }

  std::string describe() const override {
    std::ostringstream out;
    for (NodeId id : ids()) {
      const paxos::SingleDecree& node = cluster_->node(id);
      const paxos::AcceptorState& acceptor = node.durable().acceptor;
      out << "  node " << id << ": promised " << acceptor.promised.to_string() << ", accepted "
          << (acceptor.accepted.is_null() ? std::string("nothing")
                                          : acceptor.accepted.to_string() + " \"" + *acceptor.value + "\"")
          << "; proposer " << phase_name(node.proposer().phase()) << " at "
          << node.proposer().ballot().to_string();
      if (node.proposer().proposed()) out << " with \"" << *node.proposer().proposed() << "\"";
      if (node.query()) out << "; decided \"" << *node.query() << "\"";
      out << '\n';
    }
    out << "  in flight: " << cluster_->network().size() << '\n';
    return out.str();
  }

  std::string describe_step(const McStep& step) const override {
    return describe_message_step(cluster_->network(), step);
  }

 protected:
  bool apply(const McStep& step, std::string& violation) override {
    auto valid_node = [&](uint32_t id) { return std::find(ids().begin(), ids().end(), id) != ids().end(); };
    switch (step.kind) {
      case McStep::Kind::kDeliver:
      case McStep::Kind::kDrop:
      case McStep::Kind::kDuplicate:
        if (step.arg >= cluster_->network().size()) return false;
        if (step.kind == McStep::Kind::kDeliver) cluster_->deliver(step.arg);
        if (step.kind == McStep::Kind::kDrop) cluster_->drop(step.arg);
        if (step.kind == McStep::Kind::kDuplicate) cluster_->duplicate(step.arg);
        break;
      case McStep::Kind::kTimeout: {
        if (!valid_node(step.arg)) return false;
        // The node's clock runs until it acts: sends something or changes what it persisted.
        size_t in_flight = cluster_->network().size();
        paxos::SingleDecreeDurable durable = cluster_->node(step.arg).durable();
        for (int i = 0; i < kMaxTicksPerTimeout; ++i) {
          cluster_->tick(step.arg);
          if (cluster_->network().size() != in_flight || !(cluster_->node(step.arg).durable() == durable))
            break;
        }
        break;
      }
      case McStep::Kind::kRestart:
        if (!valid_node(step.arg)) return false;
        cluster_->crash(step.arg);
        cluster_->restart(step.arg);
        break;
      case McStep::Kind::kPropose:
        if (!valid_node(step.arg)) return false;
        cluster_->propose(step.arg, proposal_value(step.value));
        break;
      case McStep::Kind::kRead: return false;  // single-decree Paxos has no reads: query() is local
      case McStep::Kind::kTick: return false;  // no time mode global here (McSetup::validate)
    }
    violation = verdict();
    return true;
  }

 private:
  static void encode_message(const paxos::Message& message, StateEncoder& out) { message.encode(out); }

  static const char* phase_name(paxos::Proposer::Phase phase) {
    switch (phase) {
      case paxos::Proposer::Phase::kIdle: return "idle";
      case paxos::Proposer::Phase::kPreparing: return "preparing";
      case paxos::Proposer::Phase::kAccepting: return "accepting";
      case paxos::Proposer::Phase::kChosen: return "chosen";
    }
    return "?";
  }

  std::string verdict() const {
    const std::optional<std::string>& violation = cluster_->violation();
    return violation ? "single-decree safety: " + *violation : std::string();
  }

  SingleDecreeWorld(const SingleDecreeWorld& other) : McWorld(other), cluster_(other.cluster_->clone()) {}

  std::unique_ptr<sim::PaxosCluster> cluster_;
};

}  // namespace

std::unique_ptr<McWorld> make_single_decree_world(const McSetup& setup) {
  return std::make_unique<SingleDecreeWorld>(setup);
}

}  // namespace synod::check
