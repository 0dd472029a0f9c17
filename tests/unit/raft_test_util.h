// Test-only helpers for driving one synod::raft::Raft by hand: configurations, crafted messages, logs
// and drained Readys. A test plays every other node of the cluster itself, so each rule can be shown
// with exactly the input it needs.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "base/assert.h"
#include "consensus/message.h"
#include "consensus/ready.h"
#include "consensus/types.h"
#include "raft/config.h"
#include "raft/raft.h"

namespace synod::raft::test {

// A configuration with small, readable timeouts: election after [10, 20) ticks, heartbeat every tick.
inline Config make_config(NodeId id, std::vector<NodeId> voters, uint64_t seed = 1) {
  Config config;
  config.id = id;
  config.voters = std::move(voters);
  config.election_tick = 10;
  config.heartbeat_tick = 1;
  config.seed = seed;
  return config;
}

// Builds a core; a creation failure fails the test and stops it (there is nothing left to drive).
inline std::unique_ptr<Raft> make_raft(const Config& config, const DurableState& durable = {}) {
  Result<std::unique_ptr<Raft>> result = Raft::create(config, durable);
  if (!result.is_ok()) ADD_FAILURE() << "Raft::create failed: " << result.status().to_string();
  SYNOD_ASSERT(result.is_ok());
  return std::move(result).value();
}

// Entries first, first + 1, ... with the given terms; entry i carries the data "e<i>".
inline std::vector<Entry> make_entries(Index first, const std::vector<Term>& terms) {
  std::vector<Entry> entries;
  for (size_t k = 0; k < terms.size(); ++k) {
    Index index = first + k;
    entries.push_back(Entry{terms[k], index, EntryType::kNormal, "e" + std::to_string(index)});
  }
  return entries;
}

// Durable state holding entries 1..terms.size() with the given terms, in term `term`.
inline DurableState durable_log(const std::vector<Term>& terms, Term term, Index commit = 0,
                                NodeId vote = kNoNode) {
  DurableState durable;
  durable.hard_state = HardState{term, vote, commit};
  durable.entries = make_entries(1, terms);
  return durable;
}

inline SnapshotPtr make_snapshot(Index index, Term term, std::vector<NodeId> voters,
                                 std::string data = "snap") {
  return std::make_shared<const Snapshot>(
      Snapshot{SnapshotMeta{index, term, ConfState{std::move(voters)}}, std::move(data)});
}

// ---------------------------------------------------------------------------------------------------
// Messages, as the other nodes would send them.

inline Message make_message(MessageType type, NodeId from, NodeId to, Term term) {
  Message message;
  message.type = type;
  message.from = from;
  message.to = to;
  message.term = term;
  return message;
}

inline Message append(NodeId from, NodeId to, Term term, Index prev_index, Term prev_term,
                      std::vector<Entry> entries, Index commit) {
  Message message = make_message(MessageType::kAppend, from, to, term);
  message.index = prev_index;
  message.log_term = prev_term;
  message.entries = std::move(entries);
  message.commit = commit;
  return message;
}

inline Message append_ack(NodeId from, NodeId to, Term term, Index index) {
  Message message = make_message(MessageType::kAppendResponse, from, to, term);
  message.index = index;
  return message;
}

inline Message append_reject(NodeId from, NodeId to, Term term, Index rejected, Index hint_index,
                             Term hint_term) {
  Message message = make_message(MessageType::kAppendResponse, from, to, term);
  message.reject = true;
  message.index = rejected;
  message.hint_index = hint_index;
  message.hint_term = hint_term;
  return message;
}

inline Message heartbeat(NodeId from, NodeId to, Term term, Index commit, std::string context = "") {
  Message message = make_message(MessageType::kHeartbeat, from, to, term);
  message.commit = commit;
  message.context = std::move(context);
  return message;
}

inline Message heartbeat_response(NodeId from, NodeId to, Term term, std::string context = "") {
  Message message = make_message(MessageType::kHeartbeatResponse, from, to, term);
  message.context = std::move(context);
  return message;
}

// A (pre-)vote request for `term` from a candidate whose log ends at (last_index, last_term).
inline Message vote_request(MessageType type, NodeId from, NodeId to, Term term, Index last_index,
                            Term last_term, std::string context = "") {
  Message message = make_message(type, from, to, term);
  message.index = last_index;
  message.log_term = last_term;
  message.context = std::move(context);
  return message;
}

inline Message vote_response(MessageType type, NodeId from, NodeId to, Term term, bool reject) {
  Message message = make_message(type, from, to, term);
  message.reject = reject;
  return message;
}

// ---------------------------------------------------------------------------------------------------
// Readys

// Takes one Ready and acknowledges it at once, as a caller that persists, sends and applies all of it.
inline Ready drain(Raft& raft) {
  Ready ready = raft.ready();
  raft.advance();
  return ready;
}

// Drains until nothing is pending and concatenates the output; soft state, hard state and snapshot are
// the latest handed out.
inline Ready drain_all(Raft& raft) {
  Ready all;
  for (int rounds = 0; raft.has_ready(); ++rounds) {
    SYNOD_ASSERT_MSG(rounds < 100, "the core keeps producing Readys");
    Ready ready = drain(raft);
    if (ready.soft_state) all.soft_state = ready.soft_state;
    if (ready.hard_state) all.hard_state = ready.hard_state;
    if (ready.snapshot) all.snapshot = ready.snapshot;
    for (Entry& entry : ready.entries) all.entries.push_back(std::move(entry));
    for (Message& message : ready.messages) all.messages.push_back(std::move(message));
    for (Entry& entry : ready.committed) all.committed.push_back(std::move(entry));
    for (ReadState& read : ready.read_states) all.read_states.push_back(std::move(read));
  }
  return all;
}

inline std::vector<Message> take_messages(Raft& raft) {
  return drain_all(raft).messages;
}

inline std::vector<Message> filter(const std::vector<Message>& messages, MessageType type,
                                   NodeId to = kNoNode) {
  std::vector<Message> out;
  for (const Message& message : messages) {
    if (message.type == type && (to == kNoNode || message.to == to)) out.push_back(message);
  }
  return out;
}

inline std::vector<Index> indexes_of(const std::vector<Entry>& entries) {
  std::vector<Index> out;
  for (const Entry& entry : entries) out.push_back(entry.index);
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Roles

inline std::vector<NodeId> peers_of(const Raft& raft) {
  std::vector<NodeId> out;
  for (NodeId id : raft.quorum().voters()) {
    if (id != raft.config().id) out.push_back(id);
  }
  return out;
}

// Ticks `raft` (a follower) until it campaigns, then grants it its peers' pre-votes and votes in id order
// until it leads. Returns what the new leader handed out (its no-op and first Appends), all drained.
inline Ready elect(Raft& raft) {
  const int max_ticks = 2 * raft.config().election_tick;
  for (int tick = 0; tick < max_ticks && raft.status().role == Role::kFollower; ++tick) raft.tick();
  Ready out = drain_all(raft);
  const NodeId self = raft.config().id;
  if (raft.status().role == Role::kPreCandidate) {
    const Term campaign_term = raft.status().term + 1;
    for (NodeId peer : peers_of(raft)) {
      if (raft.status().role != Role::kPreCandidate) break;
      Message grant = vote_response(MessageType::kPreVoteResponse, peer, self, campaign_term, false);
      EXPECT_TRUE(raft.step(grant).is_ok());
    }
    out = drain_all(raft);
  }
  if (raft.status().role == Role::kCandidate) {
    const Term term = raft.status().term;
    for (NodeId peer : peers_of(raft)) {
      if (raft.status().role != Role::kCandidate) break;
      EXPECT_TRUE(raft.step(vote_response(MessageType::kVoteResponse, peer, self, term, false)).is_ok());
    }
    out = drain_all(raft);
  }
  EXPECT_EQ(raft.status().role, Role::kLeader);
  return out;
}

// A new core, elected leader of its cluster; its first Appends are drained and dropped.
inline std::unique_ptr<Raft> make_leader(const Config& config, const DurableState& durable = {}) {
  std::unique_ptr<Raft> raft = make_raft(config, durable);
  elect(*raft);
  return raft;
}

// Node 1, leader of {1, 2, 3} in term 1 with its no-op (index 1) committed through node 2's
// acknowledgement, and everything drained.
inline std::unique_ptr<Raft> make_committed_leader(Config config = make_config(1, {1, 2, 3})) {
  std::unique_ptr<Raft> raft = make_leader(config);
  const Term term = raft->status().term;
  EXPECT_TRUE(raft->step(append_ack(2, 1, term, raft->status().last_index)).is_ok());
  drain_all(*raft);
  EXPECT_EQ(raft->status().commit, raft->status().last_index);
  return raft;
}

// Makes `raft` a follower of `leader` in `term` with one heartbeat; drains the answer.
inline void follow(Raft& raft, NodeId leader, Term term) {
  EXPECT_TRUE(raft.step(heartbeat(leader, raft.config().id, term, 0)).is_ok());
  drain_all(raft);
  EXPECT_EQ(raft.status().leader, leader);
}

// Every field of the status except the counters: what a dropped message must leave unchanged.
inline void expect_same_state(const EngineStatus& before, const EngineStatus& after) {
  EXPECT_EQ(before.role, after.role);
  EXPECT_EQ(before.term, after.term);
  EXPECT_EQ(before.vote, after.vote);
  EXPECT_EQ(before.leader, after.leader);
  EXPECT_EQ(before.first_index, after.first_index);
  EXPECT_EQ(before.last_index, after.last_index);
  EXPECT_EQ(before.commit, after.commit);
  EXPECT_EQ(before.applied, after.applied);
  EXPECT_EQ(before.snapshot_index, after.snapshot_index);
  EXPECT_EQ(before.transferee, after.transferee);
}

// What a caller following the Ready contract has on disk: applying each Ready's snapshot, entries
// (replacing any stored suffix they overlap) and hard state. Restarting from it must give the same node.
struct PersistedState {
  DurableState durable;

  void persist(const Ready& ready) {
    std::vector<Entry>& stored = durable.entries;
    if (ready.snapshot) {
      // The core hands out a snapshot only when it replaced its whole log with it (a follower whose log
      // matched the snapshot keeps its entries and gets no snapshot), so every stored entry goes.
      durable.snapshot = ready.snapshot;
      stored.clear();
    }
    if (!ready.entries.empty()) {
      Index first = ready.entries.front().index;
      std::erase_if(stored, [&](const Entry& entry) { return entry.index >= first; });
      stored.insert(stored.end(), ready.entries.begin(), ready.entries.end());
    }
    if (ready.hard_state) durable.hard_state = *ready.hard_state;
  }

  // Handles every pending Ready of `raft`, persisting as it goes; returns the concatenated output.
  Ready drain_all(Raft& raft) {
    Ready all;
    for (int rounds = 0; raft.has_ready(); ++rounds) {
      SYNOD_ASSERT_MSG(rounds < 100, "the core keeps producing Readys");
      Ready ready = raft.ready();
      persist(ready);
      raft.advance();
      for (Message& message : ready.messages) all.messages.push_back(std::move(message));
      for (Entry& entry : ready.committed) all.committed.push_back(std::move(entry));
    }
    return all;
  }
};

}  // namespace synod::raft::test
