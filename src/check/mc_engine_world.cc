// The model checker's world for the Engine cores (Raft, Multi-Paxos): a sim::Cluster plus McGhost,
// checked by check/mc_invariants.h after every step.
#include <algorithm>

#include "check/invariants.h"
#include "check/mc_invariants.h"
#include "check/mc_world.h"
#include "paxos/multi_ballot.h"

namespace synod::check {
namespace {

class EngineWorld final : public McWorld {
 public:
  explicit EngineWorld(const McSetup& setup)
      : McWorld(setup.nodes), engine_(setup.engine), timed_(setup.timed), cluster_(setup.make_cluster()) {}

  std::unique_ptr<McWorld> clone() const override { return std::unique_ptr<McWorld>(new EngineWorld(*this)); }

  std::string check_initial() override {
    return check_state(engine_, *cluster_, ghost_, snapshot_nodes(*cluster_), nullptr);
  }

  std::vector<McStep> steps(const McBounds& bounds) const override {
    std::vector<McStep> out;
    add_message_steps(cluster_->in_flight(), encode_message, bounds, out);
    if (timed_ && spent().ticks < bounds.max_ticks) out.push_back({McStep::Kind::kTick, 0, 0});
    for (NodeId node : ids()) {
      if (!cluster_->is_up(node)) continue;
      auto id = static_cast<uint32_t>(node);
      if (!timed_) out.push_back({McStep::Kind::kTimeout, id, 0});
      bool leads = cluster_->engine(id).status().role == Role::kLeader;
      if (leads && spent().proposals < bounds.proposals)
        out.push_back({McStep::Kind::kPropose, id, spent().proposals + 1});
      if (leads && spent().reads < bounds.reads) out.push_back({McStep::Kind::kRead, id, spent().reads + 1});
      if (spent().restarts < bounds.restarts) out.push_back({McStep::Kind::kRestart, id, 0});
    }
    return out;
  }

  bool past_bounds(const McBounds& bounds) const override {
    if (cluster_->in_flight().size() > bounds.max_in_flight) return true;
    for (NodeId id : ids()) {
      if (!cluster_->is_up(id)) continue;
      EngineStatus status = cluster_->engine(id).status();
      uint64_t round = engine_ == McEngine::kMultiPaxos ? paxos::ballot_round(status.term) : status.term;
      if (round > bounds.max_term || status.last_index > bounds.max_log) return true;
    }
    return false;
  }

  // Multi-Paxos ballots order node ids (round, node), so only Raft's ids are interchangeable.
  bool symmetric() const override { return engine_ == McEngine::kRaft; }

  void encode_node(NodeId id, StateEncoder& out) const override {
    bool up = cluster_->is_up(id);
    out.flag(up);
    if (up) cluster_->engine(id).encode_state(out);
    const DurableState& durable = cluster_->store(id).state();
    out.u64(durable.hard_state.term);
    out.node(durable.hard_state.vote);
    out.u64(durable.hard_state.commit);
    out.u64(durable.entries.size());
    for (const Entry& entry : durable.entries) out.entry(entry);
    out.flag(durable.snapshot != nullptr);
    if (durable.snapshot) out.snapshot_meta(durable.snapshot->meta);
    out.u64(cluster_->state_machine(id).applied_index());
    out.u64(cluster_->state_machine(id).chain_hash());
  }

  void encode(StateEncoder& out) const override {
    out.sorted_by_node(ids(), [&](NodeId id) { encode_node(id, out); });
    out.multiset(cluster_->in_flight(), encode_message);
    ghost_.encode(out);
    spent().encode(out);
  }

  std::string describe() const override {
    return cluster_->describe() + "  in flight: " + std::to_string(cluster_->in_flight().size()) + '\n';
  }

  std::string describe_step(const McStep& step) const override {
    return describe_message_step(cluster_->in_flight(), step);
  }

  void attach_second_opinion() override {
    checker_ = std::make_shared<InvariantChecker>(
        40, engine_ == McEngine::kRaft ? Protocol::kRaft : Protocol::kMultiPaxos);
    cluster_->set_observer(checker_.get());
  }

  std::string second_opinion() override {
    if (!checker_) return {};
    checker_->check_all(*cluster_);
    return checker_->ok() ? std::string() : checker_->violation();
  }

 protected:
  bool apply(const McStep& step, std::string& violation) override {
    std::vector<McNodeBefore> before = snapshot_nodes(*cluster_);
    if (!apply_step(*cluster_, step)) return false;
    violation = check_state(engine_, *cluster_, ghost_, before, &step);
    return true;
  }

 private:
  static void encode_message(const Message& message, StateEncoder& out) { out.message(message); }

  // A branch gets its own cluster; the second opinion watches only the replay it was attached to.
  EngineWorld(const EngineWorld& other)
      : McWorld(other),
        engine_(other.engine_),
        timed_(other.timed_),
        cluster_(other.cluster_->clone()),
        ghost_(other.ghost_) {}

  McEngine engine_;
  bool timed_ = false;
  std::unique_ptr<sim::Cluster> cluster_;
  McGhost ghost_;
  std::shared_ptr<InvariantChecker> checker_;
};

}  // namespace

std::unique_ptr<McWorld> make_engine_world(const McSetup& setup) {
  return std::make_unique<EngineWorld>(setup);
}

}  // namespace synod::check
