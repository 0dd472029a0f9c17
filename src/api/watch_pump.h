// WatchPump: the one thread of the Watch service. It starts sending on watch streams that were idle when
// their watchers got something (so the node loop, which makes them ready, never serializes or sends
// anything itself), ticks progress notifications, and lets each stream check itself once a second (a
// stream whose client stopped reading is canceled: api/watch_stream.h). A stream that is already sending
// keeps going by itself on gRPC's threads (api/watch_stream.h).
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace synod::api {

class WatchPump {
 public:
  class Client {
   public:
    virtual ~Client() = default;
    // Runs on the pump's thread after schedule().
    virtual void pump() = 0;
    // Runs on the pump's thread every progress interval.
    virtual void progress_tick() = 0;
    // Runs on the pump's thread every check interval (about a second), with the time it runs at.
    virtual void check(std::chrono::steady_clock::time_point now) = 0;
    // Ends the client's work for good (the server is stopping); runs on the caller of close_all().
    virtual void close() = 0;
  };

  explicit WatchPump(std::chrono::milliseconds progress_interval,
                     std::chrono::milliseconds check_interval = std::chrono::seconds(1));
  ~WatchPump();  // stops the thread; clients still alive get no more calls
  WatchPump(const WatchPump&) = delete;
  WatchPump& operator=(const WatchPump&) = delete;

  // Any thread, quick. Clients are held weakly: one that is gone is skipped.
  void add(std::weak_ptr<Client> client);
  void schedule(std::weak_ptr<Client> client);
  // Closes every client still alive.
  void close_all();

 private:
  void run();

  const std::chrono::milliseconds progress_interval_;
  const std::chrono::milliseconds check_interval_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::weak_ptr<Client>> ready_;
  std::vector<std::weak_ptr<Client>> clients_;
  bool stopping_ = false;
  std::thread thread_;  // last: starts once everything above is ready
};

}  // namespace synod::api
