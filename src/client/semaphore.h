// Semaphore: a distributed counting semaphore with N permits, built on etcd v3 primitives only (leases,
// keys, revisions, Txn, Watch), so it works against Synod or etcd. docs/semaphore.md has the user's view.
//
// The queue. A contender of NAME puts NAME/<its lease in hex>, bound to its session's lease, in a Txn
// that only creates it (create_revision == 0). The store gives each put a revision larger than every
// earlier one, so the create revisions order the contenders, oldest first. A contender holds a permit
// when fewer than N live contender keys have a lower create revision than its own: the holders are the
// N oldest keys, the rest wait in arrival order.
//
// Why never more than N. A key's create revision never changes while it lives, and a key created later
// has a higher one, so the number of keys ahead of a contender can only shrink: keys ahead leave (a
// release, an expired lease), none arrive. If at some revision more than N contenders held, the one
// among them with the newest key has at least N live keys ahead of it at that revision, and had at
// least those (all older than it, all alive since) at any earlier revision after its own key appeared,
// in particular when it saw fewer than N. Contradiction. The same monotonicity makes a stale read safe
// as long as it already shows the contender's own key (checked on every read): any revision it shows is
// later than the key's creation, and there can only have been more keys ahead then, not fewer.
//
// Waiting. A waiter reads the whole queue, and if N or more are ahead it watches the prefix for deletes
// from the revision after that read, so no delete in between is missed, keeping the set of keys ahead
// of it; when fewer than N remain it reads the queue again to confirm (and to confirm its own key is
// still there). The lock recipe's "watch only your predecessor" (src/api/recipe_wait.h) does not carry
// over: with N permits the departure of any one of the keys ahead can be the one that lets a waiter in,
// so each waiter must see every delete ahead of it. What stays herd-free is the work: a delete costs
// each waiter one watch event, and only the waiter it lets in makes a request. A watch stream is
// renewed every few seconds from a fresh read, so a member that froze mid-stream cannot stall a waiter
// for good.
//
// Crashes. A holder that dies stops renewing its lease; the leader expires it after its TTL and the key
// goes; the waiters see the delete. A waiter that gives up (deadline, cancel) deletes its own key.
//
// Agreeing on N. Every contender must count against the same N, so N is stored at NAME. A contender
// joins only in a Txn that also requires NAME to hold its N; if NAME is absent or holds another count
// and nobody is queued (no key under NAME/), a Txn that requires the queue to be empty sets NAME to its
// N first. So while anyone is queued NAME cannot change, everyone queued agreed on it, and a contender
// asking for another count is refused with an error naming the count in force. Once the queue is empty
// the next contender may define N anew.
//
// Fencing. The token of a permit is the create revision of its key: unique, and larger for a later
// holder than for every permit handed out before. A permit is only as good as its lease (a holder that
// froze past its TTL has lost it while still believing it holds it), so a resource that must not be
// used by more than N should check the token: guard() is a Txn compare that holds only while the permit
// is still held (its key is the same incarnation).
#pragma once

#include <cstdint>
#include <set>
#include <string>

#include "api/proto/rpc.pb.h"
#include "base/status.h"
#include "client/cancellation.h"
#include "client/deadline.h"
#include "client/etcd_session.h"

namespace synod::client {

class Semaphore;

// One held permit. Movable; released when destroyed unless released (or moved from) before, which
// waits up to 2 s for the cluster; should that fail, the permit stays taken until the session closes
// or its lease expires, so call release() where a failure can be handled. Its session must outlive it.
class Permit {
 public:
  Permit(Permit&& other) noexcept;
  Permit& operator=(Permit&& other) noexcept;
  ~Permit();
  Permit(const Permit&) = delete;
  Permit& operator=(const Permit&) = delete;

  const std::string& name() const { return name_; }
  const std::string& key() const { return key_; }
  int64_t token() const { return token_; }
  int permits() const { return permits_; }
  int64_t lease() const;

  // False once released, or once the session's lease may have expired: from then on another contender
  // may hold this permit, and the holder must stop using what it protects.
  bool valid() const;
  // Deletes the key (only the incarnation this permit created). Idempotent.
  Status release(Deadline deadline);
  // Holds (in a Txn) exactly while this permit's key is the one it created.
  etcdserverpb::Compare guard() const;

 private:
  friend class Semaphore;
  Permit(EtcdSession* session, std::string name, std::string key, int64_t token, int permits);

  EtcdSession* session_ = nullptr;  // null once released or moved from
  std::string name_;
  std::string key_;
  int64_t token_ = 0;
  int permits_ = 0;
};

class Semaphore {
 public:
  // `permits` is N, which every contender of `name` must agree on (see the top of this file).
  Semaphore(EtcdSession& session, std::string name, int permits);

  // Waits for a permit until `deadline`. Errors: kInvalidArgument (N disagrees with the count in
  // force, or a bad name or N), kTimedOut (no permit in time), kAborted (`cancel` was cancelled),
  // kUnavailable (the session's lease was lost, or the cluster could not be reached). On an error the
  // contender's key is removed (best effort: otherwise its lease takes it).
  Result<Permit> acquire(Deadline deadline, Cancellation* cancel = nullptr);

 private:
  // Puts this session's key (agreeing on N first); its create revision.
  Result<int64_t> join(const std::string& key, Deadline deadline, Cancellation* cancel);
  // Sets NAME to N if nobody is queued; ok to try joining again, or why not.
  Status define_permits(Deadline deadline, Cancellation* cancel);
  // Returns once fewer than N keys are ahead of `key` (created at `created`).
  Status wait_turn(const std::string& key, int64_t created, Deadline deadline, Cancellation* stop);
  // Watches deletes under the prefix from `from`, removing them from `ahead`, until fewer than N are
  // left, the watch ends (deadline, a broken stream, the round's end) or `key` itself is deleted.
  Status watch_ahead(const std::string& key, std::set<std::string>& ahead, int64_t from, Deadline deadline,
                     Cancellation* stop);
  Status remove(const std::string& key, int64_t created);

  EtcdSession& session_;
  const std::string name_;
  const int permits_;
};

}  // namespace synod::client
