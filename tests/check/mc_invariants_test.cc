// The model checker's state invariants (check/mc_invariants.h) each fire on the state they forbid. The
// injected bugs of the cores trip election safety, leader completeness, hole filling and read
// linearizability first; the checks here would otherwise never be shown to catch anything. A real
// cluster is brought to a state by its own protocol, then one node's core is made to lie about one
// thing (an engine wrapper that forwards everything else), and check_state must name the broken rule.
#include "check/mc_invariants.h"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "check/mc_trace.h"

namespace synod::check {
namespace {

// What the lying node says differently from its core.
struct Lies {
  NodeId node = kNoNode;  // none while kNoNode
  std::optional<Term> term;
  std::optional<Index> commit;
  std::optional<Index> forged_index;  // entry_at() there returns other data, same term and type
};

class LyingEngine final : public Engine {
 public:
  LyingEngine(std::unique_ptr<Engine> core, std::shared_ptr<const Lies> lies)
      : core_(std::move(core)), lies_(std::move(lies)) {}

  void tick() override { core_->tick(); }
  Status step(const Message& message) override { return core_->step(message); }
  Result<Proposal> propose(std::string data) override { return core_->propose(std::move(data)); }
  Status read_index(std::string context) override { return core_->read_index(std::move(context)); }
  Status transfer_leader(NodeId to) override { return core_->transfer_leader(to); }
  Status compact(Index index, std::string data) override { return core_->compact(index, std::move(data)); }
  Result<SnapshotMeta> snapshot_meta(Index index) const override { return core_->snapshot_meta(index); }
  Status compact_detached(const SnapshotMeta& meta) override { return core_->compact_detached(meta); }
  SnapshotPtr snapshot() const override { return core_->snapshot(); }
  void release_snapshot_data() override { core_->release_snapshot_data(); }
  bool has_ready() const override { return core_->has_ready(); }
  Ready ready() override { return core_->ready(); }
  void advance() override { core_->advance(); }
  std::unique_ptr<Engine> clone() const override {
    return std::make_unique<LyingEngine>(core_->clone(), lies_);
  }
  void encode_state(StateEncoder& out) const override { core_->encode_state(out); }
  std::optional<Term> term_at(Index index) const override { return core_->term_at(index); }

  EngineStatus status() const override {
    EngineStatus status = core_->status();
    if (lying()) {
      if (lies_->term) status.term = *lies_->term;
      if (lies_->commit) status.commit = *lies_->commit;
    }
    return status;
  }

  std::optional<Entry> entry_at(Index index) const override {
    std::optional<Entry> entry = core_->entry_at(index);
    if (entry && lying() && lies_->forged_index == index) entry->data = "forged";
    return entry;
  }

 private:
  bool lying() const { return lies_->node != kNoNode && lies_->node == core_->status().id; }

  std::unique_ptr<Engine> core_;
  std::shared_ptr<const Lies> lies_;
};

class McInvariants : public ::testing::TestWithParam<McEngine> {
 protected:
  void SetUp() override {
    McSetup setup;
    setup.engine = GetParam();
    sim::EngineFactory real = setup.factory();
    std::shared_ptr<const Lies> lies = lies_;
    sim::EngineFactory lying = [real, lies](NodeId id, const std::vector<NodeId>& voters, uint64_t seed,
                                            const DurableState& durable) -> Result<std::unique_ptr<Engine>> {
      Result<std::unique_ptr<Engine>> core = real(id, voters, seed, durable);
      if (!core.is_ok()) return core.status();
      return std::unique_ptr<Engine>(std::make_unique<LyingEngine>(std::move(core).value(), lies));
    };
    cluster_ = std::make_unique<sim::Cluster>(std::vector<NodeId>{1, 2, 3}, lying, 7);
    ASSERT_EQ(cluster_->campaign(1), std::optional<NodeId>(1));
    // Something committed everywhere (Raft's no-op is; a Multi-Paxos leader with no holes has none).
    if (cluster_->engine(2).status().commit == 0) {
      ASSERT_TRUE(cluster_->propose(1, "v0").is_ok());
      cluster_->deliver_all();
      cluster_->tick(1);  // the next heartbeat carries the commit to the followers
      cluster_->deliver_all();
    }
    ASSERT_GE(cluster_->engine(2).status().commit, 1U) << cluster_->describe();
    ASSERT_TRUE(check().empty()) << check();
  }

