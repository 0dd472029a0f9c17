// The node glue (node/node.h) around real Raft cores: proposals complete with the state machine's
// result wherever they were proposed, a proposal that lost its slot is aborted, reads wait for their
// read index to be applied, requests time out, snapshots are taken and compaction follows, and a
// restarted node never completes a request of its earlier life.
#include "node/node.h"

#include <algorithm>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>

#include <gtest/gtest.h>

#include "kv/map_store.h"
#include "raft/config.h"
#include "sim/durable_store.h"
#include "sim/raft_engine.h"

namespace synod::node {
namespace {

using kv::MapCommand;
using kv::MapOp;
using kv::MapResult;

// The simulator's in-memory store, with a look at each Ready just before it is persisted.
class ObservedStore final : public Storage {
 public:
  Status persist(const Ready& ready) override {
    if (before_persist) before_persist(ready);
    return inner_.persist(ready);
  }
  Status save_snapshot(SnapshotPtr snapshot) override { return inner_.save_snapshot(std::move(snapshot)); }
  Index reloadable_snapshot_index() const override { return inner_.reloadable_snapshot_index(); }
  Result<SnapshotPtr> reload_snapshot(const SnapshotMeta& meta) override {
    return inner_.reload_snapshot(meta);
  }
  // The default streaming (gathered in memory, then save_snapshot()), watched slice by slice.
  Result<std::unique_ptr<SnapshotSink>> begin_snapshot(const SnapshotMeta& meta) override {
    SYNOD_TRY_ASSIGN(std::unique_ptr<SnapshotSink> inner, Storage::begin_snapshot(meta));
    return std::unique_ptr<SnapshotSink>(std::make_unique<ObservedSink>(*this, std::move(inner)));
  }
  const DurableState& state() const { return inner_.state(); }

  std::function<void(const Ready&)> before_persist;
  std::vector<size_t> slices;  // the size of every slice handed to a sink
  size_t backlog = 0;          // what every sink reports as not yet written

 private:
  class ObservedSink final : public SnapshotSink {
   public:
    ObservedSink(ObservedStore& owner, std::unique_ptr<SnapshotSink> inner)
        : owner_(owner), inner_(std::move(inner)) {}
    Status append(std::string bytes) override {
      owner_.slices.push_back(bytes.size());
      return inner_->append(std::move(bytes));
    }
    size_t backlog_bytes() const override { return owner_.backlog; }
    Status finish() override { return inner_->finish(); }

   private:
    ObservedStore& owner_;
    std::unique_ptr<SnapshotSink> inner_;
  };

  sim::DurableStore inner_;
};

// The map with snapshots handed out `budget` bytes per slice, as a large store's are: the node must
// keep applying between slices and compact at the index the snapshot began at. While `stall` is set a
// snapshot never finishes.
class SlicedMap final : public StateMachine {
 public:
  explicit SlicedMap(kv::MapStore& map) : map_(map) {}
  std::string apply(const Entry& entry, std::string_view command) override {
    return map_.apply(entry, command);
  }
  Index applied_index() const override { return map_.applied_index(); }
  std::string snapshot() const override { return map_.snapshot(); }
  Status restore(std::string_view data) override { return map_.restore(data); }
  std::unique_ptr<SnapshotWriter> begin_snapshot() override {
    began.push_back(applied_index());
    return std::make_unique<Writer>(*this, applied_index(), map_.snapshot());
  }

  std::vector<Index> began;           // the applied index at each snapshot's start
  std::vector<Index> applied_during;  // per finished snapshot: the index applied when it finished
  int slices = 0;
  int abandoned = 0;
  bool stall = false;

 private:
  class Writer final : public SnapshotWriter {
   public:
    Writer(SlicedMap& owner, Index index, std::string data)
        : owner_(owner), index_(index), data_(std::move(data)) {}
    ~Writer() override {
      if (!finished_) ++owner_.abandoned;
    }
    Index index() const override { return index_; }
    bool write_some(size_t budget) override {
      ++owner_.slices;
      if (!owner_.stall) written_ += budget;
      return written_ >= data_.size();
    }
    std::string drain() override {
      size_t upto = std::min(written_, data_.size());
      std::string bytes = data_.substr(drained_, upto - drained_);
      drained_ = upto;
      if (drained_ == data_.size() && !finished_) {
        finished_ = true;
        owner_.applied_during.push_back(owner_.applied_index());
      }
      return bytes;
    }

