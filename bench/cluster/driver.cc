#include "bench/cluster/driver.h"

#include <algorithm>
#include <cstdio>

#include "client/etcd_connection.h"

namespace synod::bench {

std::string error_kind(const grpc::Status& status) {
  std::string message = status.error_message();
  if (message.size() > 80) message = message.substr(0, 77) + "...";
  return client::code_name(status.error_code()) + ": " + message;
}

Driver::Driver(const BenchOptions& options) : options_(options) {
  size_t threads = options_.threads > 0 ? static_cast<size_t>(options_.threads)
                                        : std::max<size_t>(1, std::thread::hardware_concurrency());
  threads = std::min(threads, static_cast<size_t>(options_.conns));
  for (size_t i = 0; i < threads; ++i) queues_.push_back(std::make_unique<grpc::CompletionQueue>());
  stats_.resize(threads);
}

Driver::~Driver() {
  shutdown();
}

bool Driver::connect() {
  for (int i = 0; i < options_.conns; ++i) {
    grpc::ChannelArguments args;
    // Without this every channel to the same address shares one subchannel, i.e. one TCP connection,
    // and --conns would mean nothing.
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    args.SetMaxReceiveMessageSize(-1);
    Connection c;
    c.endpoint = options_.endpoints[static_cast<size_t>(i) % options_.endpoints.size()];
    c.channel = grpc::CreateCustomChannel(c.endpoint, grpc::InsecureChannelCredentials(), args);
    c.kv = etcdserverpb::KV::NewStub(c.channel);
    c.watch = etcdserverpb::Watch::NewStub(c.channel);
    c.lease = etcdserverpb::Lease::NewStub(c.channel);
    c.thread = static_cast<size_t>(i) % queues_.size();
    c.cq = queues_[c.thread].get();
    connections_.push_back(std::move(c));
  }
  auto deadline = std::chrono::system_clock::now() + std::chrono::seconds(10);
  for (Connection& c : connections_) {
    if (!c.channel->WaitForConnected(deadline)) {
      std::fprintf(stderr, "synod-bench: cannot connect to %s within 10 s\n", c.endpoint.c_str());
      return false;
    }
  }
  for (auto& queue : queues_) threads_.emplace_back([this, cq = queue.get()] { poll(cq); });
  return true;
}

void Driver::poll(grpc::CompletionQueue* cq) {
  void* tag = nullptr;
  bool ok = false;
  while (cq->Next(&tag, &ok)) static_cast<Tag*>(tag)->proceed(ok);
}

void Driver::start() {
  start_ = Clock::now();
  end_ = start_ +
         std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(options_.duration_s));
}

std::optional<Ticket> Driver::take() {
  uint64_t index = next_ticket_.fetch_add(1, std::memory_order_relaxed);
  Ticket ticket{index, {}};
  if (open_loop()) {
    ticket.intended = start_ + std::chrono::duration_cast<Clock::duration>(
                                   std::chrono::duration<double>(static_cast<double>(index) / options_.rate));
  }
  if (options_.duration_s > 0) {
    Clock::time_point when = open_loop() ? ticket.intended : Clock::now();
    if (when >= end_) return std::nullopt;
  } else if (index >= options_.total) {
    return std::nullopt;
  }
  return ticket;
}

void Driver::record_ok(size_t thread, Clock::time_point started, Clock::time_point done) {
  auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(done - started).count();
  stats_[thread].latency.record(static_cast<uint64_t>(std::max<int64_t>(nanos, 0)));
  ops_.fetch_add(1, std::memory_order_relaxed);
}

void Driver::record_sample(size_t thread, uint64_t nanos) {
  stats_[thread].latency.record(nanos);
  ops_.fetch_add(1, std::memory_order_relaxed);
}

void Driver::record_error(size_t thread, const std::string& kind, uint64_t n) {
  stats_[thread].errors[kind] += n;
  errors_.fetch_add(n, std::memory_order_relaxed);
}

void Driver::client_finished() {
  if (active_clients_.fetch_sub(1) == 1) {
    std::lock_guard lock(mutex_);
    all_done_.notify_all();
  }
}

void Driver::wait_for_clients() {
  std::unique_lock lock(mutex_);
  all_done_.wait(lock, [this] { return active_clients_.load() == 0; });
}

ThreadStats Driver::merged_stats() const {
  ThreadStats out;
  for (const ThreadStats& s : stats_) {
    out.latency.merge(s.latency);
    for (const auto& [kind, n] : s.errors) out.errors[kind] += n;
  }
  return out;
}

void Driver::shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  for (auto& queue : queues_) queue->Shutdown();
  for (std::thread& t : threads_) t.join();
  threads_.clear();
}

}  // namespace synod::bench
