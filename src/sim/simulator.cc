#include "sim/simulator.h"

#include <algorithm>
#include <sstream>

#include "base/assert.h"
#include "base/hash.h"

namespace synod::sim {
namespace {

constexpr size_t kTraceTail = 60;
constexpr int kMaxSkewPermille = 200;
constexpr uint64_t kTailLatencyFactor = 10;

}  // namespace

Result<FaultMix> FaultMix::parse(const std::string& text) {
  FaultMix mix;
  std::istringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (item == "partition" || item == "partitions") {
      mix.partitions = true;
    } else if (item == "crash" || item == "crashes") {
      mix.crashes = true;
    } else if (item == "pause" || item == "pauses") {
      mix.pauses = true;
    } else if (item == "skew") {
      mix.clock_skew = true;
    } else if (item == "drop") {
      mix.drops = true;
    } else if (item == "dup") {
      mix.duplicates = true;
    } else if (item == "disk") {
      mix.disk = true;
    } else if (item == "none" || item.empty()) {
      continue;
    } else {
      return Status(
          ErrorCode::kInvalidArgument,
          "unknown fault '" + item + "' (choose from partition, crash, pause, skew, drop, dup, disk, none)");
    }
  }
  return mix;
}

std::string FaultMix::to_string() const {
  std::string out;
  auto add = [&](bool on, const char* name) {
    if (!on) return;
    if (!out.empty()) out += ',';
    out += name;
  };
  add(partitions, "partition");
  add(crashes, "crash");
  add(pauses, "pause");
  add(clock_skew, "skew");
  add(drops, "drop");
  add(duplicates, "dup");
  add(disk, "disk");
  return out.empty() ? "none" : out;
}

Simulator::Simulator(SimulatorOptions options, EngineFactory factory)
    : options_(options), factory_(std::move(factory)), random_(options.seed) {
  SYNOD_ASSERT(options_.nodes > 0 && options_.tick_us > 0);
  SYNOD_ASSERT(options_.latency_min_us <= options_.latency_max_us);
  for (NodeId id = 1; id <= options_.nodes; ++id) ids_.push_back(id);
  for (NodeId id : ids_) {
    auto server = std::make_unique<SimServer>();
    server->id = id;
    nodes_.emplace(id, std::move(server));
    SYNOD_ASSERT(start_server(node(id)));
    if (options_.faults.disk) {
      node(id).disk->set_random_failures(Random(random_.next()), options_.disk_error_per_million,
                                         options_.disk_error_per_million);
    }
    skew_permille_[id] = 0;
  }
  for (uint64_t id = 1; id <= options_.clients; ++id) {
    Client client;
    client.id = id;
    clients_.push_back(std::move(client));
  }
}

node::NodeOptions Simulator::node_options() const {
  node::NodeOptions options;
  options.snapshot_entries = options_.snapshot_entries;
  options.request_timeout_ticks = options_.request_timeout_ticks;
#if SYNOD_BUG_INJECTION
  options.bugs = options_.bugs;
#endif
  return options;
}

bool Simulator::start_server(SimServer& server) {
  std::vector<std::string> notes;
  storage::DiskStorageOptions disk;
  disk.dir = "/synod";
  disk.cluster_id = 1;
  disk.segment_bytes = options_.segment_bytes;
  disk.keep_entries_after_snapshot = options_.keep_entries_after_snapshot;
#if SYNOD_BUG_INJECTION
  disk.bug_skip_sync = options_.bug_skip_sync;
#endif
  Status started = server.start(
      factory_, ids_, random_.next(), node_options(), [this](Message&& m) { send(std::move(m)); }, disk,
      notes);
  for (const std::string& note : notes)
    record("t=" + std::to_string(now_us_) + " node " + std::to_string(server.id) + " recovery: " + note);
  if (!started.is_ok()) {
    if (started.code() == ErrorCode::kCorruption || started.code() == ErrorCode::kInvalidArgument) {
      // Crashes and disk errors alone must never leave a disk that cannot be recovered.
      storage_failure_ =
          "node " + std::to_string(server.id) + " cannot recover its disk: " + started.to_string();
    }
    record("t=" + std::to_string(now_us_) + " node " + std::to_string(server.id) +
           " failed to start: " + started.to_string());
    return false;
  }
  NodeId id = server.id;
  server.node->set_apply_hook([this, id](const Entry& entry) {
    if (observer_ != nullptr) observer_->on_applied(id, entry.index, node(id).map->chain_hash());
  });
  return true;
}