   private:
    SlicedMap& owner_;
    Index index_;
    std::string data_;
    size_t written_ = 0;
    size_t drained_ = 0;
    bool finished_ = false;
  };

  kv::MapStore& map_;
};

struct Server {
  NodeId id = kNoNode;
  ObservedStore store;
  std::unique_ptr<kv::MapStore> map;
  std::unique_ptr<SlicedMap> sliced;  // between the node and the map when the harness slices snapshots
  std::unique_ptr<Node> node;
  uint64_t incarnation = 0;
};

// Three nodes on an in-memory network delivered by hand.
class Harness {
 public:
  explicit Harness(NodeOptions options = {}, bool sliced = false)
      : options_(std::move(options)), sliced_(sliced) {
    for (NodeId id : ids_) {
      servers_[id].id = id;
      start(id);
    }
  }

  Node& node(NodeId id) { return *servers_.at(id).node; }
  kv::MapStore& map(NodeId id) { return *servers_.at(id).map; }
  SlicedMap& sliced(NodeId id) { return *servers_.at(id).sliced; }
  const DurableState& durable(NodeId id) { return servers_.at(id).store.state(); }

  void start(NodeId id) {
    Server& server = servers_.at(id);
    raft::Config config;
    Result<std::unique_ptr<Engine>> engine =
        sim::raft_engine_factory(config)(id, ids_, 100 * id + server.incarnation, server.store.state());
    ASSERT_TRUE(engine.is_ok());
    server.map = std::make_unique<kv::MapStore>();
    if (server.store.state().snapshot) {
      ASSERT_TRUE(server.map->restore(server.store.state().snapshot->data).is_ok());
    }
    NodeOptions options = options_;
    options.id = id;
    options.voters = ids_;
    options.incarnation = ++server.incarnation;
    StateMachine* state_machine = server.map.get();
    if (sliced_) {
      server.sliced = std::make_unique<SlicedMap>(*server.map);
      state_machine = server.sliced.get();
    }
    server.node = std::make_unique<Node>(options, std::move(engine).value(), *state_machine, server.store,
                                         [this](Message&& m) { send(std::move(m)); });
  }
  void restart(NodeId id) {
    servers_.at(id).node.reset();
    start(id);
    ready(id);
  }

  void ready(NodeId id) { ASSERT_TRUE(node(id).process_ready().is_ok()); }
  void send(Message&& message) {
    if (isolated_.count(message.from) == 0 && isolated_.count(message.to) == 0)
      network_.push_back(std::move(message));
  }
  void deliver_all() {
    for (int i = 0; i < 100000 && !network_.empty(); ++i) {
      Message message = std::move(network_.front());
      network_.pop_front();
      if (isolated_.count(message.to) > 0) continue;
      (void)node(message.to).step(message);
      ready(message.to);
    }
  }
  // Delivers everything in flight (and what it leads to), except that `id` only steps what reaches it:
  // its Ready waits, so what those messages cause lands in its next Ready together with new input.
  void deliver_all_holding_ready(NodeId id) {
    for (int i = 0; i < 100000 && !network_.empty(); ++i) {
      Message message = std::move(network_.front());
      network_.pop_front();
      if (isolated_.count(message.to) > 0) continue;
      (void)node(message.to).step(message);
      if (message.to != id) ready(message.to);
    }
  }
  ObservedStore& store(NodeId id) { return servers_.at(id).store; }
  void tick(NodeId id) {
    node(id).tick();
    ready(id);
  }
  // Ticks `id` alone until it leads, delivering everything as it goes.
  void elect(NodeId id) {
    for (int i = 0; i < 200 && node(id).status().role != Role::kLeader; ++i) {
      tick(id);
      deliver_all();
    }
    ASSERT_EQ(node(id).status().role, Role::kLeader);
  }
  // Rounds of ticks for the nodes that are not isolated until one of them leads. Returns it.
  NodeId elect_among_connected() {
    for (int i = 0; i < 200; ++i) {
      for (NodeId id : ids_) {
        if (isolated_.count(id) > 0) continue;
        if (node(id).status().role == Role::kLeader) return id;
        tick(id);
      }
      deliver_all();
    }
    ADD_FAILURE() << "no leader among the connected nodes";
    return kNoNode;
  }
  // A round of heartbeats from everyone, delivered.
  void round() {
    for (NodeId id : ids_) tick(id);
    deliver_all();
  }
  // Takes every message in flight off the network, to put back later (a slow link).
  void hold_in_flight() {
    held_.insert(held_.end(), network_.begin(), network_.end());
    network_.clear();
  }
  void release_held() {
    network_.insert(network_.begin(), held_.begin(), held_.end());
    held_.clear();
  }
  size_t in_flight(MessageType type) const {
    return static_cast<size_t>(
        std::count_if(network_.begin(), network_.end(), [&](const Message& m) { return m.type == type; }));
  }
  void isolate(NodeId id) { isolated_.insert(id); }
  void heal() { isolated_.clear(); }

