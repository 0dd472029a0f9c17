// Cancellation: a way to end blocking gRPC calls from another thread. A synchronous stream read (a
// watch waiting for a delete) has no timeout of its own, so whoever must stop it early (a signal, the
// session's lease keeper noticing the lease is gone) cancels the Cancellation, which runs every
// callback registered with it at that moment (typically ClientContext::TryCancel) and makes
// cancelled() true for later checks. One Cancellation can feed another (a callback that cancels it),
// so a wait can be ended by several sources through one object.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>

#include <grpcpp/grpcpp.h>

namespace synod::client {

class Cancellation {
 public:
  Cancellation() = default;
  Cancellation(const Cancellation&) = delete;
  Cancellation& operator=(const Cancellation&) = delete;

  // Any thread; only the first call's reason is kept.
  void cancel(const std::string& reason);
  bool cancelled() const { return cancelled_.load(); }
  std::string reason() const;

  // Runs `on_cancel(reason)` when the owner is cancelled while the registration lives (at once if it
  // already was). The callback runs with the owner's lock held: it must not call back into the owner.
  // A null owner registers nothing, so optional cancellations need no special case.
  class Registration {
   public:
    using Callback = std::function<void(const std::string& reason)>;
    Registration(Cancellation* owner, Callback on_cancel);
    // The common case: a blocking call to end.
    Registration(Cancellation* owner, grpc::ClientContext* context);
    ~Registration();
    Registration(const Registration&) = delete;
    Registration& operator=(const Registration&) = delete;

   private:
    Cancellation* owner_;
    uint64_t id_ = 0;
  };

 private:
  mutable std::mutex mutex_;
  std::atomic<bool> cancelled_{false};
  std::string reason_;
  uint64_t next_id_ = 1;
  std::map<uint64_t, Registration::Callback> callbacks_;
};

}  // namespace synod::client
