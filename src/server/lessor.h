// Lessor: when leases expire. The MVCC store replicates which leases exist and their granted TTLs
// (kv/lease_table.h); time is not replicated. Each member's Lessor keeps a deadline per lease on its own
// monotonic clock, and only the leader acts on it: a lease past its deadline gets a revoke proposed
// through the log like a client's, so every member deletes its keys at the same log position.
//
// Deadlines. The store tells the Lessor (kv::LeaseObserver, on the applying thread) of every grant and
// keepalive it applies; each restarts that lease's deadline at now + TTL on this member's clock. A
// keepalive is itself a tiny replicated command (synodpb.Command.lease_renew) rather than a message to
// the leader: Synod has no client-to-leader forwarding path, and through the log every member, not only
// the leader, sees each renewal, so a new leader already knows recent ones. It costs one log write per
// keepalive (a client sends one every TTL/3); acceptable for now.
//
// Leader changes. A member that becomes leader (a term in which it leads that it has not seen lead
// before) gives every lease its full TTL plus `promotion_extension` (the server passes one election
// timeout) from that moment, as etcd's promotion does: its deadlines may be stale (renewals committed
// but not yet applied here), a leader change must never expire a lease early, and the lease's client
// needs time to find the new leader. A lease therefore lives at least TTL after its last applied
// renewal on the leader, and at most TTL plus the extension after the latest leader took over, plus the
// time a revoke takes to commit.
//
// Retries. One revoke per lease is in flight at a time; a failed one (no leader, timed out, lost its
// slot) is proposed again at the next check while this member still leads. At most
// `max_revokes_per_check` leases are revoked per check, so a mass expiry does not flood the log.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "base/status.h"
#include "kv/lease_table.h"

namespace synod::server {

struct LessorOptions {
  using TimePoint = std::chrono::steady_clock::time_point;
  using Done = std::function<void(Result<std::string>)>;

  // The monotonic clock; tests inject their own.
  std::function<TimePoint()> now = [] { return std::chrono::steady_clock::now(); };
  // This member's term while it leads, nullopt while it does not.
  std::function<std::optional<uint64_t>()> leading_term;
  // Proposes a command; `done` runs exactly once, on any thread, with the store's encoded result or
  // why there is none. Never called with the Lessor's lock held.
  std::function<void(std::string command, Done done)> propose;
  // How often the background thread checks (start()).
  std::chrono::milliseconds check_interval{100};
  // What a promotion adds to every lease's full TTL: etcd adds one election timeout, so that a client
  // whose keepalives went to the old leader has time to find the new one.
  std::chrono::milliseconds promotion_extension{0};
  size_t max_revokes_per_check = 100;
};

class Lessor final : public kv::LeaseObserver {
 public:
  explicit Lessor(LessorOptions options);
  ~Lessor() override;  // stop()
  Lessor(const Lessor&) = delete;
  Lessor& operator=(const Lessor&) = delete;

  // One check: notices a promotion (and extends every deadline), then, while leading, proposes a
  // revoke for each lease past its deadline that has none in flight.
  void check();
  // A thread that calls check() every check_interval, until stop().
  void start();
  // Stops the thread. Revokes still in flight complete later through `propose`'s done, so the Lessor
  // must outlive whatever runs them (the node loop).
  void stop();

  // How long the lease has left on this member's clock (zero once past), nullopt for a lease this
  // member does not know.
  std::optional<std::chrono::milliseconds> remaining(int64_t id) const;
  size_t revokes_in_flight() const;

  // kv::LeaseObserver, called on the applying thread.
  void lease_renewed(int64_t id, int64_t ttl) override;
  void lease_revoked(int64_t id) override;
  void leases_reset(const kv::LeaseTable& table) override;

 private:
  struct Deadline {
    int64_t ttl = 0;  // seconds
    LessorOptions::TimePoint at;
    bool revoking = false;
  };

  void revoke_done(int64_t id, const Result<std::string>& result);
  void run();

  const LessorOptions options_;
  mutable std::mutex mutex_;
  std::map<int64_t, Deadline> leases_;
  // The term in which this member leads, as of the last check; nullopt while it does not lead.
  std::optional<uint64_t> leading_term_;

  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace synod::server