 private:
  NodeOptions options_;
  bool sliced_ = false;
  std::vector<NodeId> ids_{1, 2, 3};
  std::map<NodeId, Server> servers_;
  std::deque<Message> network_;
  std::deque<Message> held_;
  std::set<NodeId> isolated_;
};

// Records the answer to one proposal.
struct Answer {
  int calls = 0;
  std::optional<Result<std::string>> result;
  ProposeDone callback() {
    return [this](Result<std::string> r) {
      ++calls;
      result = std::move(r);
    };
  }
  MapResult map_result() const {
    EXPECT_TRUE(result && result->is_ok());
    return MapResult::decode(result->value()).value();
  }
};

std::string put(const std::string& key, const std::string& value) {
  return MapCommand{MapOp::kPut, 0, 0, key, value, ""}.encode();
}

TEST(Node, aProposalCompletesWithTheStateMachinesResultOnceApplied) {
  Harness h;
  h.elect(1);
  Answer answer;
  Result<Proposal> proposal = h.node(1).propose(put("x", "1"), answer.callback());
  ASSERT_TRUE(proposal.is_ok());
  h.ready(1);
  EXPECT_EQ(answer.calls, 0) << "not before a quorum has it";
  h.deliver_all();
  EXPECT_EQ(answer.calls, 1);
  EXPECT_TRUE(answer.map_result().succeeded);
  EXPECT_EQ(h.map(1).get("x"), "1");
  EXPECT_EQ(h.node(1).pending_proposals(), 0U);
}

TEST(Node, aProposalAtAFollowerIsForwardedAndCompletesThere) {
  Harness h;
  h.elect(1);
  Answer answer;
  Result<Proposal> proposal = h.node(2).propose(put("x", "2"), answer.callback());
  ASSERT_TRUE(proposal.is_ok());
  EXPECT_TRUE(proposal.value().forwarded);
  h.ready(2);
  h.deliver_all();
  h.round();
  EXPECT_EQ(answer.calls, 1);
  EXPECT_TRUE(answer.map_result().succeeded);
  EXPECT_EQ(h.map(2).get("x"), "2");
}

TEST(Node, aRefusedProposalIsNeverAnswered) {
  Harness h;  // no leader yet
  Answer answer;
  Result<Proposal> proposal = h.node(1).propose(put("x", "1"), answer.callback());
  EXPECT_FALSE(proposal.is_ok());
  h.round();
  EXPECT_EQ(answer.calls, 0);
  EXPECT_EQ(h.node(1).pending_proposals(), 0U);
}

TEST(Node, aProposalWhoseSlotWentToAnotherEntryIsAborted) {
  Harness h;
  h.elect(1);
  h.isolate(1);
  Answer lost;
  ASSERT_TRUE(h.node(1).propose(put("x", "lost"), lost.callback()).is_ok());
  h.ready(1);
  NodeId leader = h.elect_among_connected();  // the majority moves on and fills the slot
  ASSERT_NE(leader, 1U);
  Answer won;
  ASSERT_TRUE(h.node(leader).propose(put("x", "won"), won.callback()).is_ok());
  h.ready(leader);
  h.deliver_all();
  h.heal();
  for (int i = 0; i < 5; ++i) h.round();
  ASSERT_EQ(lost.calls, 1);
  ASSERT_FALSE(lost.result->is_ok());
  EXPECT_EQ(lost.result->status().code(), ErrorCode::kAborted) << lost.result->status().to_string();
  EXPECT_EQ(won.calls, 1);
  EXPECT_EQ(h.map(1).get("x"), "won");
}

TEST(Node, requestsThatCannotFinishTimeOut) {
  NodeOptions options;
  options.request_timeout_ticks = 5;
  Harness h(options);
  h.elect(1);
  h.isolate(1);
  Answer answer;
  ASSERT_TRUE(h.node(1).propose(put("x", "1"), answer.callback()).is_ok());
  int reads = 0;
  Status read_status;
  ASSERT_TRUE(h.node(1)
                  .read([&](Status s) {
                    ++reads;
                    read_status = std::move(s);
                  })
                  .is_ok());
  for (int i = 0; i < 4; ++i) h.tick(1);
  EXPECT_EQ(answer.calls, 0);
  h.tick(1);
  EXPECT_EQ(answer.calls, 1);
  EXPECT_EQ(answer.result->status().code(), ErrorCode::kTimedOut);
  EXPECT_EQ(reads, 1);
  EXPECT_EQ(read_status.code(), ErrorCode::kTimedOut);
}

TEST(Node, aReadWaitingAtADeposedLeaderFailsWhenTheLeaderChanges) {
  NodeOptions options;
  options.request_timeout_ticks = 1000;  // far away: the answer must come from the leader change
  Harness h(options);
  h.elect(1);
  h.isolate(1);
  int reads = 0;
  Status read_status;
  ASSERT_TRUE(h.node(1)
                  .read([&](Status s) {
                    ++reads;
                    read_status = std::move(s);
                  })
                  .is_ok());
  h.ready(1);
  NodeId leader = h.elect_among_connected();
  ASSERT_NE(leader, 1U);
  EXPECT_EQ(reads, 0);
  h.heal();
  for (int i = 0; i < 3 && reads == 0; ++i) h.round();
  ASSERT_EQ(reads, 1) << "the read waited although its leader was gone";
  EXPECT_EQ(read_status.code(), ErrorCode::kAborted) << read_status.to_string();
}

// Node 1 leads and x=1 is committed and applied there (followers may not know it is committed yet).
void elect_1_and_write_x(Harness& h) {
  h.elect(1);
  Answer write;
  ASSERT_TRUE(h.node(1).propose(put("x", "1"), write.callback()).is_ok());
  h.ready(1);
  h.deliver_all();
  ASSERT_EQ(write.calls, 1);
}

TEST(Node, aReadAtAFollowerWaitsUntilItHasAppliedTheReadIndex) {
  Harness h;
  ASSERT_NO_FATAL_FAILURE(elect_1_and_write_x(h));
  // Node 3 has the entry but may not know it is committed yet; its read must still see it.
  bool served = false;
  ASSERT_TRUE(h.node(3)
                  .read([&](const Status& s) {
                    ASSERT_TRUE(s.is_ok());
                    served = true;
                    EXPECT_EQ(h.map(3).get("x"), "1") << "served before applying the read index";
                  })
                  .is_ok());
  h.ready(3);
  h.deliver_all();
  h.round();
  EXPECT_TRUE(served);
}

// Reads that arrive in one turn share one read index: a follower forwards one request for all of them
// and the leader confirms it with one heartbeat round; every read is still served, after applying.
TEST(Node, readsOfOneTurnShareOneReadIndexRequest) {
  Harness h;
  ASSERT_NO_FATAL_FAILURE(elect_1_and_write_x(h));
  int served = 0;
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(h.node(3)
                    .read([&](const Status& s) {
                      ASSERT_TRUE(s.is_ok());
                      ++served;
                      EXPECT_EQ(h.map(3).get("x"), "1");
                    })
                    .is_ok());
  }
  EXPECT_EQ(h.in_flight(MessageType::kReadIndex), 0U) << "nothing is asked before the turn ends";
  h.ready(3);
  EXPECT_EQ(h.in_flight(MessageType::kReadIndex), 1U) << "one forwarded request for the 50 reads";
  h.deliver_all();
  h.round();
  EXPECT_EQ(served, 50);

