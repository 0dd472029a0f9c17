#include "node/node_runner.h"

#include <memory>

namespace synod::node {

NodeRunner::NodeRunner(std::unique_ptr<Node> node, std::chrono::milliseconds tick_interval,
                       TurnObserver observer)
    : node_(std::move(node)),
      tick_interval_(tick_interval),
      observer_(std::move(observer)),
      status_(node_->status()),
      thread_([this] { run(); }) {}

NodeRunner::~NodeRunner() {
  stop();
}

void NodeRunner::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void NodeRunner::deliver(Message message) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_ || !failure_.is_ok()) return;  // a stopped node drops messages, as a dead one would
    inbox_.emplace_back(std::move(message));
  }
  wake_.notify_one();
}

template <typename Request>
void NodeRunner::enqueue(Request request) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_ || !failure_.is_ok()) {
      Status why = failure_.is_ok() ? Status(ErrorCode::kUnavailable, "the node is stopping") : failure_;
      request.done(why);
      return;
    }
    inbox_.emplace_back(std::move(request));
  }
  wake_.notify_one();
}

void NodeRunner::propose(std::string command, Done done) {
  enqueue(ProposeRequest{std::move(command), std::move(done)});
}

void NodeRunner::read(Query query, Consistency consistency, Done done) {
  enqueue(ReadRequest{std::move(query), consistency, std::move(done)});
}

void NodeRunner::transfer_leader(NodeId to, uint64_t timeout_ticks, Done done) {
  enqueue(TransferRequest{to, timeout_ticks, std::move(done)});
}

namespace {
// A Done that fulfils a promise; shared so the std::function stays copyable.
std::pair<NodeRunner::Done, std::future<Result<std::string>>> promised() {
  auto promise = std::make_shared<std::promise<Result<std::string>>>();
  std::future<Result<std::string>> future = promise->get_future();
  return {[promise](Result<std::string> result) { promise->set_value(std::move(result)); },
          std::move(future)};
}
}  // namespace

std::future<Result<std::string>> NodeRunner::propose(std::string command) {
  auto [done, future] = promised();
  propose(std::move(command), std::move(done));
  return std::move(future);
}

std::future<Result<std::string>> NodeRunner::read(Query query) {
  auto [done, future] = promised();
  read(std::move(query), Consistency::kLinearizable, std::move(done));
  return std::move(future);
}

EngineStatus NodeRunner::status() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return status_;
}

Status NodeRunner::failure() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return failure_;
}

void NodeRunner::handle(Input& input) {
  if (auto* message = std::get_if<Message>(&input)) {
    (void)node_->step(*message);  // invalid input is counted by the engine and dropped
    return;
  }
  if (auto* proposal = std::get_if<ProposeRequest>(&input)) {
    Done done = std::move(proposal->done);
    Result<Proposal> accepted = node_->propose(proposal->command, done);
    if (!accepted.is_ok()) done(accepted.status());
    return;
  }
  if (auto* transfer = std::get_if<TransferRequest>(&input)) {
    Status started = node_->transfer_leader(transfer->to);
    if (!started.is_ok()) {
      transfer->done(started);
      return;
    }
    transfers_.push_back(
        PendingTransfer{transfer->to, ticks_ + transfer->timeout_ticks, std::move(transfer->done)});
    return;
  }
  auto& read = std::get<ReadRequest>(input);
  if (read.consistency == Consistency::kSerializable) {
    read.done(read.query());
    return;
  }
  Status asked = node_->read([done = read.done, query = read.query](const Status& status) {
    if (status.is_ok()) {
      done(query());
    } else {
      done(status);
    }
  });
  if (!asked.is_ok()) read.done(asked);
}

void NodeRunner::run() {
  auto next_tick = std::chrono::steady_clock::now() + tick_interval_;
  while (true) {
    std::deque<Input> batch;
    {
      // A snapshot in progress is encoded a slice per turn: the loop then only picks up what is queued
      // (unless storage is behind with the slices, when the loop waits as usual).
      bool busy = node_->snapshot_slice_due();
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait_until(lock, next_tick, [this, busy] { return busy || stopping_ || !inbox_.empty(); });
      if (stopping_) break;
      batch.swap(inbox_);
    }
    auto started = std::chrono::steady_clock::now();
    for (Input& input : batch) handle(input);
    auto handled = std::chrono::steady_clock::now();
    auto ticked = handled;
    if (handled >= next_tick) {
      node_->tick();
      ++ticks_;
      next_tick += tick_interval_;
      ticked = std::chrono::steady_clock::now();
      // A loop that fell behind (a long fsync) does not replay the ticks it missed in a burst.
      if (next_tick < ticked) next_tick = ticked + tick_interval_;
    }
    Status status = node_->process_ready();
    if (observer_) {
      TurnTiming timing;
      timing.inputs = handled - started;
      timing.tick = ticked - handled;
      timing.ready = std::chrono::steady_clock::now() - ticked;
      timing.inputs_handled = batch.size();
      observer_(timing);
    }
    settle_transfers();
    EngineStatus engine_status = node_->status();
    std::lock_guard<std::mutex> lock(mutex_);
    status_ = engine_status;
    if (!status.is_ok()) {
      failure_ = Status(status.code(), "the node stopped: " + status.message());
      break;
    }
  }
  Status why = failure();
  fail_everything(why.is_ok() ? Status(ErrorCode::kUnavailable, "the node stopped") : why);
}

void NodeRunner::settle_transfers() {
  if (transfers_.empty()) return;
  EngineStatus status = node_->status();
  std::vector<PendingTransfer> waiting;
  for (PendingTransfer& transfer : transfers_) {
    if (status.leader == transfer.to) {
      transfer.done(std::string());
    } else if (ticks_ >= transfer.deadline) {
      transfer.done(Status(ErrorCode::kTimedOut, "leadership was not transferred in time"));
    } else {
      waiting.push_back(std::move(transfer));
    }
  }
  transfers_.swap(waiting);
}

void NodeRunner::fail_everything(const Status& status) {
  node_->fail_pending(status);
  for (PendingTransfer& transfer : transfers_) transfer.done(status);
  transfers_.clear();
  std::deque<Input> left;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    left.swap(inbox_);
    stopping_ = true;
  }
  for (Input& input : left) {
    if (auto* proposal = std::get_if<ProposeRequest>(&input)) proposal->done(status);
    if (auto* read = std::get_if<ReadRequest>(&input)) read->done(status);
    if (auto* transfer = std::get_if<TransferRequest>(&input)) transfer->done(status);
  }
}

}  // namespace synod::node