  // The invariants after a step from the state `before` was taken in.
  std::string check(const std::vector<McNodeBefore>* before = nullptr) {
    std::vector<McNodeBefore> now = snapshot_nodes(*cluster_);
    return check_state(GetParam(), *cluster_, ghost_, before != nullptr ? *before : now, nullptr);
  }

  // The leader proposes one value; only node 2 receives it (no answers, no commit), so nodes 1 and 2
  // hold the same uncommitted entry. Returns its index.
  Index replicate_one_to_node_2() {
    Result<Proposal> proposed = cluster_->propose(1, "v1");
    EXPECT_TRUE(proposed.is_ok());
    Index index = cluster_->engine(1).status().last_index;
    for (size_t p = 0; p < cluster_->in_flight().size();) {
      const Message& m = cluster_->in_flight()[p];
      bool carries = m.to == 2 && !m.entries.empty() && m.entries.back().index == index;
      if (carries) {
        EXPECT_TRUE(cluster_->deliver(p).is_ok());
        break;
      }
      ++p;
    }
    EXPECT_EQ(cluster_->engine(2).status().last_index, index);
    EXPECT_LT(cluster_->engine(2).status().commit, index);
    return index;
  }

  std::shared_ptr<Lies> lies_ = std::make_shared<Lies>();
  std::unique_ptr<sim::Cluster> cluster_;
  McGhost ghost_;
};

TEST_P(McInvariants, aTermThatGoesBackIsCaught) {
  std::vector<McNodeBefore> before = snapshot_nodes(*cluster_);
  ASSERT_GE(before[1].term, 1U);
  lies_->node = 2;
  lies_->term = before[1].term - 1;
  EXPECT_NE(check(&before).find("monotonic term"), std::string::npos) << check(&before);
}

TEST_P(McInvariants, aCommitIndexThatGoesBackIsCaught) {
  std::vector<McNodeBefore> before = snapshot_nodes(*cluster_);
  ASSERT_GE(before[0].commit, 1U) << "the leader committed its first entry";
  lies_->node = 1;
  lies_->commit = before[0].commit - 1;
  EXPECT_NE(check(&before).find("monotonic commit"), std::string::npos) << check(&before);
}

TEST_P(McInvariants, aCommitIndexMayStartAgainLowerAfterARestart) {
  std::vector<McNodeBefore> before = snapshot_nodes(*cluster_);
  cluster_->crash(2);
  cluster_->restart(2);
  ASSERT_TRUE(check(&before).empty()) << check(&before);
}

TEST_P(McInvariants, twoValuesForOneIndexAndTermAreCaught) {
  Index index = replicate_one_to_node_2();
  ASSERT_TRUE(check().empty()) << check();
  lies_->node = 2;
  lies_->forged_index = index;
  std::string violation = check();
  const char* rule = GetParam() == McEngine::kRaft ? "log matching" : "one value per ballot";
  EXPECT_NE(violation.find(rule), std::string::npos) << violation;
}

TEST_P(McInvariants, aCommittedEntryThatChangesIsCaught) {
  Index committed = cluster_->engine(1).status().commit;
  ASSERT_GE(committed, 1U);
  ASSERT_TRUE(check().empty());  // the ghost records what was chosen
  lies_->node = 1;
  lies_->forged_index = committed;
  std::string violation = check();
  EXPECT_NE(violation.find("state machine safety"), std::string::npos) << violation;
}

INSTANTIATE_TEST_SUITE_P(Engines, McInvariants, ::testing::Values(McEngine::kRaft, McEngine::kMultiPaxos),
                         [](const ::testing::TestParamInfo<McEngine>& info) {
                           return std::string(engine_name(info.param));
                         });

}  // namespace
}  // namespace synod::check
