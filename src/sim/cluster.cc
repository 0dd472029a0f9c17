#include "sim/cluster.h"

#include <sstream>

#include "base/assert.h"

namespace synod::sim {
namespace {
constexpr size_t kMaxMessagesPerRound = 100000;
}  // namespace

Cluster::Cluster(std::vector<NodeId> ids, EngineFactory factory, uint64_t seed)
    : ids_(std::move(ids)), factory_(std::move(factory)), random_(seed) {
  for (NodeId id : ids_) {
    auto node = std::make_unique<SimNode>();
    node->id = id;
    start(*node);
    nodes_.emplace(id, std::move(node));
  }
}

Cluster::~Cluster() = default;

Cluster::Cluster(const Cluster& other, CloneTag)
    : ids_(other.ids_),
      factory_(other.factory_),
      random_(other.random_),
      in_flight_(other.in_flight_),
      cut_links_(other.cut_links_),
      events_(other.events_) {
  for (const auto& [id, node] : other.nodes_) nodes_.emplace(id, node->clone());
}

std::unique_ptr<Cluster> Cluster::clone() const {
  return std::unique_ptr<Cluster>(new Cluster(*this, CloneTag{}));
}

void Cluster::set_observer(ClusterObserver* observer) {
  observer_ = observer;
  if (observer_ != nullptr) observer_->on_attach(*this);
}

void Cluster::start(SimNode& node) {
  node.start(factory_, ids_, random_.next());
}

SimNode& Cluster::node(NodeId id) {
  auto it = nodes_.find(id);
  SYNOD_ASSERT_MSG(it != nodes_.end(), "no such node");
  return *it->second;
}

const SimNode& Cluster::node(NodeId id) const {
  auto it = nodes_.find(id);
  SYNOD_ASSERT_MSG(it != nodes_.end(), "no such node");
  return *it->second;
}

bool Cluster::is_up(NodeId id) const {
  return node(id).engine != nullptr;
}
uint64_t Cluster::incarnation(NodeId id) const {
  return node(id).incarnation;
}

Engine& Cluster::engine(NodeId id) {
  SimNode& n = node(id);
  SYNOD_ASSERT_MSG(n.engine != nullptr, "node is down");
  return *n.engine;
}

const Engine& Cluster::engine(NodeId id) const {
  const SimNode& n = node(id);
  SYNOD_ASSERT_MSG(n.engine != nullptr, "node is down");
  return *n.engine;
}

const KvStateMachine& Cluster::state_machine(NodeId id) const {
  return node(id).state_machine;
}
const DurableStore& Cluster::store(NodeId id) const {
  return node(id).store;
}
std::vector<ReadState>& Cluster::read_states(NodeId id) {
  return node(id).read_states;
}

void Cluster::handle_ready(SimNode& n) {
  n.handle_ready(
      [this](Message&& message) {
        if (link_up(message.from, message.to)) in_flight_.push_back(std::move(message));
      },
      observer_);
}

void Cluster::notify(NodeId subject, const std::string& what) {
  ++events_;
  if (observer_ != nullptr) observer_->on_event(*this, subject, what);
}

void Cluster::tick(NodeId id) {
  SimNode& n = node(id);
  if (!n.engine) return;
  n.engine->tick();
  handle_ready(n);
  notify(id, "tick " + std::to_string(id));
}

void Cluster::tick_all() {
  for (NodeId id : ids_) tick(id);
}

Result<Proposal> Cluster::propose(NodeId id, std::string data) {
  SimNode& n = node(id);
  if (!n.engine) return Status(ErrorCode::kUnavailable, "node is down");
  Result<Proposal> result = n.engine->propose(std::move(data));
  handle_ready(n);
  notify(id, "propose at " + std::to_string(id));
  return result;
}

Status Cluster::read_index(NodeId id, std::string context) {
  SimNode& n = node(id);
  if (!n.engine) return Status(ErrorCode::kUnavailable, "node is down");
  Status status = n.engine->read_index(std::move(context));
  handle_ready(n);
  notify(id, "read_index at " + std::to_string(id));
  return status;
}

Status Cluster::transfer_leader(NodeId leader, NodeId to) {
  SimNode& n = node(leader);
  if (!n.engine) return Status(ErrorCode::kUnavailable, "node is down");
  Status status = n.engine->transfer_leader(to);
  handle_ready(n);
  notify(leader, "transfer_leader " + std::to_string(leader) + "->" + std::to_string(to));
  return status;
}

Status Cluster::compact(NodeId id) {
  SimNode& n = node(id);
  if (!n.engine) return Status(ErrorCode::kUnavailable, "node is down");
  Index index = n.state_machine.applied_index();
  std::optional<Term> term = n.engine->term_at(index);
  if (!term) return Status(ErrorCode::kCompacted, "nothing new to compact");
  Status status = n.engine->compact(index, n.state_machine.snapshot());
  if (status.is_ok()) {
    // The application makes its snapshot durable before the log prefix may go.
    SnapshotPtr snapshot = n.engine->snapshot();
    SYNOD_ASSERT(snapshot != nullptr && snapshot->meta.index == index && snapshot->meta.term == *term);
    SYNOD_ASSERT(n.store.save_snapshot(std::move(snapshot)).is_ok());
  }
  handle_ready(n);
  notify(id, "compact " + std::to_string(id) + " at " + std::to_string(index));
  return status;
}

Status Cluster::deliver(size_t position) {
  SYNOD_ASSERT(position < in_flight_.size());
  Message message = std::move(in_flight_[position]);
  in_flight_.erase(in_flight_.begin() + static_cast<std::ptrdiff_t>(position));
  // Descriptions only for an observer: building them is most of the cost of a delivery otherwise.
  std::string what = observer_ != nullptr ? "deliver " + message.describe() : std::string();
  Status status;
  SimNode& target = node(message.to);
  if (!link_up(message.from, message.to)) {
    status = Status(ErrorCode::kUnavailable, "link cut");
  } else if (!target.engine) {
    status = Status(ErrorCode::kUnavailable, "receiver down");
  } else {
    status = target.engine->step(message);
    handle_ready(target);
  }
  notify(message.to, what);
  return status;
}

void Cluster::drop(size_t position) {
  SYNOD_ASSERT(position < in_flight_.size());
  std::string what = observer_ != nullptr ? "drop " + in_flight_[position].describe() : std::string();
  in_flight_.erase(in_flight_.begin() + static_cast<std::ptrdiff_t>(position));
  notify(kNoNode, what);
}

void Cluster::duplicate(size_t position) {
  SYNOD_ASSERT(position < in_flight_.size());
  Message copy = in_flight_[position];
  std::string what = observer_ != nullptr ? "duplicate " + copy.describe() : std::string();
  in_flight_.push_back(std::move(copy));
  notify(kNoNode, what);
}

size_t Cluster::deliver_all(size_t max_messages) {
  size_t delivered = 0;
  while (!in_flight_.empty() && delivered < max_messages) {
    (void)deliver(0);
    ++delivered;
  }
  return delivered;
}

void Cluster::partition(const std::vector<std::vector<NodeId>>& groups) {
  heal();
  std::map<NodeId, size_t> group_of;
  for (size_t g = 0; g < groups.size(); ++g) {
    for (NodeId id : groups[g]) group_of[id] = g;
  }
  for (NodeId a : ids_) {
    for (NodeId b : ids_) {
      if (a != b && group_of.count(a) > 0 && group_of.count(b) > 0 && group_of[a] != group_of[b]) {
        cut_links_.insert({a, b});
      }
    }
  }
  notify(kNoNode, "partition");
}

void Cluster::cut(NodeId from, NodeId to) {
  cut_links_.insert({from, to});
  notify(kNoNode, "cut " + std::to_string(from) + "->" + std::to_string(to));
}

void Cluster::isolate(NodeId id) {
  for (NodeId other : ids_) {
    if (other == id) continue;
    cut_links_.insert({id, other});
    cut_links_.insert({other, id});
  }
  notify(kNoNode, "isolate " + std::to_string(id));
}

void Cluster::heal() {
  cut_links_.clear();
  notify(kNoNode, "heal");
}

bool Cluster::link_up(NodeId from, NodeId to) const {
  return cut_links_.count({from, to}) == 0;
}

void Cluster::crash(NodeId id) {
  SimNode& n = node(id);
  n.engine.reset();
  n.read_states.clear();
  notify(id, "crash " + std::to_string(id));
}

void Cluster::restart(NodeId id) {
  SimNode& n = node(id);
  SYNOD_ASSERT_MSG(n.engine == nullptr, "restart a crashed node only");
  start(n);
  handle_ready(n);
  notify(id, "restart " + std::to_string(id));
}

std::optional<NodeId> Cluster::leader() const {
  return current_leader(*this);
}

bool Cluster::run_until(const std::function<bool()>& done, int max_rounds) {
  for (int round = 0; round < max_rounds; ++round) {
    if (done()) return true;
    tick_all();
    // Bounded, so a core that never quiesces fails the caller's check instead of hanging it.
    deliver_all(kMaxMessagesPerRound);
  }
  return done();
}

std::optional<NodeId> Cluster::campaign(NodeId id, int max_ticks) {
  SimNode& n = node(id);
  SYNOD_ASSERT(n.engine != nullptr);
  for (int i = 0; i < max_ticks && n.engine->status().role == Role::kFollower; ++i) tick(id);
  deliver_all();
  return leader();
}

std::string Cluster::describe_log(NodeId id) const {
  const SimNode& n = node(id);
  std::ostringstream out;
  if (!n.engine) return "(down)";
  EngineStatus status = n.engine->status();
  out << '[';
  if (status.snapshot_index > 0) out << "snap@" << status.snapshot_index << ' ';
  for (Index index = status.first_index; index <= status.last_index; ++index) {
    std::optional<Entry> entry = n.engine->entry_at(index);
    if (!entry) continue;
    out << index << ':' << entry->term;
    if (entry->type == EntryType::kNoop) {
      out << "(noop)";
    } else if (!entry->data.empty() && entry->data.size() <= 24) {
      out << '(' << entry->data << ')';
    }
    if (index < status.last_index) out << ' ';
  }
  out << ']';
  return out.str();
}

std::string Cluster::describe() const {
  std::ostringstream out;
  for (NodeId id : ids_) {
    const SimNode& n = node(id);
    out << "  node " << id << ": ";
    if (!n.engine) {
      out << "down\n";
      continue;
    }
    EngineStatus status = n.engine->status();
    out << role_name(status.role) << " term=" << status.term << " leader=" << status.leader
        << " commit=" << status.commit << " applied=" << status.applied
        << " dropped=" << status.counters.messages_dropped_invalid << '/'
        << status.counters.messages_dropped_stale << " log=" << describe_log(id) << '\n';
  }
  return out.str();
}

}  // namespace synod::sim