  // At the leader: 50 reads, one heartbeat to each follower.
  int at_leader = 0;
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(h.node(1).read([&](const Status& s) { at_leader += s.is_ok() ? 1 : 0; }).is_ok());
  }
  h.ready(1);
  EXPECT_EQ(h.in_flight(MessageType::kHeartbeat), 2U) << "one read round for the 50 reads";
  h.deliver_all();
  EXPECT_EQ(at_leader, 50);
}

// Puts k0..k{n-1} = "v" through node 1, one at a time, each answered before the next.
void write_keys(Harness& h, int n) {
  for (int i = 0; i < n; ++i) {
    Answer answer;
    ASSERT_TRUE(h.node(1).propose(put("k" + std::to_string(i), "v"), answer.callback()).is_ok());
    h.ready(1);
    h.deliver_all();
    EXPECT_EQ(answer.calls, 1);
  }
}

TEST(Node, snapshotsAreTakenEveryNEntriesAndTheLogIsCompacted) {
  NodeOptions options;
  options.snapshot_entries = 5;
  Harness h(options);
  h.elect(1);
  write_keys(h, 12);
  h.round();
  for (NodeId id : {1, 2, 3}) {
    const SnapshotPtr& snapshot = h.durable(id).snapshot;
    ASSERT_NE(snapshot, nullptr) << "node " << id;
    EXPECT_GE(snapshot->meta.index, 10U);
    EXPECT_EQ(h.node(id).status().snapshot_index, snapshot->meta.index);
    kv::MapStore restored;
    ASSERT_TRUE(restored.restore(snapshot->data).is_ok());
    EXPECT_EQ(restored.applied_index(), snapshot->meta.index);
  }
  // A restarted node comes back from its snapshot and the log after it.
  h.restart(2);
  h.round();
  EXPECT_EQ(h.map(2).get("k11"), "v");
  EXPECT_EQ(h.map(2).chain_hash(), h.map(1).chain_hash());
}

