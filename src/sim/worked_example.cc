#include "sim/worked_example.h"

#include <algorithm>
#include <map>
#include <memory>
#include <sstream>

#include "base/assert.h"
#include "raft/raft.h"
#include "sim/raft_engine.h"

namespace synod::sim {
namespace {

constexpr NodeId kA = 1;
constexpr NodeId kB = 2;
constexpr NodeId kC = 3;
constexpr NodeId kD = 4;
constexpr NodeId kE = 5;
constexpr int kElectionTick = 10;

char name(NodeId id) {
  return static_cast<char>('A' + static_cast<int>(id) - 1);
}

raft::Config example_config() {
  raft::Config config;
  config.election_tick = kElectionTick;
  config.heartbeat_tick = 1;
  config.pre_vote = true;
  config.check_quorum = true;
  return config;
}

// One run of the script: a cluster, where its story goes, and the checks it makes.
class Script {
 public:
  Script(std::ostream* timeline, ClusterObserver* observer, uint64_t seed, WorkedExampleReport& report)
      : timeline_(timeline),
        cluster_(std::make_unique<Cluster>(std::vector<NodeId>{kA, kB, kC, kD, kE},
                                           raft_engine_factory(example_config()), seed)),
        report_(report) {
    cluster_->set_observer(observer);
  }

  Cluster& cluster() { return *cluster_; }
  const Engine& engine(NodeId id) const { return cluster_->engine(id); }
  EngineStatus status(NodeId id) const { return cluster_->engine(id).status(); }

  void say(const std::string& text) {
    if (timeline_ != nullptr) *timeline_ << "  " << text << '\n';
  }

  void heading(const std::string& text) {
    if (timeline_ != nullptr) *timeline_ << '\n' << text << '\n';
  }

  bool check(const std::string& what, bool passed) {
    report_.checks.push_back({what, passed});
    if (timeline_ != nullptr) *timeline_ << "  " << (passed ? "[ok]   " : "[FAIL] ") << what << '\n';
    return passed;
  }

  void show() {
    if (timeline_ == nullptr) return;
    for (NodeId id : cluster_->ids()) {
      *timeline_ << "      " << name(id) << ": ";
      if (!cluster_->is_up(id)) {
        *timeline_ << "down\n";
        continue;
      }
      EngineStatus s = status(id);
      std::string role = role_name(s.role);
      role.resize(13, ' ');
      *timeline_ << role << " term " << s.term << "  commit " << s.commit << "  applied " << s.applied
                 << "  log " << compact_log(id) << '\n';
    }
  }

  // The log as index:term, with the command of normal entries; long runs of old entries elided.
  std::string compact_log(NodeId id) const {
    EngineStatus s = status(id);
    std::ostringstream out;
    Index from = s.first_index;
    if (s.last_index >= from + 6) {
      from = s.last_index - 4;
      out << "... ";
    }
    for (Index index = from; index <= s.last_index; ++index) {
      std::optional<Entry> entry = engine(id).entry_at(index);
      if (!entry) continue;
      out << index << ':' << entry->term;
      if (entry->type == EntryType::kNoop) {
        out << "(no-op)";
      } else {
        out << "(" << entry->data << ")";
      }
      if (index < s.last_index) out << ' ';
    }
    return out.str();
  }

  // Proposes at the leader and delivers everything, so it commits everywhere reachable.
  Index commit_command(NodeId leader, const std::string& command) {
    Result<Proposal> proposal = cluster_->propose(leader, command);
    SYNOD_ASSERT_MSG(proposal.is_ok(), proposal.status().to_string().c_str());
    cluster_->deliver_all();
    return proposal.value().index;
  }

  // The seed's starting point: A leads, and its no-op and five commands fill entries 1-6 everywhere.
  void lead_with_six_entries() {
    check("A wins the first election", elect(kA));
    for (int k = 1; k <= 5; ++k) commit_command(kA, "set k" + std::to_string(k) + " v" + std::to_string(k));
  }

