#include "schedule.h"

#include <algorithm>
#include <map>
#include <set>
#include <sstream>

#include "check/invariants.h"
#include "sim/cluster.h"
#include "sim/raft_engine.h"

namespace synod::test {
namespace {

// Bounds the network so duplicates cannot grow it without limit.
constexpr size_t kMaxInFlight = 256;
constexpr int kLivenessRounds = 400;

NodeId pick(uint8_t value, size_t nodes) {
  return static_cast<NodeId>(value % nodes) + 1;
}

}  // namespace

const char* action_kind_name(Action::Kind kind) {
  switch (kind) {
    case Action::Kind::kTick: return "tick";
    case Action::Kind::kTickAll: return "tick-all";
    case Action::Kind::kDeliver: return "deliver";
    case Action::Kind::kDeliverAll: return "deliver-all";
    case Action::Kind::kDrop: return "drop";
    case Action::Kind::kDuplicate: return "duplicate";
    case Action::Kind::kPropose: return "propose";
    case Action::Kind::kReadIndex: return "read-index";
    case Action::Kind::kPartition: return "partition";
    case Action::Kind::kIsolate: return "isolate";
    case Action::Kind::kCutOneWay: return "cut";
    case Action::Kind::kHeal: return "heal";
    case Action::Kind::kCrash: return "crash";
    case Action::Kind::kRestart: return "restart";
    case Action::Kind::kCompact: return "compact";
    case Action::Kind::kTransferLeader: return "transfer";
  }
  return "?";
}

std::string describe(const Action& action) {
  std::ostringstream out;
  out << action_kind_name(action.kind) << '(' << int(action.node) << ',' << int(action.other) << ','
      << action.position << ')';
  return out.str();
}

ScheduleOutcome run_schedule(const std::vector<Action>& actions, const ScheduleOptions& options) {
  std::vector<NodeId> ids;
  for (size_t i = 1; i <= options.nodes; ++i) ids.push_back(i);
  sim::Cluster cluster(ids, sim::raft_engine_factory(options.config), options.seed);
  check::InvariantChecker checker;
  cluster.set_observer(&checker);
  ScheduleOutcome outcome;
  const size_t n = options.nodes;
  uint64_t proposals = 0;
  uint64_t reads = 0;
  std::set<std::pair<Term, NodeId>> leaders;

  // Read safety: a read must observe every write committed before it was asked for, so the index it
  // is served at can't be below the highest commit index any node had when the read began.
  std::map<std::string, Index> read_floor;
  auto highest_commit = [&] {
    Index highest = 0;
    for (NodeId id : ids) {
      if (cluster.is_up(id)) highest = std::max(highest, cluster.engine(id).status().commit);
    }
    return highest;
  };
  auto check_reads = [&] {
    for (NodeId id : ids) {
      if (!cluster.is_up(id)) continue;
      for (const ReadState& read : cluster.read_states(id)) {
        auto it = read_floor.find(read.context);
        if (it != read_floor.end() && read.index < it->second && outcome.safe) {
          outcome.safe = false;
          outcome.violation = "SAFETY: linearizable read '" + read.context + "' served at index " +
                              std::to_string(read.index) + " but index " + std::to_string(it->second) +
                              " was committed before it began";
        }
        ++outcome.reads_served;
      }
      cluster.read_states(id).clear();
    }
  };

  for (const Action& action : actions) {
    NodeId a = pick(action.node, n);
    NodeId b = pick(action.other, n);
    auto& in_flight = cluster.in_flight();
    switch (action.kind) {
      case Action::Kind::kTick:
        if (options.lockstep_clocks) {
          cluster.tick_all();
        } else {
          cluster.tick(a);
        }
        break;
      case Action::Kind::kTickAll: cluster.tick_all(); break;
      case Action::Kind::kDeliver:
        if (!in_flight.empty()) (void)cluster.deliver(action.position % in_flight.size());
        break;
      case Action::Kind::kDeliverAll: cluster.deliver_all(4 * kMaxInFlight); break;
      case Action::Kind::kDrop:
        if (!in_flight.empty()) cluster.drop(action.position % in_flight.size());
        break;
      case Action::Kind::kDuplicate:
        if (!in_flight.empty() && in_flight.size() < kMaxInFlight) {
          cluster.duplicate(action.position % in_flight.size());
        }
        break;
      case Action::Kind::kPropose:
        if (cluster.is_up(a)) {
          (void)cluster.propose(
              a, "set k" + std::to_string(action.other % 4) + " " + std::to_string(++proposals));
        }
        break;
      case Action::Kind::kReadIndex:
        if (cluster.is_up(a)) {
          std::string context = "r" + std::to_string(++reads);
          read_floor[context] = highest_commit();
          (void)cluster.read_index(a, context);
        }
        break;
      case Action::Kind::kPartition: {
        std::vector<NodeId> left;
        std::vector<NodeId> right;
        for (NodeId id : ids) ((action.other >> (id - 1)) & 1U ? left : right).push_back(id);
        cluster.partition({left, right});
        break;
      }
      case Action::Kind::kIsolate: cluster.isolate(a); break;
      case Action::Kind::kCutOneWay:
        if (a != b) cluster.cut(a, b);
        break;
      case Action::Kind::kHeal: cluster.heal(); break;
      case Action::Kind::kCrash:
        if (cluster.is_up(a)) cluster.crash(a);
        break;
      case Action::Kind::kRestart:
        if (!cluster.is_up(a)) cluster.restart(a);
        break;
      case Action::Kind::kCompact:
        if (cluster.is_up(a)) (void)cluster.compact(a);
        break;
      case Action::Kind::kTransferLeader:
        if (cluster.is_up(a)) (void)cluster.transfer_leader(a, b);
        break;
    }
    if (std::optional<NodeId> leader = cluster.leader()) {
      leaders.insert({cluster.engine(*leader).status().term, *leader});
    }
    check_reads();
    if (!checker.ok()) {
      outcome.safe = false;
      outcome.violation = "SAFETY: " + checker.violation();
    }
    if (!outcome.safe) return outcome;
  }

  if (options.check_liveness) {
    // Liveness: with every node up and every link healed, a leader emerges, logs converge, and a new
    // proposal commits and is applied everywhere.
    cluster.heal();
    for (NodeId id : ids) {
      if (!cluster.is_up(id)) cluster.restart(id);
    }
    auto converged = [&] {
      std::optional<NodeId> leader = cluster.leader();
      if (!leader) return false;
      EngineStatus lead = cluster.engine(*leader).status();
      for (NodeId id : ids) {
        EngineStatus s = cluster.engine(id).status();
        if (s.term != lead.term || s.leader != *leader || s.commit != lead.last_index ||
            s.applied != s.commit) {
          return false;
        }
      }
      return true;
    };
    // Then a new proposal must commit everywhere. It may be refused (a leader transfer in progress) or
    // lost (the leader changed before replicating it): then it is proposed again.
    Proposal final_entry;
    bool settled = cluster.run_until(
        [&] {
          if (!converged()) return false;
          NodeId leader = *cluster.leader();
          const Engine& engine = cluster.engine(leader);
          if (final_entry.index != 0) {
            std::optional<Term> term = engine.term_at(final_entry.index);
            if (term == final_entry.term) return engine.status().applied >= final_entry.index;
            if (term.has_value() || engine.status().snapshot_index >= final_entry.index) final_entry = {};
          }
          if (final_entry.index == 0) {
            Result<Proposal> proposed = cluster.propose(leader, "set final 1");
            if (proposed.is_ok()) final_entry = proposed.value();
          }
          return false;
        },
        kLivenessRounds);
    if (!settled) {
      outcome.live = false;
      outcome.violation = "LIVENESS: the healed cluster did not converge within " +
                          std::to_string(kLivenessRounds) + " rounds:\n" + cluster.describe();
    }
    checker.check_all(cluster);
    check_reads();
    if (!checker.ok() && outcome.safe) {
      outcome.safe = false;
      outcome.violation = "SAFETY: " + checker.violation();
    }
    if (settled) {
      // Every node applied the same sequence (the checker compared hash chains index by index).
      uint64_t chain = cluster.state_machine(1).chain_hash();
      for (NodeId id : ids) {
        if (cluster.state_machine(id).chain_hash() != chain && outcome.safe) {
          outcome.safe = false;
          outcome.violation = "SAFETY: converged state machines differ";
        }
      }
    }
  }
  outcome.leaders_seen = leaders.size();
  for (NodeId id : ids) {
    if (cluster.is_up(id)) {
      outcome.entries_committed =
          std::max<uint64_t>(outcome.entries_committed, cluster.engine(id).status().commit);
    }
  }
  return outcome;
}

}  // namespace synod::test