TEST(Node, aDurableSnapshotsBytesLeaveTheEngineAndAreReadBackForALaggingFollower) {
  NodeOptions options;
  options.snapshot_entries = 5;
  Harness h(options);
  h.elect(1);
  h.isolate(3);
  write_keys(h, 12);
  // The leader's snapshot is durable in its store, so the engine keeps only its meta.
  SnapshotPtr held = h.node(1).engine().snapshot();
  ASSERT_NE(held, nullptr);
  EXPECT_TRUE(held->detached);
  EXPECT_TRUE(held->data.empty());
  EXPECT_EQ(held->meta.index, h.durable(1).snapshot->meta.index);
  // Node 3 missed entries the leader has compacted: it can only catch up from the snapshot, whose bytes
  // the leader's node reads back from its store (a detached one arriving would be refused).
  h.heal();
  for (int i = 0; i < 5; ++i) h.round();
  EXPECT_EQ(h.map(3).get("k11"), "v");
  EXPECT_EQ(h.map(3).chain_hash(), h.map(1).chain_hash());
  ASSERT_NE(h.durable(3).snapshot, nullptr);
  EXPECT_FALSE(h.durable(3).snapshot->detached);
  EXPECT_EQ(h.durable(3).snapshot->data, h.durable(1).snapshot->data);
}

TEST(Node, aSnapshotIsWrittenASlicePerTurnWhileEntriesApplyAndCompactsAtItsStart) {
  NodeOptions options;
  options.snapshot_entries = 5;
  options.snapshot_slice_bytes = 2;
  Harness h(options, /*sliced=*/true);
  h.elect(1);
  write_keys(h, 6);
  ASSERT_EQ(h.sliced(1).began.size(), 1U);
  EXPECT_TRUE(h.node(1).snapshot_in_progress());
  EXPECT_EQ(h.durable(1).snapshot, nullptr) << "not whole yet";
  // Each turn writes one slice; entries keep applying meanwhile.
  for (int i = 0; i < 200 && h.node(1).snapshot_in_progress(); ++i) h.round();
  ASSERT_FALSE(h.node(1).snapshot_in_progress());
  write_keys(h, 2);
  SlicedMap& leader = h.sliced(1);
  Index began = leader.began.front();
  EXPECT_GT(leader.slices, 10);
  ASSERT_FALSE(leader.applied_during.empty());
  EXPECT_GT(leader.applied_during.front(), began) << "entries applied while it was written";
  // Saved and compacted at the index it began at, holding the state of then.
  const SnapshotPtr& snapshot = h.durable(1).snapshot;
  ASSERT_NE(snapshot, nullptr);
  EXPECT_EQ(snapshot->meta.index, began);
  EXPECT_EQ(h.node(1).status().snapshot_index, began);
  kv::MapStore restored;
  ASSERT_TRUE(restored.restore(snapshot->data).is_ok());
  EXPECT_EQ(restored.applied_index(), began);
  EXPECT_EQ(restored.get("k0"), "v");
  EXPECT_EQ(restored.get("k5"), std::nullopt) << "written after the start";
  // A restart comes back from it and the log after it.
  h.restart(1);
  h.elect_among_connected();
  h.round();
  EXPECT_EQ(h.map(1).get("k5"), "v");
  EXPECT_EQ(h.map(1).chain_hash(), h.map(2).chain_hash());
}