  // Part 3's starting point: six leadership changes (A, B, C, D, E, B, A) bring A to term 7, then A
  // commits three commands. Returns whether every change happened.
  bool lead_term_seven_as_a() {
    bool ok = elect(kA) && transfer(kA, kB) && transfer(kB, kC) && transfer(kC, kD) && transfer(kD, kE) &&
              transfer(kE, kB) && transfer(kB, kA);
    for (int k = 1; ok && k <= 3; ++k)
      commit_command(kA, "set k" + std::to_string(k) + " v" + std::to_string(k));
    return ok;
  }

  bool elect(NodeId id) {
    std::optional<NodeId> leader = cluster_->campaign(id);
    return leader == id;
  }

  bool transfer(NodeId from, NodeId to) {
    if (!cluster_->transfer_leader(from, to).is_ok()) return false;
    cluster_->deliver_all();
    return cluster_->leader() == to;
  }

  int election_timeout(NodeId id) const {
    return dynamic_cast<const raft::Raft&>(cluster_->engine(id)).randomized_election_timeout();
  }

  bool converged() const {
    EngineStatus first = status(kA);
    for (NodeId id : cluster_->ids()) {
      if (!cluster_->is_up(id)) return false;
      EngineStatus s = status(id);
      if (s.last_index != first.last_index || s.commit != s.last_index || s.applied != s.commit) return false;
      for (Index index = 1; index <= s.last_index; ++index) {
        if (engine(id).term_at(index) != engine(kA).term_at(index)) return false;
      }
    }
    return true;
  }

  bool holds_x42(NodeId id) const { return cluster_->state_machine(id).get("x") == "42"; }

