// QueueEntry: one server-side contender of a lock or an election (etcd's Mutex.Lock and
// Election.Campaign, run inside Synod). It
//   1. grants a lease of 60 s when none was given (lease 0), as etcd's servers do through a session,
//   2. joins the queue with one Txn (api/recipe_keys.h join): creates name/<lease hex> under the lease,
//      or finds it already there (the same lease locking again is the same contender), and reads the
//      holder in the same revision, so an uncontended acquisition is one proposal,
//   3. for an election, proclaims its value if the key it found holds another one,
//   4. waits for the contenders ahead to go (api/recipe_wait.h), and reports the hold.
// A caller that gives up (client cancelled, server stopping) calls abandon(): as etcd's recipes do, the
// entry's key is then deleted (only the incarnation it created or found), so an abandoned waiter never
// takes the lock later on behalf of nobody.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "api/backend.h"
#include "api/proto/rpc.pb.h"
#include "api/recipe_wait.h"
#include "kv/mvcc_store.h"

namespace synod::api::recipe {

struct Contender {
  std::string name;
  int64_t lease = 0;  // 0: grant one
  std::string value;  // the value the key is created with
  // An election: a key found already there is given `value` (a proclaim) if it holds another one.
  bool proclaim_existing = false;
  // The error when the key disappears (its lease ended) before its turn came.
  Status expired;
};

struct Held {
  std::string key;
  int64_t create_revision = 0;  // the fencing token: higher for every later holder
  int64_t lease = 0;
  int64_t join_revision = 0;  // the store's revision after the joining Txn (etcd's Campaign header)
  int64_t held_revision = 0;  // the store's revision when the hold began (etcd's Lock header)
};

class QueueEntry final : public std::enable_shared_from_this<QueueEntry> {
 public:
  using Done = std::function<void(Result<Held>)>;

  // `done` runs once (on the node loop thread, or the caller's if the node has stopped) unless
  // abandon() comes first.
  static std::shared_ptr<QueueEntry> start(Backend& backend, const kv::MvccStore& store, Contender contender,
                                           Done done);
  QueueEntry(Backend& backend, const kv::MvccStore& store, Contender contender, Done done);

  // Any thread. Gives up: `done` is not called any more and the entry's key is deleted. False if `done`
  // was already called (or is being called): the caller got the hold.
  bool abandon();

 private:
  void grant();
  void join();
  void joined(Result<etcdserverpb::TxnResponse> result);
  void proclaim();
  void wait();
  void finish(Result<Held> result);
  // Deletes the key if it is still the incarnation this entry created or found.
  void withdraw();
  // Whether the caller gave up; if so, withdraws what was made so far.
  bool gave_up();

  Backend& backend_;
  const kv::MvccStore& store_;
  Contender contender_;
  Done done_;

  std::mutex mutex_;
  bool settled_ = false;    // done_ called or abandoned
  bool abandoned_ = false;  // abandon() won
  Held held_;               // filled in as the steps learn it
  std::shared_ptr<PredecessorWait> wait_;
};

}  // namespace synod::api::recipe