// The node hands storage each slice as it is encoded, never the whole snapshot at once, and encodes
// nothing more while storage reports a backlog of slices not yet written.
TEST(Node, aSnapshotGoesToStorageASliceAtATimeAndWaitsForABackloggedDisk) {
  NodeOptions options;
  options.snapshot_entries = 5;
  options.snapshot_slice_bytes = 2;
  options.snapshot_backlog_bytes = 100;
  Harness h(options, /*sliced=*/true);
  h.elect(1);
  h.store(1).backlog = 100;  // the disk is behind
  write_keys(h, 6);
  ASSERT_EQ(h.sliced(1).began.size(), 1U);
  int slices = h.sliced(1).slices;
  for (int i = 0; i < 20; ++i) h.round();
  EXPECT_EQ(h.sliced(1).slices, slices) << "nothing was encoded while the disk was behind";
  EXPECT_TRUE(h.node(1).snapshot_in_progress());
  EXPECT_FALSE(h.node(1).snapshot_slice_due()) << "so the loop may wait for input";
  EXPECT_EQ(h.durable(1).snapshot, nullptr);

  h.store(1).backlog = 99;
  EXPECT_TRUE(h.node(1).snapshot_slice_due());
  for (int i = 0; i < 500 && h.node(1).snapshot_in_progress(); ++i) h.round();
  ASSERT_FALSE(h.node(1).snapshot_in_progress());
  ASSERT_EQ(h.sliced(1).began.size(), 1U);
  const SnapshotPtr& snapshot = h.durable(1).snapshot;
  ASSERT_NE(snapshot, nullptr);
  const std::vector<size_t>& handed = h.store(1).slices;
  ASSERT_GT(handed.size(), 10U);
  size_t total = 0;
  for (size_t size : handed) {
    EXPECT_LE(size, 2U) << "a slice is the budget of one turn";
    total += size;
  }
  EXPECT_EQ(total, snapshot->data.size());
  EXPECT_EQ(h.node(1).status().snapshot_index, snapshot->meta.index) << "compacted once durable";
  EXPECT_TRUE(h.node(1).engine().snapshot()->detached) << "the engine keeps only its meta";
}

TEST(Node, aSnapshotFromTheLeaderAbandonsTheOneInProgress) {
  NodeOptions options;
  options.snapshot_entries = 5;
  Harness h(options, /*sliced=*/true);
  h.elect(1);
  h.sliced(3).stall = true;
  write_keys(h, 6);
  ASSERT_TRUE(h.node(3).snapshot_in_progress());
  // Node 3 falls behind the leader's compaction, so the leader sends its snapshot.
  h.isolate(3);
  write_keys(h, 12);
  ASSERT_GT(h.node(1).status().snapshot_index, h.sliced(3).began.front());
  h.heal();
  for (int i = 0; i < 5; ++i) h.round();
  EXPECT_EQ(h.map(3).get("k11"), "v");
  EXPECT_FALSE(h.node(3).snapshot_in_progress());
  EXPECT_EQ(h.sliced(3).abandoned, 1);
  EXPECT_EQ(h.node(3).status().snapshot_index, h.durable(1).snapshot->meta.index);
  // It snapshots again on its own once it may.
  h.sliced(3).stall = false;
  write_keys(h, 6);
  for (int i = 0; i < 5; ++i) h.round();
  EXPECT_GE(h.sliced(3).began.size(), 2U);
  EXPECT_EQ(h.sliced(3).abandoned, 1);
  EXPECT_FALSE(h.node(3).snapshot_in_progress());
  EXPECT_EQ(h.durable(3).snapshot->meta.index, h.sliced(3).began.back());
}