void Simulator::process_ready(SimServer& server) {
  if (!server.up()) return;
  Status status = server.node->process_ready();
  if (status.is_ok()) return;
  // The disk failed or the power was cut: the node stops, as a real one must (an fsync is never
  // retried), and comes back later from whatever its disk kept.
  crash_server(server, "storage failed: " + status.to_string());
}

void Simulator::crash_server(SimServer& server, const std::string& why) {
  server.crash(random_);
  paused_.erase(server.id);
  check_event(server.id, "crash " + std::to_string(server.id) + " (" + why + ")");
  schedule(now_us_ + random_.between(100'000, 3'000'000), EventKind::kRestart, server.id);
}

Simulator::~Simulator() = default;

void Simulator::set_observer(ClusterObserver* observer) {
  observer_ = observer;
  if (observer_ != nullptr) observer_->on_attach(*this);
}

SimServer& Simulator::node(NodeId id) {
  return *nodes_.at(id);
}
const SimServer& Simulator::node(NodeId id) const {
  return *nodes_.at(id);
}
bool Simulator::is_up(NodeId id) const {
  return node(id).up();
}

uint64_t Simulator::incarnation(NodeId id) const {
  return node(id).incarnation;
}

const Engine& Simulator::engine(NodeId id) const {
  SYNOD_ASSERT_MSG(node(id).up(), "node is down");
  return node(id).node->engine();
}

uint64_t Simulator::tick_interval_us(NodeId id) const {
  int skew = skew_permille_.at(id);
  return std::max<uint64_t>(1, options_.tick_us * static_cast<uint64_t>(1000 + skew) / 1000);
}

void Simulator::schedule(uint64_t at_us, EventKind kind, NodeId id, std::shared_ptr<Message> message) {
  Event event;
  event.time_us = at_us;
  event.sequence = sequence_++;
  event.kind = kind;
  event.node = id;
  event.incarnation = id != kNoNode ? node(id).incarnation : 0;
  event.message = std::move(message);
  queue_.push(std::move(event));
}

void Simulator::record(const std::string& line) {
  result_.trace_hash = hash_bytes(line, result_.trace_hash);
  trace_.push_back(line);
  if (!options_.keep_trace && trace_.size() > kTraceTail) trace_.pop_front();
}

void Simulator::check_event(NodeId subject, const std::string& what) {
  ++result_.events;
  record("t=" + std::to_string(now_us_) + " " + what);
  if (subject != kNoNode && node(subject).up()) {
    EngineStatus status = node(subject).node->status();
    if (status.role == Role::kLeader) leaders_.insert({status.term, subject});
    result_.committed = std::max<uint64_t>(result_.committed, status.commit);
  }
  std::string failure = storage_failure_;
  if (observer_ != nullptr) {
    observer_->on_event(*this, subject, what);
    if (failure.empty()) failure = observer_->failure();
  }
  if (!failure.empty() && result_.safe) {
    result_.safe = false;
    result_.violation_event = result_.events;
    result_.violation = "SAFETY at event " + std::to_string(result_.events) +
                        " (t=" + std::to_string(now_us_) + "us): " + failure;
  }
}

uint64_t Simulator::latency() {
  uint64_t latency_us = random_.between(options_.latency_min_us, options_.latency_max_us);
  if (random_.chance(1, 100)) latency_us *= random_.between(1, kTailLatencyFactor);
  return latency_us;
}

void Simulator::send(Message&& message) {
  ++result_.messages;
  if (!link_up(message.from, message.to)) return;  // lost in the partition
  if (faults_on_ && options_.faults.drops && random_.chance(options_.drop_per_million, 1'000'000)) return;
  NodeId to = message.to;
  auto shared = std::make_shared<Message>(std::move(message));
  if (faults_on_ && options_.faults.duplicates && random_.chance(options_.duplicate_per_million, 1'000'000)) {
    schedule(now_us_ + latency(), EventKind::kDeliver, to, shared);
  }
  schedule(now_us_ + latency(), EventKind::kDeliver, to, std::move(shared));
}

void Simulator::inject_fault() {
  std::vector<int> kinds;
  if (options_.faults.partitions) kinds.push_back(0);
  if (options_.faults.crashes) kinds.push_back(1);
  if (options_.faults.pauses) kinds.push_back(2);
  if (options_.faults.clock_skew) kinds.push_back(3);
  if (options_.faults.disk) kinds.push_back(4);
  if (kinds.empty()) return;
  int kind = kinds[random_.uniform(kinds.size())];
  NodeId victim = ids_[random_.uniform(ids_.size())];
  switch (kind) {
    case 0: {
      if (!cut_links_.empty() && random_.chance(1, 2)) {
        cut_links_.clear();
        check_event(kNoNode, "fault: heal the network");
        break;
      }
      cut_links_.clear();
      uint64_t shape = random_.uniform(3);
      if (shape == 0) {
        // A random split into two sides.
        std::vector<bool> side(ids_.size() + 1);
        for (NodeId id : ids_) side[id] = random_.chance(1, 2);
        for (NodeId a : ids_) {
          for (NodeId b : ids_) {
            if (a != b && side[a] != side[b]) cut_links_.insert({a, b});
          }
        }
        check_event(kNoNode, "fault: partition into two sides");
      } else if (shape == 1) {
        // A one-way cut: `victim` can no longer reach another node, which still reaches it.
        NodeId other = ids_[random_.uniform(ids_.size())];
        if (other != victim) cut_links_.insert({victim, other});
        check_event(kNoNode, "fault: one-way cut " + std::to_string(victim) + "->" + std::to_string(other));
      } else {
        // A bridge: `victim` reaches everyone; the others are split around it.
        std::vector<bool> side(ids_.size() + 1);
        for (NodeId id : ids_) side[id] = random_.chance(1, 2);
        for (NodeId a : ids_) {
          for (NodeId b : ids_) {
            if (a != b && a != victim && b != victim && side[a] != side[b]) cut_links_.insert({a, b});
          }
        }
        check_event(kNoNode, "fault: bridge partition around " + std::to_string(victim));
      }
      break;
    }
    case 1:
      if (!node(victim).up()) break;
      crash_server(node(victim), "fault");
      break;
    case 2:
      if (!node(victim).up() || paused_.count(victim) > 0) break;
      paused_.insert(victim);
      check_event(kNoNode, "fault: pause " + std::to_string(victim));
      schedule(now_us_ + random_.between(50'000, 2'000'000), EventKind::kResume, victim);
      break;
    case 3:
      skew_permille_[victim] = static_cast<int>(random_.uniform(2 * kMaxSkewPermille + 1)) - kMaxSkewPermille;
      check_event(kNoNode, "fault: clock of " + std::to_string(victim) + " skewed by " +
                               std::to_string(skew_permille_[victim]) + " permille");
      break;
    case 4:
      if (!node(victim).up()) break;
      // The power goes out during one of the next few writes, syncs or renames of this node's disk.
      node(victim).power->cut_at(1 + random_.uniform(20));
      check_event(kNoNode, "fault: power to the disk of " + std::to_string(victim) + " will fail soon");
      break;
    default: break;
  }
}

void Simulator::heal_everything() {
  faults_on_ = false;
  cut_links_.clear();
  paused_.clear();
  for (NodeId id : ids_) {
    SimServer& server = node(id);
    server.disk->set_random_failures(Random(0), 0, 0);
    if (server.up()) {
      server.power->never_cut();
      continue;
    }
    if (!start_server(server)) continue;
    process_ready(server);
    schedule(now_us_ + random_.uniform(options_.tick_us), EventKind::kTick, id);
  }
  check_event(kNoNode, "liveness phase: faults healed, every node up");
}

void Simulator::handle(const Event& event) {
  switch (event.kind) {
    case EventKind::kTick: {
      SimServer& n = node(event.node);
      if (!n.up() || n.incarnation != event.incarnation) return;  // this incarnation crashed
      schedule(now_us_ + tick_interval_us(event.node), EventKind::kTick, event.node);
      if (paused_.count(event.node) > 0) return;
      n.node->tick();
      process_ready(n);
      check_event(event.node, "tick " + std::to_string(event.node));
      return;
    }
    case EventKind::kDeliver: {
      const Message& message = *event.message;
      SimServer& n = node(message.to);
      if (paused_.count(message.to) > 0) {
        // A paused process does not read its socket: the message waits.
        schedule(now_us_ + options_.tick_us, EventKind::kDeliver, message.to, event.message);
        return;
      }
      if (!n.up() || !link_up(message.from, message.to)) {
        check_event(kNoNode, "lost " + message.describe());
        return;
      }
      (void)n.node->step(message);
      process_ready(n);
      check_event(message.to, "deliver " + message.describe());
      return;
    }
    case EventKind::kFault:
      if (!faults_on_) return;
      inject_fault();
      schedule(now_us_ + 1 + random_.uniform(2 * options_.mean_fault_interval_us), EventKind::kFault,
               kNoNode);
      return;
    case EventKind::kResume:
      // A pause ends with its own resume: not one left over from before a crash and restart.
      if (event.incarnation != node(event.node).incarnation) return;
      if (paused_.erase(event.node) > 0) check_event(kNoNode, "resume " + std::to_string(event.node));
      return;
    case EventKind::kRestart: {
      SimServer& n = node(event.node);
      if (n.up()) return;
      if (!start_server(n)) {
        if (storage_failure_.empty()) {
          schedule(now_us_ + random_.between(100'000, 1'000'000), EventKind::kRestart, event.node);
        }
        check_event(kNoNode, "restart of " + std::to_string(event.node) + " failed");
        return;
      }
      process_ready(n);
      schedule(now_us_ + random_.uniform(options_.tick_us), EventKind::kTick, event.node);
      check_event(event.node, "restart " + std::to_string(event.node));
      return;
    }
    case EventKind::kClientStart:
      if (faults_on_) start_operation(clients_.at(event.client - 1));
      return;
    case EventKind::kRequest: handle_request(event); return;
    case EventKind::kResponse: handle_response(event); return;
    case EventKind::kClientTimeout: handle_client_timeout(event); return;
  }
}

SimulatorResult Simulator::run() {
  for (NodeId id : ids_) schedule(random_.uniform(options_.tick_us), EventKind::kTick, id);
  schedule(random_.uniform(2 * options_.mean_fault_interval_us), EventKind::kFault, kNoNode);
  for (const Client& client : clients_) {
    schedule_client(random_.uniform(options_.think_us_max + 1), EventKind::kClientStart, client.id, 0,
                    kNoNode);
  }
  const uint64_t liveness_start_us = options_.fault_duration_us;
  const uint64_t end_us = liveness_start_us + options_.liveness_duration_us;
  bool live = false;
  while (!queue_.empty() && result_.safe) {
    Event event = queue_.top();
    queue_.pop();
    if (event.time_us > end_us) break;
    if (faults_on_ && (event.time_us >= liveness_start_us || workload_done())) {
      now_us_ = std::min(event.time_us, liveness_start_us);
      heal_everything();
    }
    now_us_ = event.time_us;
    handle(event);
    if (faults_on_ || !result_.safe) continue;
    // Liveness: a fresh entry must commit and reach every node. The node glue says when the leader
    // applied it; it is proposed again if a leader change loses it.
    std::optional<NodeId> leader = current_leader(*this);
    if (!leader) continue;
    if (!liveness_pending_ && liveness_index_ == 0) {
      liveness_pending_ = true;
      NodeId at = *leader;
      kv::MapCommand command{kv::MapOp::kPut, 0, 0, "final", std::to_string(options_.seed), ""};
      Result<Proposal> proposed =
          node(at).node->propose(command.encode(), [this, at](const Result<std::string>& done) {
            liveness_pending_ = false;
            if (done.is_ok()) liveness_index_ = node(at).map->applied_index();
          });
      if (!proposed.is_ok()) liveness_pending_ = false;
      process_ready(node(at));
      check_event(at, "liveness proposal at " + std::to_string(at));
      continue;
    }
    live = liveness_index_ != 0 && std::all_of(ids_.begin(), ids_.end(), [&](NodeId id) {
             return node(id).up() && node(id).map->applied_index() >= liveness_index_;
           });
    if (live) break;
  }
  result_.virtual_time_us = now_us_;
  result_.leaders = leaders_.size();
  for (NodeId id : ids_) {
    const FaultyFileSystemStats& disk = node(id).disk->stats();
    result_.syncs += disk.syncs + disk.sync_dirs;
  }
  close_history();
  if (result_.safe && !live) {
    result_.live = false;
    std::ostringstream out;
    out << "LIVENESS: the healed cluster did not commit a fresh entry on every node within "
        << options_.liveness_duration_us / 1000 << " ms of virtual time:\n";
    for (NodeId id : ids_) {
      if (!node(id).up()) {
        out << "  node " << id << ": down\n";
        continue;
      }
      EngineStatus s = node(id).node->status();
      out << "  node " << id << ": " << role_name(s.role) << " term=" << s.term << " leader=" << s.leader
          << " commit=" << s.commit << " applied=" << s.applied << " last=" << s.last_index << '\n';
    }
    result_.violation = out.str();
  }
  if (!result_.safe || !result_.live) {
    std::ostringstream out;
    out << result_.violation << "\nlast trace lines:\n";
    size_t skip = trace_.size() > 30 ? trace_.size() - 30 : 0;
    for (size_t i = skip; i < trace_.size(); ++i) out << "  " << trace_[i] << '\n';
    result_.violation = out.str();
  }
  return result_;
}

}  // namespace synod::sim
