#include "check/invariants.h"

#include <sstream>

#include "base/hash.h"

namespace synod::check {

uint64_t entry_content_hash(const Entry& entry) {
  return hash_bytes(entry.data, (entry.term * 31U) ^ static_cast<uint64_t>(entry.type));
}

// What a slot holds, whatever ballot it was accepted at.
uint64_t entry_value_hash(const Entry& entry) {
  return hash_bytes(entry.data, static_cast<uint64_t>(entry.type));
}

void InvariantChecker::fail(const std::string& what) {
  if (!violation_.empty()) return;
  std::ostringstream out;
  out << what << "\nlast events (oldest first):\n";
  for (const std::string& event : trace_) out << "  " << event << '\n';
  violation_ = out.str();
}

void InvariantChecker::on_attach(const sim::ClusterView& cluster) {
  (void)cluster;
  // Facts are per cluster; a violation already found is kept.
  leaders_.clear();
  entries_.clear();
  committed_.clear();
  applied_.clear();
  nodes_.clear();
  trace_.clear();
}

void InvariantChecker::on_applied(NodeId node, Index index, uint64_t chain_hash) {
  auto [it, inserted] = applied_.emplace(index, chain_hash);
  if (!inserted && it->second != chain_hash) {
    fail("state machine safety: node " + std::to_string(node) + " applied a different sequence up to index " +
         std::to_string(index) + " than another node");
  }
}

void InvariantChecker::on_event(const sim::ClusterView& cluster, NodeId subject, const std::string& what) {
  trace_.push_back(what);
  if (trace_.size() > trace_limit_) trace_.pop_front();
  if (subject != kNoNode && cluster.is_up(subject)) check_node(cluster, subject);
}

void InvariantChecker::check_all(const sim::ClusterView& cluster) {
  for (NodeId id : cluster.ids()) {
    if (cluster.is_up(id)) check_node(cluster, id);
  }
}

void InvariantChecker::check_node(const sim::ClusterView& cluster, NodeId id) {
  ++checks_;
  const Engine& engine = cluster.engine(id);
  EngineStatus status = engine.status();
  std::string who = "node " + std::to_string(id);

  NodeFacts& facts = nodes_[id];
  if (status.term < facts.term) {
    fail("monotonic term: " + who + " went from term " + std::to_string(facts.term) + " to " +
         std::to_string(status.term));
  }
  if (cluster.incarnation(id) != facts.commit_incarnation) {
    facts.commit_incarnation = cluster.incarnation(id);
    facts.commit = 0;
  }
  if (status.commit < facts.commit) {
    fail("monotonic commit: " + who + " went from commit " + std::to_string(facts.commit) + " to " +
         std::to_string(status.commit));
  }
  facts.term = status.term;
  facts.commit = status.commit;

  if (status.role == Role::kLeader) {
    auto [it, inserted] = leaders_.emplace(status.term, id);
    if (!inserted && it->second != id) {
      fail("election safety: nodes " + std::to_string(it->second) + " and " + std::to_string(id) +
           " both lead term " + std::to_string(status.term));
    }
  }

  // Unchanged log, commit and committed set since the last scan of this engine: nothing new to check
  // (the scan is what costs; most events are heartbeats and ticks that change none of them).
  uint64_t incarnation = cluster.incarnation(id);
  bool same_log =
      facts.scanned && facts.incarnation == incarnation && facts.log_version == status.log_version;
  if (same_log && facts.committed_known == committed_.size() && facts.scanned_commit == status.commit) return;
  facts.incarnation = incarnation;
  facts.log_version = status.log_version;
  facts.scanned_commit = status.commit;
  facts.scanned = true;

  // Log matching, by induction: each (index, term) must always name the same content and the same
  // previous term, so equal (index, term) pairs imply equal prefixes.
  bool paxos = protocol_ == Protocol::kMultiPaxos;
  std::optional<Term> previous = engine.term_at(status.first_index - 1);
  for (Index index = status.first_index; index <= status.last_index; ++index) {
    std::optional<Entry> entry = engine.entry_at(index);
    if (!entry) {
      fail("log: " + who + " has a hole at index " + std::to_string(index));
      return;
    }
    if (entry->type == EntryType::kVacant) {
      if (!paxos) fail("log: " + who + " holds a vacant slot at index " + std::to_string(index));
      if (index <= status.commit)
        fail("log: " + who + " counts vacant slot " + std::to_string(index) + " chosen");
      continue;
    }
    uint64_t content = paxos ? entry_value_hash(*entry) : entry_content_hash(*entry);
    if (paxos) {
      // One value per (slot, ballot); nothing is claimed about the slots before it.
      auto [it, inserted] = entries_.emplace(std::make_pair(index, entry->term), EntryFacts{content, 0});
      if (!inserted && it->second.content_hash != content) {
        fail("one value per ballot: " + who + " holds a different value at slot " + std::to_string(index) +
             " ballot " + std::to_string(entry->term) + " than another node");
      }
    } else {
      EntryFacts here{content, previous.value_or(0)};
      auto [it, inserted] = entries_.emplace(std::make_pair(index, entry->term), here);
      if (!inserted && (it->second.content_hash != here.content_hash ||
                        (previous && it->second.previous_term != here.previous_term))) {
        fail("log matching: " + who + " holds a different entry (or prefix) at index " +
             std::to_string(index) + " term " + std::to_string(entry->term) + " than another node");
      }
      if (previous && entry->term < *previous) fail("log: terms decrease in " + who + "'s log");
    }
    previous = entry->term;

    if (index <= status.commit) {
      auto [committed, fresh] = committed_.emplace(index, CommittedFacts{entry->term, content, status.term});
      // Raft: the same entry, term included. Paxos: the same value (a chosen slot is re-proposed at
      // later ballots with the value it was chosen with).
      if (!fresh &&
          ((!paxos && committed->second.term != entry->term) || committed->second.content_hash != content)) {
        fail("committed entry changed: " + who + " commits a different entry at index " +
             std::to_string(index));
      }
      if (fresh) {
        // A newly committed entry must be in every leader's log.
        for (NodeId other : cluster.ids()) {
          if (other != id && cluster.is_up(other) && cluster.engine(other).status().role == Role::kLeader) {
            check_leader_completeness(cluster, other);
          }
        }
      }
    }
  }
  if (status.role == Role::kLeader) check_leader_completeness(cluster, id);
  facts.committed_known = committed_.size();
}

void InvariantChecker::check_leader_completeness(const sim::ClusterView& cluster, NodeId id) {
  const Engine& engine = cluster.engine(id);
  EngineStatus status = engine.status();
  for (const auto& [index, facts] : committed_) {
    // A leader of an older term may still be around unaware; it owes nothing committed after it.
    if (index <= status.snapshot_index || facts.commit_term >= status.term) continue;
    std::optional<Entry> entry = engine.entry_at(index);
    bool holds = false;
    if (protocol_ == Protocol::kMultiPaxos) {
      // A Multi-Paxos leader has recovered every chosen slot the moment it leads.
      holds = entry && entry->type != EntryType::kVacant && entry_value_hash(*entry) == facts.content_hash;
    } else {
      holds = entry && entry->term == facts.term && entry_content_hash(*entry) == facts.content_hash;
    }
    if (!holds) {
      fail("leader completeness: leader " + std::to_string(id) + " of term " + std::to_string(status.term) +
           " lacks entry " + std::to_string(index) + " (term " + std::to_string(facts.term) +
           ") committed by term " + std::to_string(facts.commit_term));
      return;
    }
  }
}

}  // namespace synod::check