// An entry committed before a Ready's new entries is already durable here and on a quorum: its client
// is answered before that Ready's persist (and its fsync), never before the entry itself was persisted.
TEST(Node, anEntryCommittedBeforeAReadysNewOnesIsAnsweredBeforeThatPersist) {
  Harness h;
  h.elect(1);
  Answer first;
  Answer second;
  std::vector<std::string> order;
  h.store(1).before_persist = [&](const Ready& ready) {
    for (const Entry& entry : ready.entries) {
      order.push_back("persist " + std::to_string(entry.index));
      if (entry.index == ready.entries.front().index) {
        order.push_back(first.calls > 0 ? "first answered" : "first not answered");
      }
    }
  };
  Result<Proposal> a = h.node(1).propose(put("a", "1"), first.callback());
  ASSERT_TRUE(a.is_ok());
  h.ready(1);  // persists a, sends it
  EXPECT_EQ(first.calls, 0) << "not answered before it is durable and committed";
  // The followers take a and acknowledge; the leader steps the acknowledgements but its Ready waits,
  // so the commit of a and the new entry b come out in one Ready.
  h.deliver_all_holding_ready(1);
  Result<Proposal> b = h.node(1).propose(put("b", "2"), second.callback());
  ASSERT_TRUE(b.is_ok());
  h.ready(1);
  std::vector<std::string> expected = {"persist " + std::to_string(a.value().index), "first not answered",
                                       "persist " + std::to_string(b.value().index), "first answered"};
  EXPECT_EQ(order, expected);
  EXPECT_EQ(first.calls, 1);
  h.deliver_all();
  EXPECT_EQ(second.calls, 1);
}

TEST(Node, aRestartedNodeDoesNotCompleteRequestsOfItsEarlierLife) {
  Harness h;
  h.elect(1);
  Answer before;
  ASSERT_TRUE(h.node(2).propose(put("x", "1"), before.callback()).is_ok());
  h.ready(2);
  h.hold_in_flight();  // the forwarded proposal is slow to reach the leader
  h.restart(2);
  h.round();  // node 2 learns the leader again
  // The new incarnation numbers its requests from 1 again: the old entry carries the same request id.
  // A cas on an absent key fails, while the old put succeeds: a mix-up would show.
  Answer after;
  ASSERT_TRUE(h.node(2)
                  .propose(MapCommand{MapOp::kCas, 0, 0, "y", "2", "absent"}.encode(), after.callback())
                  .is_ok());
  h.ready(2);
  h.release_held();
  h.deliver_all();
  h.round();
  EXPECT_EQ(h.map(2).get("x"), "1") << "the old proposal still took effect";
  EXPECT_EQ(before.calls, 0) << "the old incarnation's callback went with it";
  ASSERT_EQ(after.calls, 1);
  EXPECT_FALSE(after.map_result().succeeded) << "completed with the old incarnation's result";
}

TEST(Node, failPendingAnswersEveryRequestOnce) {
  Harness h;
  h.elect(1);
  h.isolate(1);
  Answer answer;
  ASSERT_TRUE(h.node(1).propose(put("x", "1"), answer.callback()).is_ok());
  int reads = 0;
  ASSERT_TRUE(h.node(1)
                  .read([&](const Status& s) { reads += s.code() == ErrorCode::kUnavailable ? 1 : 100; })
                  .is_ok());
  h.node(1).fail_pending(Status(ErrorCode::kUnavailable, "shutting down"));
  h.node(1).fail_pending(Status(ErrorCode::kUnavailable, "again"));
  EXPECT_EQ(answer.calls, 1);
  EXPECT_EQ(reads, 1);
}

TEST(Node, theEnvelopeRoundTripsAndForeignDataIsNotMistakenForIt) {
  std::string wrapped = wrap_command(3, 7, 42, "payload");
  std::optional<Envelope> envelope = unwrap_command(wrapped);
  ASSERT_TRUE(envelope.has_value());
  EXPECT_EQ(envelope->origin, 3U);
  EXPECT_EQ(envelope->incarnation, 7U);
  EXPECT_EQ(envelope->request, 42U);
  EXPECT_EQ(envelope->command, "payload");
  EXPECT_FALSE(unwrap_command("").has_value());
  EXPECT_FALSE(unwrap_command("plain").has_value());
  EXPECT_FALSE(unwrap_command(wrapped.substr(0, 2)).has_value()) << "a truncated envelope";
}

}  // namespace
}  // namespace synod::node
