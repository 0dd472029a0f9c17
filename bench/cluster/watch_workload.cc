// The watch workload: --watchers streams each watch the whole "<prefix>w/" range, then --clients putters
// write into it (at --rate, or as fast as acknowledged). Every put's value carries its send time, so each
// event a watcher receives is one latency sample: put sent -> event delivered. With W watchers every put
// is W samples.
#include <cstdio>
#include <thread>

#include "bench/cluster/workloads.h"

namespace synod::bench {

namespace {

class Watcher : public Tag {
 public:
  Watcher(Driver& driver, Connection& connection, std::atomic<int>& created, std::atomic<int>& closed)
      : driver_(driver), connection_(connection), created_(created), closed_(closed) {}

  void begin() {
    state_ = State::kStart;
    stream_ = connection_.watch->PrepareAsyncWatch(&context_, connection_.cq);
    stream_->StartCall(this);
  }

  void cancel() { context_.TryCancel(); }

  void proceed(bool ok) override {
    switch (state_) {
      case State::kStart: {
        if (!ok) return close();
        state_ = State::kCreate;
        etcdserverpb::WatchRequest request;
        std::string key = driver_.options().prefix + "w/";
        std::string end = key;
        end.back() = static_cast<char>(end.back() + 1);  // the prefix's range end: "w/" -> "w0"
        request.mutable_create_request()->set_key(key);
        request.mutable_create_request()->set_range_end(end);
        stream_->Write(request, this);
        return;
      }
      case State::kCreate:
        if (!ok) return close();
        return read();
      case State::kRead:
        if (!ok) return close();
        receive();
        return read();
      case State::kClosing: closed_.fetch_add(1); return;
    }
  }

 private:
  enum class State { kStart, kCreate, kRead, kClosing };

  void read() {
    state_ = State::kRead;
    stream_->Read(&response_, this);
  }

  void receive() {
    if (response_.created()) created_.fetch_add(1);
    if (response_.canceled()) {
      driver_.record_error(connection_.thread, "watch canceled by the server: " + response_.cancel_reason());
    }
    Clock::time_point now = Clock::now();
    for (const mvccpb::Event& event : response_.events()) {
      Clock::time_point sent;
      if (event.type() != mvccpb::Event::PUT || !read_stamp(event.kv().value(), sent)) {
        driver_.record_error(connection_.thread, "watch event without a send time");
        continue;
      }
      auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(now - sent).count();
      driver_.record_sample(connection_.thread, static_cast<uint64_t>(std::max<int64_t>(nanos, 0)));
      driver_.watch_events.fetch_add(1, std::memory_order_relaxed);
    }
  }

  void close() {
    state_ = State::kClosing;
    stream_->Finish(&status_, this);
  }

  Driver& driver_;
  Connection& connection_;
  std::atomic<int>& created_;
  std::atomic<int>& closed_;
  State state_ = State::kStart;
  grpc::ClientContext context_;
  grpc::Status status_;
  etcdserverpb::WatchResponse response_;
  std::unique_ptr<grpc::ClientAsyncReaderWriter<etcdserverpb::WatchRequest, etcdserverpb::WatchResponse>>
      stream_;
};

// Waits until `done` holds, up to `limit`; true if it did.
template <typename Predicate>
bool wait_until(Predicate done, std::chrono::milliseconds limit) {
  Clock::time_point deadline = Clock::now() + limit;
  while (!done()) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

}  // namespace

bool run_watch(Driver& driver) {
  const BenchOptions& o = driver.options();
  std::atomic<int> created{0};
  std::atomic<int> closed{0};
  std::vector<std::unique_ptr<Watcher>> watchers;
  for (int i = 0; i < o.watchers; ++i) {
    watchers.push_back(
        std::make_unique<Watcher>(driver, driver.connection_for(static_cast<size_t>(i)), created, closed));
  }
  for (auto& watcher : watchers) watcher->begin();
  bool ready =
      wait_until([&] { return created.load() == o.watchers || closed.load() > 0; }, std::chrono::seconds(30));
  if (!ready || closed.load() > 0) {
    std::fprintf(stderr, "synod-bench: only %d of %d watches were created\n", created.load(), o.watchers);
    for (auto& watcher : watchers) watcher->cancel();
    wait_until([&] { return closed.load() == o.watchers; }, std::chrono::seconds(10));
    driver.shutdown();
    return false;
  }

  std::vector<std::unique_ptr<LoadClient>> putters = make_clients(driver);
  driver.start();
  for (auto& putter : putters) putter->begin();
  driver.wait_for_clients();

  // Every acknowledged put must reach every watcher; wait while events still arrive.
  auto expected = [&] { return driver.watch_puts.load() * static_cast<uint64_t>(o.watchers); };
  uint64_t last = driver.watch_events.load();
  while (driver.watch_events.load() < expected()) {
    std::this_thread::sleep_for(std::chrono::seconds(2));
    uint64_t now = driver.watch_events.load();
    if (now == last) break;
    last = now;
  }
  for (auto& watcher : watchers) watcher->cancel();
  wait_until([&] { return closed.load() == o.watchers; }, std::chrono::seconds(10));
  driver.shutdown();
  // After the shutdown: no completion-queue thread records any more.
  if (uint64_t events = driver.watch_events.load(); events < expected()) {
    driver.record_error(0, "watch event never delivered", expected() - events);
  }
  return true;
}

}  // namespace synod::bench
