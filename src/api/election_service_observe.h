// ObserveStream: one Election.Observe call. It sends the leader's key-value now (if there is a leader)
// and again whenever the leader changes or proclaims a new value, as etcd's Observe does.
//
// How, without polling: a look (a query on the node loop thread) finds the leader and, in the same
// query, registers a WatchHub watcher: on the leader's key when there is one (its puts are proclaims,
// sent as they come; its delete means a new leader: look again), else on name/ for puts (the first
// campaigner: look again). A watcher the hub switches to catching up or cancels also means look again.
// A look that finds the value already sent sends nothing.
//
// Sending: one write at a time from a queue. A client too slow to read gets the older values dropped
// (at most kMaxQueued wait), never the newest: etcd's Observe promises the latest proclamation, not
// every one.
//
// Lifetime: gRPC holds the stream (self_) from its start until OnDone; looks hold it strongly until they
// run, the hub's wake function weakly.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>

#include <grpcpp/grpcpp.h>

#include "api/backend.h"
#include "api/proto/v3election.pb.h"
#include "api/recipe_calls.h"
#include "kv/mvcc_store.h"
#include "kv/watch_hub.h"

namespace synod::api {

class ObserveStream final : public grpc::ServerWriteReactor<v3electionpb::LeaderResponse>,
                            public recipe::Closable,
                            public std::enable_shared_from_this<ObserveStream> {
 public:
  static constexpr size_t kMaxQueued = 64;

  static ObserveStream* start(Backend& backend, const kv::MvccStore& store, recipe::OpenCalls& open,
                              std::string name);
  ObserveStream(Backend& backend, const kv::MvccStore& store, std::string name);

  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;
  void close() override;

 private:
  // Queues a look on the loop thread (linearizable the first time, so the first answer is current).
  void look(bool linearizable);
  // On the loop thread: queues the leader's value if new and registers the next watcher.
  void probe();
  void on_wake(uint64_t generation);
  // Under mutex_.
  void queue(int64_t revision, const mvccpb::KeyValue& kv);
  void send_more();
  void finish(const grpc::Status& status);

  Backend& backend_;
  const kv::MvccStore& store_;
  const std::string prefix_;

  std::mutex mutex_;
  kv::WatchHub::WatcherPtr watcher_;
  uint64_t generation_ = 0;
  bool watching_leader_ = false;  // watcher_ is on the leader's key (else on the prefix)
  std::string last_key_;          // the last value queued, to send nothing twice
  int64_t last_mod_revision_ = 0;
  std::deque<v3electionpb::LeaderResponse> queue_;  // the front is being written while writing_
  bool writing_ = false;
  bool finished_ = false;
  std::shared_ptr<ObserveStream> self_;
};

}  // namespace synod::api
