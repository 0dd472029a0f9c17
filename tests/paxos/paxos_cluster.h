// PaxosCluster: single-decree Paxos nodes on an in-memory network the test controls: messages can be
// delivered in any order, dropped, duplicated or held by a partition, and nodes crash and restart from
// exactly what they persisted. It checks safety after every step: every value any node learned is the
// same, and so is every value a majority of acceptors accepted at one ballot (chosen, whether or not
// anyone learned it yet).
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "base/random.h"
#include "paxos/single_decree.h"

namespace synod::paxos::test {

class PaxosCluster {
 public:
  explicit PaxosCluster(int nodes, uint64_t seed = 1, SingleDecreeConfig base = {})
      : random_(seed), base_(std::move(base)) {
    for (int i = 1; i <= nodes; ++i) ids_.push_back(static_cast<NodeId>(i));
    for (NodeId id : ids_) start(id);
  }

  SingleDecree& node(NodeId id) { return *nodes_.at(id); }
  const std::vector<NodeId>& ids() const { return ids_; }
  const std::vector<Message>& network() const { return network_; }
  std::vector<std::string>& timeline() { return timeline_; }

  void propose(NodeId id, const std::string& value) {
    if (crashed_.count(id) > 0) return;
    ASSERT_TRUE(node(id).propose(value).is_ok());
    handle_ready(id);
  }
  void tick(NodeId id) {
    if (crashed_.count(id) > 0) return;
    node(id).tick();
    handle_ready(id);
  }
  void tick_all() {
    for (NodeId id : ids_) tick(id);
  }

  // Delivers the message at `position` in the network (any order the test likes).
  void deliver(size_t position) {
    Message message = network_[position];
    network_.erase(network_.begin() + static_cast<std::ptrdiff_t>(position));
    if (crashed_.count(message.to) > 0 || cut(message.from, message.to)) return;
    Status stepped = node(message.to).step(message);
    ASSERT_TRUE(stepped.is_ok()) << message.describe() << ": " << stepped.message();
    if (log_) timeline_.push_back("deliver " + message.describe());
    handle_ready(message.to);
  }
  void deliver_all(size_t limit = 100000) {
    for (size_t i = 0; i < limit && !network_.empty(); ++i) deliver(0);
  }
  void drop(size_t position) { network_.erase(network_.begin() + static_cast<std::ptrdiff_t>(position)); }
  void duplicate(size_t position) { network_.push_back(network_[position]); }

  // Messages between the two sides of a partition are lost (at delivery).
  void partition(std::set<NodeId> side) { side_ = std::move(side); }
  void heal() { side_.clear(); }

  void crash(NodeId id) {
    crashed_.insert(id);
    if (log_) timeline_.push_back("crash " + std::to_string(id));
  }
  // Restarts from what the node persisted, with a new seed (a restarted node's backoff differs).
  void restart(NodeId id) {
    crashed_.erase(id);
    start(id);
    if (log_) timeline_.push_back("restart " + std::to_string(id));
  }
  bool crashed(NodeId id) const { return crashed_.count(id) > 0; }

  // The single decision: every node that learned one learned the same (checked as they learn).
  std::optional<std::string> learned() const { return learned_; }
  std::optional<std::string> chosen() const { return chosen_; }
  bool everyone_learned() const {
    for (NodeId id : ids_) {
      if (!nodes_.at(id)->query()) return false;
    }
    return true;
  }
  // Set when two different values were learned or chosen: the safety violation.
  const std::optional<std::string>& violation() const { return violation_; }
  void log_timeline(bool on) { log_ = on; }
  Random& random() { return random_; }

 private:
  bool cut(NodeId a, NodeId b) const {
    return !side_.empty() && (side_.count(a) > 0) != (side_.count(b) > 0);
  }

  void start(NodeId id) {
    SingleDecreeConfig config = base_;
    config.id = id;
    config.nodes = ids_;
    config.seed = random_.next();
    Result<std::unique_ptr<SingleDecree>> made = SingleDecree::create(config, durable_[id]);
    ASSERT_TRUE(made.is_ok()) << made.status().message();
    nodes_[id] = std::move(made).value();
  }

  void handle_ready(NodeId id) {
    while (node(id).has_ready()) {
      SingleDecreeReady ready = node(id).ready();
      if (ready.durable) {
        durable_[id] = *ready.durable;
        record_acceptance(id, ready.durable->acceptor);
      }
      if (ready.learned) {
        if (log_) timeline_.push_back("node " + std::to_string(id) + " learns \"" + *ready.learned + "\"");
        check_one(learned_, *ready.learned, "learned");
      }
      for (Message& message : ready.messages) network_.push_back(std::move(message));
    }
  }

  // A ballot accepted by a majority chose its value: however the run goes on, no other may be chosen.
  void record_acceptance(NodeId id, const AcceptorState& state) {
    if (state.accepted.is_null()) return;
    auto& by = accepted_[state.accepted];
    by.first.insert(id);
    if (by.second && *by.second != *state.value) {
      violation_ = "two values accepted at ballot " + state.accepted.to_string();
    }
    by.second = state.value;
    if (by.first.size() > ids_.size() / 2) check_one(chosen_, *state.value, "chosen");
  }

  void check_one(std::optional<std::string>& slot, const std::string& value, const char* what) {
    if (slot && *slot != value) {
      violation_ = std::string(what) + " both \"" + *slot + "\" and \"" + value + "\"";
    }
    if (!slot) slot = value;
  }

  Random random_;
  SingleDecreeConfig base_;
  std::vector<NodeId> ids_;
  std::map<NodeId, std::unique_ptr<SingleDecree>> nodes_;
  std::map<NodeId, SingleDecreeDurable> durable_;
  std::vector<Message> network_;
  std::set<NodeId> side_;
  std::set<NodeId> crashed_;
  std::map<Ballot, std::pair<std::set<NodeId>, std::optional<std::string>>> accepted_;
  std::optional<std::string> learned_;
  std::optional<std::string> chosen_;
  std::optional<std::string> violation_;
  bool log_ = false;
  std::vector<std::string> timeline_;
};

}  // namespace synod::paxos::test
