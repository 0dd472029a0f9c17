#include "sim/paxos_cluster.h"

#include "base/assert.h"

namespace synod::sim {

using paxos::AcceptorState;
using paxos::Message;
using paxos::SingleDecree;
using paxos::SingleDecreeConfig;
using paxos::SingleDecreeReady;

PaxosCluster::PaxosCluster(int nodes, uint64_t seed, SingleDecreeConfig base, std::ostream* timeline)
    : random_(seed), base_(std::move(base)), timeline_(timeline) {
  SYNOD_ASSERT(nodes > 0);
  for (int i = 1; i <= nodes; ++i) ids_.push_back(static_cast<NodeId>(i));
  for (NodeId id : ids_) start(id);
}

PaxosCluster::PaxosCluster(const PaxosCluster& other)
    : random_(other.random_),
      base_(other.base_),
      timeline_(nullptr),
      now_(other.now_),
      ids_(other.ids_),
      durable_(other.durable_),
      network_(other.network_),
      side_(other.side_),
      crashed_(other.crashed_),
      accepted_(other.accepted_),
      learned_(other.learned_),
      chosen_(other.chosen_),
      violation_(other.violation_),
      crash_before_send_percent_(other.crash_before_send_percent_) {
  for (const auto& [id, node] : other.nodes_) nodes_.emplace(id, node->clone());
}

std::unique_ptr<PaxosCluster> PaxosCluster::clone() const {
  return std::unique_ptr<PaxosCluster>(new PaxosCluster(*this));
}

void PaxosCluster::encode_state(StateEncoder& out) const {
  out.sorted_by_node(ids_, [&](NodeId id) {
    bool up = !crashed(id);
    out.flag(up);
    if (up) nodes_.at(id)->encode_state(out);
    auto durable = durable_.find(id);
    out.flag(durable != durable_.end());
    if (durable != durable_.end()) durable->second.encode(out);
  });
  out.multiset(network_, [](const Message& message, StateEncoder& one) { message.encode(one); });
  out.u64(side_.size());
  for (NodeId id : side_) out.node(id);
  out.u64(accepted_.size());
  for (const auto& [ballot, by] : accepted_) {
    paxos::encode_ballot(out, ballot);
    out.voters(std::vector<NodeId>(by.begin(), by.end()));
  }
  out.optional_bytes(learned_);
  out.optional_bytes(chosen_);
  out.optional_bytes(violation_);
}

void PaxosCluster::note(const std::string& line) {
  if (timeline_ != nullptr) *timeline_ << "t=" << now_ << "  " << line << "\n";
}

bool PaxosCluster::cut(NodeId a, NodeId b) const {
  return !side_.empty() && (side_.count(a) > 0) != (side_.count(b) > 0);
}

void PaxosCluster::start(NodeId id) {
  SingleDecreeConfig config = base_;
  config.id = id;
  config.nodes = ids_;
  config.seed = random_.next();
  Result<std::unique_ptr<SingleDecree>> made = SingleDecree::create(config, durable_[id]);
  SYNOD_ASSERT_MSG(made.is_ok(), made.status().message().c_str());
  nodes_[id] = std::move(made).value();
}

void PaxosCluster::propose(NodeId id, const std::string& value) {
  if (crashed(id)) return;
  note("node " + std::to_string(id) + " proposes \"" + value + "\"");
  Status proposed = node(id).propose(value);
  if (!proposed.is_ok())
    violation_ = "node " + std::to_string(id) + " refused a proposal: " + proposed.message();
  handle_ready(id);
}

void PaxosCluster::tick(NodeId id) {
  if (crashed(id)) return;
  node(id).tick();
  handle_ready(id);
}

void PaxosCluster::tick_all() {
  ++now_;
  for (NodeId id : ids_) tick(id);
}

void PaxosCluster::deliver(size_t position) {
  SYNOD_ASSERT(position < network_.size());
  Message message = std::move(network_[position]);
  network_.erase(network_.begin() + static_cast<std::ptrdiff_t>(position));
  if (crashed(message.to) || cut(message.from, message.to)) {
    note("lost    " + message.describe());
    return;
  }
  note("deliver " + message.describe());
  Status stepped = node(message.to).step(message);
  // Every node here is honest, so a refusal means one of them sent something it must not have.
  if (!stepped.is_ok()) violation_ = message.describe() + " refused: " + stepped.message();
  handle_ready(message.to);
}

void PaxosCluster::deliver_all(size_t limit) {
  for (size_t i = 0; i < limit && !network_.empty(); ++i) deliver(0);
}

void PaxosCluster::drop(size_t position) {
  SYNOD_ASSERT(position < network_.size());
  note("drop    " + network_[position].describe());
  network_.erase(network_.begin() + static_cast<std::ptrdiff_t>(position));
}

void PaxosCluster::duplicate(size_t position) {
  SYNOD_ASSERT(position < network_.size());
  note("copy    " + network_[position].describe());
  network_.push_back(network_[position]);
}

void PaxosCluster::partition(std::set<NodeId> side) {
  side_ = std::move(side);
  std::string names;
  for (NodeId id : side_) names += (names.empty() ? "" : ",") + std::to_string(id);
  note("partition {" + names + "} from the rest");
}

void PaxosCluster::heal() {
  if (!side_.empty()) note("heal the partition");
  side_.clear();
}

void PaxosCluster::crash(NodeId id) {
  crashed_.insert(id);
  note("node " + std::to_string(id) + " crashes");
}

void PaxosCluster::restart(NodeId id) {
  crashed_.erase(id);
  start(id);
  note("node " + std::to_string(id) + " restarts from its durable state");
}

bool PaxosCluster::everyone_learned() const {
  for (NodeId id : ids_) {
    if (!nodes_.at(id)->query()) return false;
  }
  return true;
}

void PaxosCluster::handle_ready(NodeId id) {
  while (!crashed(id) && node(id).has_ready()) {
    SingleDecreeReady ready = node(id).ready();
    if (ready.durable) {
      durable_[id] = *ready.durable;
      record_acceptance(id, ready.durable->acceptor);
    }
    if (ready.learned) {
      note("node " + std::to_string(id) + " learns \"" + *ready.learned + "\"");
      check_one(learned_, *ready.learned, "learned");
    }
    if (!ready.messages.empty() && random_.chance(static_cast<uint64_t>(crash_before_send_percent_), 100)) {
      crash(id);  // persisted, nothing sent
      return;
    }
    for (Message& message : ready.messages) network_.push_back(std::move(message));
  }
}

// A ballot accepted by a majority chose its value: whatever happens next, no other value may be chosen.
void PaxosCluster::record_acceptance(NodeId id, const AcceptorState& state) {
  if (state.accepted.is_null()) return;
  std::set<NodeId>& by = accepted_[state.accepted];
  if (by.insert(id).second && by.size() == ids_.size() / 2 + 1) {
    note("\"" + *state.value + "\" is chosen: a majority accepted it at ballot " +
         state.accepted.to_string());
  }
  if (by.size() > ids_.size() / 2) check_one(chosen_, *state.value, "chosen");
}

void PaxosCluster::check_one(std::optional<std::string>& slot, const std::string& value, const char* what) {
  if (slot && *slot != value)
    violation_ = std::string(what) + " both \"" + *slot + "\" and \"" + value + "\"";
  if (!slot) slot = value;
  // What anyone learned must be what a majority chose.
  if (learned_ && chosen_ && *learned_ != *chosen_) {
    violation_ = "learned \"" + *learned_ + "\" but a majority chose \"" + *chosen_ + "\"";
  }
}

PaxosRunReport run_paxos(int nodes, int proposers, PaxosFaults faults, uint64_t seed, std::ostream* timeline,
                         uint64_t fault_ticks, uint64_t max_ticks) {
  PaxosCluster c(nodes, seed, {}, timeline);
  Random& r = c.random();
  static const char* const kColours[] = {"blue", "red", "green", "cyan", "magenta", "yellow", "white"};
  std::map<NodeId, std::string> wants;
  for (int i = 0; i < proposers && i < nodes; ++i) {
    NodeId id = static_cast<NodeId>(i + 1);
    wants[id] = kColours[static_cast<size_t>(i) % 7];
    c.propose(id, wants[id]);
  }
  std::map<NodeId, uint64_t> restart_at;
  PaxosRunReport report;
  while (c.now() < max_ticks && !c.violation() && !c.everyone_learned()) {
    bool faulty = c.now() < fault_ticks;
    // Everything in flight now arrives (or not) in a random order before the next tick.
    size_t in_flight = c.network().size();
    for (size_t i = 0; i < in_flight && !c.network().empty(); ++i) {
      size_t at = r.uniform(c.network().size());
      ++report.messages;
      if (faulty && r.chance(static_cast<uint64_t>(faults.drop_percent), 100)) {
        c.drop(at);
      } else if (faulty && r.chance(static_cast<uint64_t>(faults.duplicate_percent), 100)) {
        c.duplicate(at);
        c.deliver(at);
      } else {
        c.deliver(at);
      }
    }
    for (NodeId id : c.ids()) {
      if (c.crashed(id) && restart_at[id] <= c.now()) {
        c.restart(id);
        // Its client tries again: what a proposer wanted is not durable, only what it did.
        if (wants.count(id) > 0 && !c.node(id).query()) c.propose(id, wants[id]);
      }
      if (faulty && !c.crashed(id) && r.chance(static_cast<uint64_t>(faults.crash_percent), 100)) {
        c.crash(id);
        restart_at[id] = c.now() + r.between(2, 6);
      }
    }
    c.tick_all();
  }
  report.decided = c.learned();
  report.everyone_learned = c.everyone_learned();
  report.violation = c.violation();
  report.ticks = c.now();
  return report;
}

}  // namespace synod::sim
