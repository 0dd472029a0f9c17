// LeaseKeeper: keeps one lease alive from a thread of its own, and says when it can no longer be
// trusted to exist.
//
// A renewal is sent every TTL/3 (as etcd's clients do), so two can fail before the lease is in danger.
// The server restarts a lease's countdown when it applies a renewal, which is after the client sent
// it; so the lease exists at least until (send time of the last acknowledged renewal) + TTL, measured on
// this machine's monotonic clock. That instant is valid_until(): before it the lease is certainly alive
// (clock rates assumed equal), after it the lease may be gone and a permit or lock bound to it must be
// given up. The lease is lost, for good, when valid_until() passes or when the cluster answers a
// renewal with TTL 0 (it expired, or someone revoked it); lost() is then cancelled, with the reason.
// A lost lease is never renewed again, even if the cluster would still accept it: whoever relied on it
// has been told to stop.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "client/cancellation.h"
#include "client/deadline.h"
#include "client/etcd_connection.h"

namespace synod::client {

class LeaseKeeper {
 public:
  // `granted_at`: when the grant was sent (the lease lives at least until then + ttl).
  LeaseKeeper(EtcdConnection& connection, int64_t lease, std::chrono::seconds ttl,
              Clock::time_point granted_at);
  ~LeaseKeeper();  // stop()
  LeaseKeeper(const LeaseKeeper&) = delete;
  LeaseKeeper& operator=(const LeaseKeeper&) = delete;

  // Ends the renewals (and any in flight). Idempotent.
  void stop();

  bool valid() const;
  Clock::time_point valid_until() const;
  // Cancelled, with the reason, once the lease is lost.
  Cancellation& lost() { return lost_; }
  std::string lost_reason() const { return lost_.reason(); }

  // Stops sending renewals without giving the lease up, as a holder that froze would: for tests and
  // demonstrations of what a lost lease does.
  void pause_renewals();

 private:
  void run(Clock::time_point granted_at);
  void lose(const std::string& why);

  EtcdConnection& connection_;
  const int64_t lease_;
  const std::chrono::seconds ttl_;
  const std::chrono::milliseconds interval_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  Clock::time_point valid_until_;
  bool stopping_ = false;
  bool paused_ = false;
  Cancellation lost_;
  Cancellation stopped_;  // ends a renewal in flight on stop()
  std::thread thread_;
};

// A lease id as etcd prints it (lowercase hex, as Go's %x).
std::string lease_hex(int64_t lease);

}  // namespace synod::client
