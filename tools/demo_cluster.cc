#include "tools/demo_cluster.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <ostream>
#include <set>
#include <thread>
#include <vector>

#include "check/history.h"
#include "check/linearizability.h"
#include "server/local_cluster.h"

namespace synod::demo {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr int kClients = 4;
constexpr int kOpsPerClient = 60;

bool definitely_not_applied(const Status& status) {
  switch (status.code()) {
    case ErrorCode::kNotLeader:
    case ErrorCode::kNoLeader:
    case ErrorCode::kTransferInProgress:
    case ErrorCode::kAborted: return true;
    default: return false;  // timed out, or the member stopped with the request in flight
  }
}

class Workload {
 public:
  Workload(server::LocalCluster& cluster, Clock::time_point start) : cluster_(cluster), start_(start) {}

  void client(uint64_t id) {
    uint64_t sequence = 0;
    for (int i = 0; i < kOpsPerClient; ++i) {
      kv::MapCommand command;
      command.client = id;
      command.sequence = ++sequence;
      command.key = "k" + std::to_string((id + static_cast<uint64_t>(i)) % 3);
      std::string fresh = std::to_string(id) + "." + std::to_string(sequence);
      switch (i % 4) {
        case 0:
        case 2: command.op = kv::MapOp::kGet; break;
        case 1:
          command.op = kv::MapOp::kPut;
          command.value = fresh;
          break;
        default:
          command.op = kv::MapOp::kCas;
          command.expect = last_seen(command.key);
          command.value = fresh;
          break;
      }
      run(id, command);
    }
  }

  check::History history() {
    std::lock_guard<std::mutex> lock(mutex_);
    return history_;
  }
  size_t ok() const { return ok_; }

 private:
  int64_t now_us() const {
    return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start_).count();
  }

  std::string last_seen(const std::string& key) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = seen_.find(key);
    return it == seen_.end() ? "none" : it->second;
  }

  void run(uint64_t id, const kv::MapCommand& command) {
    check::Operation op;
    op.client = static_cast<int64_t>(id);
    op.kind = command.op == kv::MapOp::kGet   ? check::OpKind::kGet
              : command.op == kv::MapOp::kPut ? check::OpKind::kPut
                                              : check::OpKind::kCas;
    op.key = command.key;
    op.value = command.value;
    op.expect = command.expect;
    op.call = now_us();
    bool maybe_applied = false;
    auto deadline = Clock::now() + 5s;
    Result<kv::MapResult> result = Status(ErrorCode::kUnavailable, "not sent");
    while (Clock::now() < deadline) {
      std::optional<NodeId> leader = cluster_.leader();
      NodeId target = leader.value_or(cluster_.ids()[static_cast<size_t>(now_us()) % cluster_.ids().size()]);
      result = cluster_.request(target, command, 1s);
      if (result.is_ok() && result.value().outcome == kv::MapOutcome::kOk) break;
      if (command.op != kv::MapOp::kGet && !(result.is_ok() || definitely_not_applied(result.status()))) {
        maybe_applied = true;
      }
      std::this_thread::sleep_for(10ms);
    }
    bool ok = result.is_ok() && result.value().outcome == kv::MapOutcome::kOk;
    if (ok) {
      op.status = check::OpStatus::kOk;
      op.return_time = now_us();
      if (command.op == kv::MapOp::kGet) op.read = result.value().value;
      if (command.op == kv::MapOp::kCas) op.cas_succeeded = result.value().succeeded;
      ++ok_;
    } else if (maybe_applied) {
      op.status = check::OpStatus::kUnknown;
    } else {
      op.status = check::OpStatus::kFail;
      op.return_time = now_us();
    }
    std::lock_guard<std::mutex> lock(mutex_);
    if (ok && command.op == kv::MapOp::kGet && op.read) seen_[op.key] = *op.read;
    if (ok && command.op != kv::MapOp::kGet) seen_[op.key] = command.value;
    history_.push_back(std::move(op));
  }

  server::LocalCluster& cluster_;
  Clock::time_point start_;
  std::mutex mutex_;
  check::History history_;
  std::map<std::string, std::string> seen_;
  std::atomic<size_t> ok_{0};
};

}  // namespace

bool run_real_cluster(std::ostream& out, const std::string& tmp_root, bool keep) {
  std::string pattern = tmp_root + "/synod-demo-XXXXXX";
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (::mkdtemp(buffer.data()) == nullptr) {
    out << "cannot create a directory under " << tmp_root << '\n';
    return false;
  }
  std::string root = buffer.data();
  out << "Part 2: a real cluster. Three members in this process, each with its write-ahead log and\n"
         "snapshots in "
      << root << "/member<N>, talking only over TCP on 127.0.0.1.\n";

  server::LocalClusterOptions options;
  options.root = root;
  options.snapshot_entries = 50;
  bool passed = false;
  {
    server::LocalCluster cluster(options);
    Status started = cluster.start();
    if (!started.is_ok()) {
      out << "could not start the cluster: " << started.to_string() << '\n';
      return false;
    }
    NodeId first = cluster.wait_for_leader();
    out << "  member " << first << " was elected leader\n";
    Clock::time_point start = Clock::now();
    Workload workload(cluster, start);
    std::vector<std::thread> clients;
    for (uint64_t id = 1; id <= kClients; ++id)
      clients.emplace_back([&workload, id] { workload.client(id); });

    std::this_thread::sleep_for(300ms);
    NodeId victim = cluster.wait_for_leader();
    out << "  " << kClients << " clients are running get/put/cas; killing the leader, member " << victim
        << '\n';
    cluster.kill(victim);
    NodeId next = cluster.wait_for_leader();
    out << "  member " << next << " took over\n";
    std::this_thread::sleep_for(300ms);
    std::vector<std::string> notes;
    Status restarted = cluster.restart(victim, &notes);
    out << "  member " << victim
        << " restarted from its disk: " << (restarted.is_ok() ? "ok" : restarted.to_string()) << '\n';
    for (const std::string& note : notes) out << "    recovery: " << note << '\n';
    for (std::thread& client : clients) client.join();

    check::History history = workload.history();
    check::CheckOptions check_options;
    check_options.timeout = std::chrono::seconds(30);
    check::CheckResult verdict = check::check_linearizability(history, check_options);
    size_t unknown = 0;
    for (const check::Operation& op : history) unknown += op.status == check::OpStatus::kUnknown ? 1 : 0;
    out << "  " << history.size() << " operations: " << workload.ok() << " answered, " << unknown
        << " of unknown outcome (a member died with them in flight)\n";
    out << "  history checked with the linearizability checker: " << check::verdict_name(verdict.verdict)
        << '\n';
    if (verdict.verdict == check::Verdict::kNotLinearizable) out << check::describe_result(verdict, history);
    std::ofstream file(root + "/history.jsonl");
    check::write_history(file, history);
    passed = verdict.verdict == check::Verdict::kLinearizable && workload.ok() >= history.size() / 2 &&
             restarted.is_ok();
  }
  if (keep) {
    out << "  data and history kept in " << root << " (synodctl wal verify " << root << "/member1)\n";
  } else {
    std::filesystem::remove_all(root);
  }
  return passed;
}

}  // namespace synod::demo
