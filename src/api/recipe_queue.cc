#include "api/recipe_queue.h"

#include <utility>

#include "api/proto/lease.pb.h"
#include "api/recipe_errors.h"
#include "api/recipe_keys.h"
#include "api/recipe_ops.h"

namespace synod::api::recipe {
namespace {

// etcd's session TTL when its servers make a session for a request without a lease.
constexpr int64_t kDefaultSessionTtl = 60;

}  // namespace

std::shared_ptr<QueueEntry> QueueEntry::start(Backend& backend, const kv::MvccStore& store,
                                              Contender contender, Done done) {
  auto entry = std::make_shared<QueueEntry>(backend, store, std::move(contender), std::move(done));
  if (entry->contender_.lease == 0) {
    entry->grant();
  } else {
    entry->held_.lease = entry->contender_.lease;
    entry->join();
  }
  return entry;
}

QueueEntry::QueueEntry(Backend& backend, const kv::MvccStore& store, Contender contender, Done done)
    : backend_(backend), store_(store), contender_(std::move(contender)), done_(std::move(done)) {}

bool QueueEntry::abandon() {
  std::shared_ptr<PredecessorWait> wait;
  bool joined = false;
  {
    std::lock_guard lock(mutex_);
    if (settled_) return false;
    settled_ = true;
    abandoned_ = true;
    wait = std::move(wait_);
    joined = held_.create_revision != 0;
  }
  if (wait) wait->cancel();
  // Not joined yet: the step in flight sees abandoned_ and withdraws when it completes.
  if (joined) withdraw();
  return true;
}

bool QueueEntry::gave_up() {
  bool joined = false;
  {
    std::lock_guard lock(mutex_);
    if (!abandoned_) return false;
    joined = held_.create_revision != 0;
  }
  if (joined) withdraw();
  return true;
}

void QueueEntry::grant() {
  etcdserverpb::LeaseGrantRequest request;
  request.set_ttl(kDefaultSessionTtl);
  std::shared_ptr<QueueEntry> self = shared_from_this();
  propose<etcdserverpb::LeaseGrantResponse>(backend_, request,
                                            [self](Result<etcdserverpb::LeaseGrantResponse> result) {
                                              if (self->gave_up()) return;
                                              if (!result.is_ok()) return self->finish(result.status());
                                              {
                                                std::lock_guard lock(self->mutex_);
                                                self->held_.lease = result.value().id();
                                              }
                                              self->join();
                                            });
}

void QueueEntry::join() {
  int64_t lease = 0;
  std::string key;
  {
    std::lock_guard lock(mutex_);
    lease = held_.lease;
    key = owner_key(contender_.name, lease);
    held_.key = key;
  }
  std::shared_ptr<QueueEntry> self = shared_from_this();
  propose<etcdserverpb::TxnResponse>(
      backend_, recipe::join(queue_prefix(contender_.name), key, contender_.value, lease),
      [self](Result<etcdserverpb::TxnResponse> result) { self->joined(std::move(result)); });
}

void QueueEntry::joined(Result<etcdserverpb::TxnResponse> result) {
  if (!result.is_ok()) {
    if (gave_up()) return;
    return finish(result.status());
  }
  const etcdserverpb::TxnResponse& txn = result.value();
  if (txn.responses_size() != 2) return finish(Status(ErrorCode::kCorruption, "bad join answer"));
  int64_t mine = txn.header().revision();
  bool differs = false;
  if (!txn.succeeded()) {
    const etcdserverpb::RangeResponse& found = txn.responses(0).response_range();
    // Gone between compare and read is impossible (one revision); an empty answer means a bad store.
    if (found.kvs_size() != 1) return finish(Status(ErrorCode::kCorruption, "bad join answer"));
    mine = found.kvs(0).create_revision();
    differs = found.kvs(0).value() != contender_.value;
  }
  const etcdserverpb::RangeResponse& holder = txn.responses(1).response_range();
  bool holds = holder.kvs_size() == 0 || holder.kvs(0).create_revision() == mine;
  {
    std::lock_guard lock(mutex_);
    held_.create_revision = mine;
    held_.join_revision = txn.header().revision();
    held_.held_revision = txn.header().revision();
  }
  if (gave_up()) return;
  if (differs && contender_.proclaim_existing) return proclaim();
  if (!holds) return wait();
  Held held;
  {
    std::lock_guard lock(mutex_);
    held = held_;
  }
  finish(std::move(held));
}

void QueueEntry::proclaim() {
  Held held;
  {
    std::lock_guard lock(mutex_);
    held = held_;
  }
  std::shared_ptr<QueueEntry> self = shared_from_this();
  propose<etcdserverpb::TxnResponse>(
      backend_, if_created_at(held.key, held.create_revision, put_op(held.key, contender_.value, held.lease)),
      [self](Result<etcdserverpb::TxnResponse> result) {
        if (self->gave_up()) return;
        if (!result.is_ok()) return self->finish(result.status());
        if (!result.value().succeeded()) {
          // The key went meanwhile: etcd's Campaign resigns and fails.
          self->withdraw();
          return self->finish(recipe_error(kNotLeaderMessage));
        }
        self->wait();
      });
}

void QueueEntry::wait() {
  Held held;
  {
    std::lock_guard lock(mutex_);
    held = held_;
  }
  std::shared_ptr<QueueEntry> self = shared_from_this();
  std::shared_ptr<PredecessorWait> wait =
      PredecessorWait::start(backend_, store_, queue_prefix(contender_.name), held.key, held.create_revision,
                             contender_.expired, [self](Result<int64_t> result) {
                               if (!result.is_ok()) {
                                 // etcd's recipes release the key when the wait fails.
                                 self->withdraw();
                                 return self->finish(result.status());
                               }
                               Held out;
                               {
                                 std::lock_guard lock(self->mutex_);
                                 self->held_.held_revision = result.value();
                                 out = self->held_;
                               }
                               self->finish(std::move(out));
                             });
  bool cancel = false;
  {
    std::lock_guard lock(mutex_);
    if (abandoned_) {
      cancel = true;
    } else {
      wait_ = wait;
    }
  }
  // abandon() ran while the wait started: it could not see it, so it is cancelled here.
  if (cancel) wait->cancel();
}

void QueueEntry::finish(Result<Held> result) {
  {
    std::lock_guard lock(mutex_);
    if (settled_) return;
    settled_ = true;
    wait_.reset();
  }
  done_(std::move(result));
}

void QueueEntry::withdraw() {
  Held held;
  {
    std::lock_guard lock(mutex_);
    held = held_;
  }
  if (held.create_revision == 0) return;
  // Best effort: if this fails (the node stopped) the lease still ends the key.
  propose<etcdserverpb::TxnResponse>(backend_,
                                     if_created_at(held.key, held.create_revision, delete_op(held.key)),
                                     [](const Result<etcdserverpb::TxnResponse>&) {});
}

}  // namespace synod::api::recipe
