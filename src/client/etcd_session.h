// EtcdSession: a lease of one client, kept alive while the session lives, to which the client binds
// the keys of its recipes (client/semaphore.h). Like etcd's concurrency.Session: when the client dies or
// loses touch with the cluster, the lease expires and every key bound to it goes in one revision, which
// is how the others learn that it is gone.
//
// valid() is false from the moment the lease may have expired (client/lease_keeper.h); a lost session
// stays lost, and a client that wants to go on opens a new one. Closing revokes the lease, which also
// frees whatever a lost session still held in the store (the cluster may not have expired it yet).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "base/status.h"
#include "client/cancellation.h"
#include "client/deadline.h"
#include "client/etcd_connection.h"
#include "client/lease_keeper.h"

namespace synod::client {

class EtcdSession {
 public:
  // Grants a lease of `ttl` (the server may raise it to its minimum) and starts keeping it alive.
  static Result<std::unique_ptr<EtcdSession>> open(EtcdConnection& connection, std::chrono::seconds ttl,
                                                   Deadline deadline, Cancellation* cancel = nullptr);
  // close() with a short deadline, if not closed yet.
  ~EtcdSession();
  EtcdSession(const EtcdSession&) = delete;
  EtcdSession& operator=(const EtcdSession&) = delete;

  EtcdConnection& connection() { return connection_; }
  int64_t lease() const { return lease_; }
  std::chrono::seconds ttl() const { return ttl_; }
  bool valid() const { return keeper_.valid(); }
  std::string lost_reason() const { return keeper_.lost_reason(); }
  // Cancelled once the lease is lost: waits bound to this session register with it.
  Cancellation& lost() { return keeper_.lost(); }
  LeaseKeeper& keeper() { return keeper_; }

  // Stops the renewals and revokes the lease, deleting every key bound to it.
  Status close(Deadline deadline);

  // A session's key for a recipe is name/<lease>, so one session can hold a name only once at a time.
  // Claims `key` for a holder in this process; false if it is already claimed.
  bool claim(const std::string& key);
  void unclaim(const std::string& key);

 private:
  EtcdSession(EtcdConnection& connection, int64_t lease, std::chrono::seconds ttl,
              Clock::time_point granted_at);

  EtcdConnection& connection_;
  const int64_t lease_;
  const std::chrono::seconds ttl_;
  LeaseKeeper keeper_;
  std::mutex mutex_;
  bool closed_ = false;
  std::set<std::string> claimed_;
};

}  // namespace synod::client
