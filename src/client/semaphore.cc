#include "client/semaphore.h"

#include <thread>
#include <utility>

#include "client/semaphore_keys.h"
#include "client/watch_stream.h"

namespace synod::client {

using namespace std::chrono_literals;
namespace keys = semaphore_keys;

namespace {

// How long one watch stream is trusted before the waiter reads the queue afresh: bounds the time a
// waiter stays blind behind a member that froze without breaking the stream.
constexpr auto kWatchRound = 3s;

etcdserverpb::Compare compare_create(const std::string& key, const std::string& range_end, int64_t revision) {
  etcdserverpb::Compare compare;
  compare.set_key(key);
  compare.set_range_end(range_end);
  compare.set_target(etcdserverpb::Compare::CREATE);
  compare.set_result(etcdserverpb::Compare::EQUAL);
  compare.set_create_revision(revision);
  return compare;
}

etcdserverpb::Compare compare_value(const std::string& key, const std::string& value) {
  etcdserverpb::Compare compare;
  compare.set_key(key);
  compare.set_target(etcdserverpb::Compare::VALUE);
  compare.set_result(etcdserverpb::Compare::EQUAL);
  compare.set_value(value);
  return compare;
}

etcdserverpb::RequestOp get_op(const std::string& key) {
  etcdserverpb::RequestOp op;
  op.mutable_request_range()->set_key(key);
  return op;
}

etcdserverpb::RequestOp put_op(const std::string& key, const std::string& value, int64_t lease) {
  etcdserverpb::RequestOp op;
  op.mutable_request_put()->set_key(key);
  op.mutable_request_put()->set_value(value);
  op.mutable_request_put()->set_lease(lease);
  return op;
}

// The one key a range of one key found, if any.
const mvccpb::KeyValue* found(const etcdserverpb::ResponseOp& op) {
  if (!op.has_response_range() || op.response_range().kvs_size() == 0) return nullptr;
  return &op.response_range().kvs(0);
}

}  // namespace

// --- Permit ------------------------------------------------------------------------------------------------

Permit::Permit(EtcdSession* session, std::string name, std::string key, int64_t token, int permits)
    : session_(session), name_(std::move(name)), key_(std::move(key)), token_(token), permits_(permits) {}

Permit::Permit(Permit&& other) noexcept
    : session_(std::exchange(other.session_, nullptr)),
      name_(std::move(other.name_)),
      key_(std::move(other.key_)),
      token_(other.token_),
      permits_(other.permits_) {}

Permit& Permit::operator=(Permit&& other) noexcept {
  if (this != &other) {
    (void)release(Clock::now() + 2s);
    session_ = std::exchange(other.session_, nullptr);
    name_ = std::move(other.name_);
    key_ = std::move(other.key_);
    token_ = other.token_;
    permits_ = other.permits_;
  }
  return *this;
}

Permit::~Permit() {
  (void)release(Clock::now() + 2s);
}

int64_t Permit::lease() const {
  return session_ != nullptr ? session_->lease() : 0;
}

bool Permit::valid() const {
  return session_ != nullptr && session_->valid();
}

etcdserverpb::Compare Permit::guard() const {
  return compare_create(key_, "", token_);
}

Status Permit::release(Deadline deadline) {
  if (session_ == nullptr) return Status::ok();
  etcdserverpb::TxnRequest request;
  *request.add_compare() = guard();
  request.add_success()->mutable_request_delete_range()->set_key(key_);
  Result<etcdserverpb::TxnResponse> deleted = session_->connection().txn(request, deadline);
  if (!deleted.is_ok()) return deleted.status();
  // Not succeeded: the key had already gone with the lease; released either way.
  session_->unclaim(key_);
  session_ = nullptr;
  return Status::ok();
}

// --- Semaphore ---------------------------------------------------------------------------------------------

Semaphore::Semaphore(EtcdSession& session, std::string name, int permits)
    : session_(session), name_(std::move(name)), permits_(permits) {}

Result<Permit> Semaphore::acquire(Deadline deadline, Cancellation* cancel) {
  if (name_.empty()) return Status(ErrorCode::kInvalidArgument, "a semaphore needs a name");
  if (permits_ < 1) return Status(ErrorCode::kInvalidArgument, "a semaphore needs at least one permit");
  if (!session_.valid()) return Status(ErrorCode::kUnavailable, session_.lost_reason());
  std::string key = keys::contender_key(name_, session_.lease());
  if (!session_.claim(key)) {
    return Status(ErrorCode::kInvalidArgument, "this session already holds or waits for " + name_);
  }
  // One source of stops for the whole wait: the caller's, and the lease going.
  Cancellation stop;
  Cancellation::Registration by_caller(cancel, [&stop](const std::string& why) { stop.cancel(why); });
  Cancellation::Registration by_lease(&session_.lost(),
                                      [&stop](const std::string& why) { stop.cancel(why); });

  Result<int64_t> created = join(key, deadline, &stop);
  Status waited = created.is_ok() ? wait_turn(key, created.value(), deadline, &stop) : created.status();
  if (waited.is_ok() && !session_.valid()) waited = Status(ErrorCode::kUnavailable, session_.lost_reason());
  if (waited.is_ok()) return Permit(&session_, name_, key, created.value(), permits_);

  if (created.is_ok()) {
    (void)remove(key, created.value());
  } else if (created.status().code() == ErrorCode::kTimedOut ||
             created.status().code() == ErrorCode::kAborted) {
    // The put may have been applied after all; only a key of that incarnation would be ours.
    (void)remove(key, 0);
  }
  session_.unclaim(key);
  if (waited.code() == ErrorCode::kAborted && session_.lost().cancelled()) {
    return Status(ErrorCode::kUnavailable, waited.message());
  }
  return waited;
}

Status Semaphore::remove(const std::string& key, int64_t created) {
  etcdserverpb::TxnRequest request;
  // Created 0: "whatever incarnation exists", only used for a key whose put had an unknown outcome (the
  // key embeds this session's lease, so no one else's key can have its name).
  if (created != 0) *request.add_compare() = compare_create(key, "", created);
  request.add_success()->mutable_request_delete_range()->set_key(key);
  return session_.connection().txn(request, Clock::now() + 2s).status();
}

Result<int64_t> Semaphore::join(const std::string& key, Deadline deadline, Cancellation* cancel) {
  const std::string count = std::to_string(permits_);
  for (int attempt = 0;; ++attempt) {
    etcdserverpb::TxnRequest request;
    *request.add_compare() = compare_value(name_, count);
    *request.add_compare() = compare_create(key, "", 0);
    *request.add_success() = put_op(key, count, session_.lease());
    *request.add_failure() = get_op(name_);
    *request.add_failure() = get_op(key);
    Result<etcdserverpb::TxnResponse> joined = session_.connection().txn(request, deadline, cancel);
    if (!joined.is_ok()) return joined.status();
    const etcdserverpb::TxnResponse& response = joined.value();
    // A Txn's writes all carry its revision, so that is the key's create revision.
    if (response.succeeded()) return response.header().revision();
    if (response.responses_size() == 2 && found(response.responses(1)) != nullptr) {
      // An earlier attempt whose answer was lost did put it.
      return found(response.responses(1))->create_revision();
    }
    // NAME is absent or holds another count.
    SYNOD_TRY(define_permits(deadline, cancel));
    if (attempt > 0) {
      // Two contenders with different counts taking turns at an idle semaphore: let one of them win.
      std::this_thread::sleep_for(std::chrono::milliseconds(10 * std::min(attempt, 20)));
    }
    if (Clock::now() >= deadline) return Status(ErrorCode::kTimedOut, "could not join the queue of " + name_);
  }
}

Status Semaphore::define_permits(Deadline deadline, Cancellation* cancel) {
  const std::string prefix = keys::contender_prefix(name_);
  etcdserverpb::TxnRequest request;
  // Nobody queued: every key under the prefix has create revision 0, which an empty range satisfies.
  *request.add_compare() = compare_create(prefix, keys::prefix_end(prefix), 0);
  *request.add_success() = put_op(name_, std::to_string(permits_), 0);
  *request.add_failure() = get_op(name_);
  Result<etcdserverpb::TxnResponse> defined = session_.connection().txn(request, deadline, cancel);
  if (!defined.is_ok()) return defined.status();
  if (defined.value().succeeded()) return Status::ok();
  const mvccpb::KeyValue* current =
      defined.value().responses_size() == 1 ? found(defined.value().responses(0)) : nullptr;
  if (current == nullptr) {
    return Status(ErrorCode::kInvalidArgument, "semaphore " + name_ +
                                                   " has contenders but no permit count at " + name_ +
                                                   " (deleted by hand?); wait until they are gone");
  }
  std::optional<int> in_force = keys::parse_permits(current->value());
  if (in_force == permits_) return Status::ok();  // it changed meanwhile; join again
  return Status(ErrorCode::kInvalidArgument,
                "semaphore " + name_ + " has " +
                    (in_force ? std::to_string(*in_force) : "'" + current->value() + "'") +
                    " permits while contenders hold or wait; asked for " + std::to_string(permits_));
}

Status Semaphore::wait_turn(const std::string& key, int64_t created, Deadline deadline, Cancellation* stop) {
  while (true) {
    if (stop->cancelled()) return Status(ErrorCode::kAborted, stop->reason());
    if (Clock::now() >= deadline) {
      return Status(ErrorCode::kTimedOut, "no permit of " + name_ + " became free in time");
    }
    Result<etcdserverpb::RangeResponse> read =
        session_.connection().range(keys::contenders(name_), deadline, stop);
    if (!read.is_ok()) return read.status();
    bool mine = false;
    std::set<std::string> ahead;
    for (const mvccpb::KeyValue& kv : read.value().kvs()) {
      if (kv.key() == key) mine = kv.create_revision() == created;
      if (keys::is_contender(name_, kv) && kv.create_revision() < created) ahead.insert(kv.key());
    }
    if (!mine) {
      return Status(
          ErrorCode::kUnavailable,
          key + " is gone while waiting (its lease expired or it was deleted); " + session_.lost_reason());
    }
    if (ahead.size() < static_cast<size_t>(permits_)) return Status::ok();
    SYNOD_TRY(watch_ahead(key, ahead, read.value().header().revision() + 1, deadline, stop));
  }
}

Status Semaphore::watch_ahead(const std::string& key, std::set<std::string>& ahead, int64_t from,
                              Deadline deadline, Cancellation* stop) {
  etcdserverpb::WatchCreateRequest create;
  create.set_key(keys::contender_prefix(name_));
  create.set_range_end(keys::prefix_end(create.key()));
  create.set_start_revision(from);
  create.add_filters(etcdserverpb::WatchCreateRequest::NOPUT);  // new keys queue behind: only deletes matter
  Clock::time_point opened = Clock::now();
  WatchStream stream(session_.connection(), create, earlier(deadline, opened + kWatchRound), stop);
  etcdserverpb::WatchResponse response;
  while (stream.next(response)) {
    if (response.canceled()) break;  // e.g. compacted past `from`: read the queue again
    for (const mvccpb::Event& event : response.events()) {
      if (event.type() != mvccpb::Event::DELETE) continue;
      if (event.kv().key() == key) {
        return Status(ErrorCode::kUnavailable, key + " was deleted while waiting (its lease expired?)");
      }
      ahead.erase(event.kv().key());
    }
    if (ahead.size() < static_cast<size_t>(permits_)) return Status::ok();
  }
  // A stream that failed at once (a member down) must not spin: the next read moves to another member.
  if (!stream.ended().is_ok() && Clock::now() - opened < 100ms) std::this_thread::sleep_for(100ms);
  return Status::ok();
}

}  // namespace synod::client
