#include "check/mc_invariants.h"

#include <optional>

#include "base/hash.h"
#include "paxos/multi_ballot.h"

namespace synod::check {
namespace {

uint64_t value_hash(const Entry& entry) {
  return hash_bytes(entry.data, static_cast<uint64_t>(entry.type) + 1);
}

std::string at(NodeId id, Index index) {
  return "node " + std::to_string(id) + " index " + std::to_string(index);
}

// Raft: if two logs hold an entry with the same index and term, they hold the same entries up to it.
std::string check_log_matching(const sim::Cluster& cluster, NodeId a, NodeId b) {
  const Engine& x = cluster.engine(a);
  const Engine& y = cluster.engine(b);
  EngineStatus sx = x.status();
  EngineStatus sy = y.status();
  Index low = std::max(sx.first_index, sy.first_index);
  Index high = std::min(sx.last_index, sy.last_index);
  Index matched = 0;
  for (Index i = high; i >= low && i > 0; --i) {
    if (x.term_at(i) == y.term_at(i)) {
      matched = i;
      break;
    }
  }
  for (Index i = low; i <= matched; ++i) {
    std::optional<Entry> ex = x.entry_at(i);
    std::optional<Entry> ey = y.entry_at(i);
    if (ex && ey && !(*ex == *ey)) {
      return "log matching: " + at(a, i) + " and node " + std::to_string(b) +
             " differ although both hold index " + std::to_string(matched) + " at the same term";
    }
  }
  return {};
}

// Multi-Paxos: one value per (slot, ballot).
std::string check_one_value_per_ballot(const sim::Cluster& cluster, NodeId a, NodeId b) {
  const Engine& x = cluster.engine(a);
  const Engine& y = cluster.engine(b);
  EngineStatus sx = x.status();
  EngineStatus sy = y.status();
  for (Index i = std::max(sx.first_index, sy.first_index); i <= std::min(sx.last_index, sy.last_index); ++i) {
    std::optional<Entry> ex = x.entry_at(i);
    std::optional<Entry> ey = y.entry_at(i);
    if (!ex || !ey || ex->type == EntryType::kVacant || ey->type == EntryType::kVacant) continue;
    if (ex->term == ey->term && value_hash(*ex) != value_hash(*ey)) {
      return "one value per ballot: " + at(a, i) + " and node " + std::to_string(b) +
             " hold different values at ballot " + paxos::ballot_string(ex->term);
    }
  }
  return {};
}

}  // namespace

void McGhost::encode(StateEncoder& out) const {
  out.u64(leaders.size());
  for (const auto& [term, leader] : leaders) {
    out.u64(term);
    out.node(leader);
  }
  out.u64(chosen.size());
  for (const auto& [index, c] : chosen) {
    out.u64(index);
    out.u64(c.term);
    out.u64(c.value);
    out.u64(c.commit_term);
  }
  out.u64(reads.size());
  for (const auto& [context, read] : reads) {
    out.bytes(context);
    out.node(read.node);
    out.u64(read.at_least);
  }
}

std::vector<McNodeBefore> snapshot_nodes(const sim::Cluster& cluster) {
  std::vector<McNodeBefore> out;
  for (NodeId id : cluster.ids()) {
    McNodeBefore node;
    node.up = cluster.is_up(id);
    node.incarnation = cluster.incarnation(id);
    if (node.up) {
      EngineStatus status = cluster.engine(id).status();
      node.term = status.term;
      node.commit = status.commit;
    }
    out.push_back(node);
  }
  return out;
}

std::string check_state(McEngine engine, sim::Cluster& cluster, McGhost& ghost,
                        const std::vector<McNodeBefore>& before, const McStep* step) {
  bool paxos = engine == McEngine::kMultiPaxos;
  if (step != nullptr && step->kind == McStep::Kind::kRead) {
    Index chosen = ghost.chosen.empty() ? 0 : ghost.chosen.rbegin()->first;
    ghost.reads[read_context(step->value)] = McGhost::PendingRead{step->arg, chosen};
  }
  const std::vector<NodeId>& ids = cluster.ids();
  for (size_t n = 0; n < ids.size(); ++n) {
    NodeId id = ids[n];
    if (!cluster.is_up(id)) continue;
    const Engine& core = cluster.engine(id);
    EngineStatus status = core.status();
    std::string who = "node " + std::to_string(id);

    // Monotonic state.
    if (n < before.size() && before[n].up) {
      if (status.term < before[n].term) {
        return "monotonic term: " + who + " went from term " + std::to_string(before[n].term) + " back to " +
               std::to_string(status.term);
      }
      if (before[n].incarnation == cluster.incarnation(id) && status.commit < before[n].commit) {
        return "monotonic commit: " + who + " went from commit " + std::to_string(before[n].commit) +
               " back to " + std::to_string(status.commit);
      }
    }

    // Election safety.
    if (status.role == Role::kLeader) {
      auto [it, inserted] = ghost.leaders.emplace(status.term, id);
      if (!inserted && it->second != id) {
        return "election safety: nodes " + std::to_string(it->second) + " and " + std::to_string(id) +
               " both led in " +
               (paxos ? "ballot " + paxos::ballot_string(status.term)
                      : "term " + std::to_string(status.term));
      }
    }

    // State machine safety: the committed prefix agrees with everything ever chosen.
    for (Index i = status.first_index; i <= status.commit; ++i) {
      std::optional<Entry> entry = core.entry_at(i);
      if (!entry)
        return "state machine safety: " + who + " has no entry at committed index " + std::to_string(i);
      McGhost::Chosen fact{paxos ? 0 : entry->term, value_hash(*entry), status.term};
      auto [it, inserted] = ghost.chosen.emplace(i, fact);
      if (!inserted && (it->second.value != fact.value || it->second.term != fact.term)) {
        return "state machine safety: " + at(id, i) + " holds a committed " +
               (entry->type == EntryType::kNoop ? std::string("no-op") : "'" + entry->data + "'") +
               " where another value was chosen before";
      }
    }
  }

  for (size_t a = 0; a < ids.size(); ++a) {
    if (!cluster.is_up(ids[a])) continue;
    for (size_t b = a + 1; b < ids.size(); ++b) {
      if (!cluster.is_up(ids[b])) continue;
      std::string violation = paxos ? check_one_value_per_ballot(cluster, ids[a], ids[b])
                                    : check_log_matching(cluster, ids[a], ids[b]);
      if (!violation.empty()) return violation;
    }
  }

  // Leader completeness and hole filling.
  for (NodeId id : ids) {
    if (!cluster.is_up(id)) continue;
    const Engine& core = cluster.engine(id);
    EngineStatus status = core.status();
    if (status.role != Role::kLeader) continue;
    for (const auto& [index, chosen] : ghost.chosen) {
      if (chosen.commit_term >= status.term || index <= status.snapshot_index) continue;
      std::optional<Entry> entry = core.entry_at(index);
      if (!entry || value_hash(*entry) != chosen.value || (!paxos && entry->term != chosen.term)) {
        return "leader completeness: node " + std::to_string(id) + " leads in " +
               (paxos ? "ballot " + paxos::ballot_string(status.term)
                      : "term " + std::to_string(status.term)) +
               " without the entry chosen at index " + std::to_string(index);
      }
    }
    if (paxos) {
      for (Index i = status.first_index; i <= status.last_index; ++i) {
        std::optional<Entry> entry = core.entry_at(i);
        if (entry && entry->type == EntryType::kVacant) {
          return "hole filling: leader node " + std::to_string(id) + " holds no value for slot " +
                 std::to_string(i) + " below its last slot " + std::to_string(status.last_index);
        }
      }
    }
  }

  // Linearizable reads.
  for (NodeId id : ids) {
    std::vector<ReadState>& answered = cluster.read_states(id);
    for (const ReadState& read : answered) {
      auto it = ghost.reads.find(read.context);
      if (it == ghost.reads.end()) continue;
      if (read.index < it->second.at_least) {
        return "linearizable reads: node " + std::to_string(id) + " answered read " + read.context +
               " at index " + std::to_string(read.index) + ", but index " +
               std::to_string(it->second.at_least) + " was chosen before it was asked";
      }
      ghost.reads.erase(it);
    }
    answered.clear();
  }
  return {};
}

}  // namespace synod::check
