// WatchStream: one etcd Watch call, a bidi stream holding any number of watchers (kv/watch_hub.h).
//
// Requests (create, cancel, progress) are handled as they are read, on gRPC's threads. Responses go out
// one write at a time from a send queue. The queue is refilled from the watchers only once it is empty,
// so a client that reads slowly holds at most one round of responses here; everything else waits in the
// hub, which bounds it (a watcher too far behind is switched to catching up from the store's history).
// Who refills: the write that empties the queue (OnWriteDone, a gRPC thread), or, when the stream was
// idle, the Watch service's pump thread, which the hub wakes (api/watch_pump.h). Catch-up windows are
// read by queries on the node loop (Backend::read), one per watcher at a time.
//
// Cost: a refill asks every watcher of the stream (one hub lock each), so a stream holding W watchers
// pays O(W) per refill however few of them have events; clients that hold thousands of watchers open
// them over several streams, or accept that.
//
// Ordering: a created response precedes its watcher's events; the events of one revision are never
// split across responses (except as fragments); a progress response is queued after everything taken
// before it, with a revision every watcher of the stream has reached.
//
// A client that reads nothing: once its receive window is full the write in progress never completes.
// The hub holds nothing for it meanwhile (its watchers fall back to catching up from the history, which
// waits for the write), so the node loop never waits for it; after `stall_timeout` the pump's check
// cancels the call (no response could reach that client), which removes its watchers.
//
// Lifetime: gRPC holds the stream (through self_) from its start until OnDone; the pump, the hub's wake
// functions and pending queries hold it weakly and find it finished afterwards.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "api/backend.h"
#include "api/proto/watch.pb.h"
#include "api/watch_pump.h"
#include "kv/mvcc_store.h"
#include "kv/watch_hub.h"

namespace synod::api {

class WatchStream final
    : public grpc::ServerBidiReactor<etcdserverpb::WatchRequest, etcdserverpb::WatchResponse>,
      public WatchPump::Client,
      public std::enable_shared_from_this<WatchStream> {
 public:
  struct Deps {
    Backend& backend;
    const kv::MvccStore& store;  // read only by catch-up queries on the node loop
    kv::WatchHub& hub;
    WatchPump& pump;
    size_t max_response_bytes;  // where responses are split (etcd's max request bytes)
    // A response the client has not taken for this long (its receive window full: it reads nothing)
    // cancels the stream and every watcher on it (zero: never).
    std::chrono::milliseconds stall_timeout{0};
  };

  // Starts a stream (its first read); gRPC owns it until OnDone. `context` is the call's, valid until
  // then.
  static WatchStream* start(const Deps& deps, grpc::CallbackServerContext* context);
  WatchStream(const Deps& deps, grpc::CallbackServerContext* context) : deps_(deps), context_(context) {}

  void pump() override;
  void progress_tick() override;
  void check(std::chrono::steady_clock::time_point now) override;
  // Ends the stream with etcd's "server stopped", so the gRPC server need not wait for it.
  void close() override;

  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

 private:
  struct Watch {
    kv::WatchHub::WatcherPtr watcher;
    bool fragment = false;
    bool progress_notify = false;
    bool catch_up_running = false;
    bool quiet = true;          // nothing sent for it since the last progress tick
    bool progress_due = false;  // a progress notification is owed at the next refill
  };
  // Catch-up queries to start once the stream's lock is released (a stopped node answers at once).
  using CatchUps = std::vector<std::pair<int64_t, kv::WatchHub::WatcherPtr>>;

  void handle(const etcdserverpb::WatchRequest& request);
  void create(const etcdserverpb::WatchCreateRequest& request);
  void cancel(int64_t id);
  // Refills the queue if it is empty and starts the next write; finishes once the client is gone and
  // everything is sent.
  void send_more(CatchUps& catch_ups);
  void refill(CatchUps& catch_ups);
  void start_catch_ups(const CatchUps& catch_ups);
  void catch_up_done(int64_t id, const kv::WatchHub::WatcherPtr& watcher, const Status& status);
  // Any thread: a watcher has something, or a catch-up finished.
  void wake();
  etcdserverpb::WatchResponse response(int64_t watch_id, int64_t revision) const;
  void finish(const grpc::Status& status);

  const Deps deps_;
  grpc::CallbackServerContext* const context_;
  std::mutex mutex_;
  etcdserverpb::WatchRequest request_;
  std::deque<etcdserverpb::WatchResponse> queue_;  // the front is being written while writing_
  std::map<int64_t, Watch> watches_;
  int64_t next_id_ = 0;  // etcd numbers a stream's watchers from 0 when the client leaves it to the server
  bool writing_ = false;
  std::chrono::steady_clock::time_point write_started_;  // of the write in progress
  bool stalled_ = false;                                 // canceled because its client read nothing
  bool scheduled_ = false;
  bool progress_requested_ = false;
  bool client_done_ = false;  // the client sends no more requests
  bool finished_ = false;
  std::shared_ptr<WatchStream> self_;
};

}  // namespace synod::api