 private:
  std::ostream* timeline_;
  std::unique_ptr<Cluster> cluster_;
  WorkedExampleReport& report_;
};

}  // namespace

bool WorkedExampleReport::passed() const {
  return !checks.empty() && failures() == 0;
}

size_t WorkedExampleReport::failures() const {
  return static_cast<size_t>(
      std::count_if(checks.begin(), checks.end(), [](const auto& c) { return !c.passed; }));
}

void run_part1_commit_on_four_of_five(std::ostream* timeline, ClusterObserver* observer, uint64_t seed,
                                      WorkedExampleReport& report) {
  Script script(timeline, observer, seed, report);
  Cluster& cluster = script.cluster();
  script.heading("Part 1: \"set x = 42\" becomes entry 7 and commits on 4 of 5 nodes");
  script.lead_with_six_entries();
  script.say("A leads; its no-op and five earlier commands fill entries 1-6 on every node:");
  script.show();

  script.say("Follower 4 (E) is slow: nothing A sends reaches it for now.");
  cluster.cut(kA, kE);
  Result<Proposal> proposal = cluster.propose(kA, "set x 42");
  script.check("the client's \"set x = 42\" is appended by the leader as entry 7",
               proposal.is_ok() && proposal.value().index == 7);
  cluster.deliver_all();
  script.say("B, C and D append entry 7 and acknowledge; E has not answered:");
  script.show();
  script.check("with 4 of 5 acknowledgments (a majority) A commits entry 7", script.status(kA).commit >= 7);
  script.check("A applied x = 42 to its state machine", script.holds_x42(kA));
  script.check("B, C and D hold entry 7", script.engine(kB).entry_at(7).has_value() &&
                                              script.engine(kC).entry_at(7).has_value() &&
                                              script.engine(kD).entry_at(7).has_value());
  script.check("slow E does not have entry 7 yet", script.status(kE).last_index == 6);

  script.say("Now the leader A crashes, and E is reachable again.");
  cluster.crash(kA);
  cluster.heal();
  bool elected = cluster.run_until([&] { return cluster.leader().has_value(); }, 200);
  std::optional<NodeId> leader = cluster.leader();
  script.check("a new leader is elected among the survivors", elected && leader.has_value());
  if (!leader) return;
  script.say(std::string("New leader: ") + name(*leader) + " in term " +
             std::to_string(script.status(*leader).term));
  std::optional<Entry> seven = script.engine(*leader).entry_at(7);
  script.check("the new leader holds committed entry 7 (\"set x = 42\"): a majority had it",
               seven.has_value() && seven->data == "set x 42");
  script.check("the new leader is not E, whose log lacks entry 7", *leader != kE);
  cluster.run_until(
      [&] { return script.holds_x42(kE) && script.status(kE).commit == script.status(*leader).commit; }, 200);
  script.say("The new leader brings E up to date:");
  script.show();
  script.check("every surviving node applied x = 42, with no data lost",
               script.holds_x42(kB) && script.holds_x42(kC) && script.holds_x42(kD) && script.holds_x42(kE));
}

void run_part2_no_majority(std::ostream* timeline, ClusterObserver* observer, uint64_t seed,
                           WorkedExampleReport& report) {
  Script script(timeline, observer, seed, report);
  Cluster& cluster = script.cluster();
  script.heading("Part 2: only 2 of 5 acknowledge, so nothing commits");
  script.lead_with_six_entries();
  script.say("A's messages to C, D and E are lost; only B hears it.");
  cluster.cut(kA, kC);
  cluster.cut(kA, kD);
  cluster.cut(kA, kE);
  Result<Proposal> proposal = cluster.propose(kA, "set x 42");
  cluster.deliver_all();
  // A few heartbeat intervals, fewer than an election timeout (after which check-quorum would act).
  for (int tick = 0; tick < kElectionTick / 2; ++tick) {
    cluster.tick(kA);
    cluster.deliver_all();
  }
  script.show();
  script.check("entry 7 is on A and B only", proposal.is_ok() && proposal.value().index == 7 &&
                                                 script.engine(kB).entry_at(7).has_value() &&
                                                 !script.engine(kC).entry_at(7).has_value());
  script.check("with 2 of 5 acknowledgments A does not commit entry 7", script.status(kA).commit == 6);
  script.check("no node applied x = 42", !script.holds_x42(kA) && !script.holds_x42(kB));
  script.check("A is still leader and keeps trying", script.status(kA).role == Role::kLeader);

  script.say("The network recovers; A's next heartbeat round reaches everyone.");
  cluster.heal();
  cluster.tick(kA);
  cluster.deliver_all();
  script.show();
  script.check("A's retries reach a majority and entry 7 commits", script.status(kA).commit >= 7);
  cluster.run_until([&] { return script.converged(); }, 50);
  script.check("every node applied x = 42", script.holds_x42(kA) && script.holds_x42(kB) &&
                                                script.holds_x42(kC) && script.holds_x42(kD) &&
                                                script.holds_x42(kE));
}

void run_part3_partition(std::ostream* timeline, ClusterObserver* observer, uint64_t seed, StepDownPath path,
                         WorkedExampleReport& report) {
  // The seed has C's election timer fire first. Timeouts are random (from the seed), so use the first
  // cluster seed at or after `seed` where that is so: the search is deterministic too.
  WorkedExampleReport scratch;
  uint64_t chosen = seed;
  for (;; ++chosen) {
    Script probe(nullptr, nullptr, chosen, scratch);
    bool ok = probe.lead_term_seven_as_a();
    if (ok && probe.election_timeout(kC) < probe.election_timeout(kD) &&
        probe.election_timeout(kC) < probe.election_timeout(kE)) {
      break;
    }
    SYNOD_ASSERT_MSG(chosen < seed + 1000, "no seed lets C's timer fire first");
  }

  Script script(timeline, observer, chosen, report);
  Cluster& cluster = script.cluster();
  script.heading(
      path == StepDownPath::kThroughB
          ? "Part 3a: leader A of term 7 reaches only B; C wins term 8; A learns it through B"
          : "Part 3b: A and B are cut off from C, D, E; C wins term 8; A steps down by check-quorum");
  script.say("(cluster seed " + std::to_string(chosen) +
             ": C's election timer is the first to fire, as in the seed)");
  bool terms = script.lead_term_seven_as_a();
  script.commit_command(kA, "set x 42");
  script.check("after six leadership changes A leads term 7",
               terms && script.status(kA).role == Role::kLeader && script.status(kA).term == 7);
  script.show();
  Index committed_before = script.status(kA).commit;
  std::map<Index, Entry> committed_entries;
  for (Index index = 1; index <= committed_before; ++index)
    committed_entries[index] = *script.engine(kA).entry_at(index);

  if (path == StepDownPath::kThroughB) {
    script.say("A's link becomes unreliable: it reaches B, but not C, D or E. B still reaches everyone.");
    cluster.partition({{kA, kB}, {kC, kD, kE}});
    // B keeps its links to C, D and E: only A's are cut.
    cluster.heal();
    for (NodeId other : {kC, kD, kE}) {
      cluster.cut(kA, other);
      cluster.cut(other, kA);
    }
  } else {
    script.say("A and B are cut off from C, D and E.");
    cluster.partition({{kA, kB}, {kC, kD, kE}});
  }
  (void)cluster.propose(kA, "set y 1");
  cluster.deliver_all();
  script.say("A, still leader, appends \"set y 1\"; only B can acknowledge it:");
  script.show();

  if (path == StepDownPath::kThroughB) {
    script.say("C, D and E hear no heartbeats; their timers run out (only their clocks advance here).");
    for (int round = 0; round < 4 * kElectionTick && cluster.leader() != kC; ++round) {
      for (NodeId id : {kC, kD, kE}) cluster.tick(id);
      cluster.deliver_all();
    }
  } else {
    script.say("Time passes for everyone: C, D and E time out, and A counts who still answers.");
    for (int round = 0; round < 4 * kElectionTick; ++round) {
      cluster.tick_all();
      cluster.deliver_all();
    }
  }
  script.show();
  script.check("C becomes leader of term 8",
               script.status(kC).role == Role::kLeader && script.status(kC).term == 8);
  script.check("D and E follow C in term 8", script.status(kD).leader == kC &&
                                                 script.status(kE).leader == kC &&
                                                 script.status(kD).term == 8 && script.status(kE).term == 8);

  if (path == StepDownPath::kThroughB) {
    script.check("B learned term 8 from C's heartbeats",
                 script.status(kB).term == 8 && script.status(kB).leader == kC);
    script.check("A still believes it leads term 7",
                 script.status(kA).role == Role::kLeader && script.status(kA).term == 7);
    script.say("A sends its next heartbeat to B; B rejects it, answering with term 8.");
    cluster.tick(kA);
    cluster.deliver_all();
    script.show();
    script.check("A sees term 8 and steps down to follower",
                 script.status(kA).role == Role::kFollower && script.status(kA).term == 8);
  } else {
    script.check("A stepped down by check-quorum while still in term 7 (it never heard of term 8)",
                 script.status(kA).role != Role::kLeader && script.status(kA).term == 7);
  }

  script.say("The partition heals.");
  cluster.heal();
  bool converged = cluster.run_until([&] { return script.converged(); }, 100);
  script.show();
  script.check("all logs converge on C's", converged && script.status(kC).role == Role::kLeader);
  bool survived = true;
  for (NodeId id : cluster.ids()) {
    for (const auto& [index, entry] : committed_entries) {
      std::optional<Entry> held = script.engine(id).entry_at(index);
      survived = survived && held.has_value() && *held == entry;
    }
    survived = survived && script.holds_x42(id);
  }
  script.check("every entry committed before the partition survives on every node (x = 42 everywhere)",
               survived);
  bool y_gone = true;
  for (NodeId id : cluster.ids()) y_gone = y_gone && !cluster.state_machine(id).get("y").has_value();
  script.check("A's uncommitted \"set y 1\" of term 7 was overwritten and never applied", y_gone);
}

WorkedExampleReport run_worked_example(std::ostream* timeline, ClusterObserver* observer, uint64_t seed) {
  WorkedExampleReport report;
  run_part1_commit_on_four_of_five(timeline, observer, seed, report);
  run_part2_no_majority(timeline, observer, seed, report);
  run_part3_partition(timeline, observer, seed, StepDownPath::kThroughB, report);
  run_part3_partition(timeline, observer, seed, StepDownPath::kCheckQuorum, report);
  return report;
}

}  // namespace synod::sim
