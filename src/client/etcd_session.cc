#include "client/etcd_session.h"

namespace synod::client {

using namespace std::chrono_literals;

Result<std::unique_ptr<EtcdSession>> EtcdSession::open(EtcdConnection& connection, std::chrono::seconds ttl,
                                                       Deadline deadline, Cancellation* cancel) {
  if (ttl.count() <= 0) return Status(ErrorCode::kInvalidArgument, "a session's TTL must be positive");
  Clock::time_point sent = Clock::now();
  Result<etcdserverpb::LeaseGrantResponse> granted = connection.grant(ttl.count(), deadline, cancel);
  if (!granted.is_ok()) return granted.status();
  return std::unique_ptr<EtcdSession>(
      new EtcdSession(connection, granted.value().id(), std::chrono::seconds(granted.value().ttl()), sent));
}

EtcdSession::EtcdSession(EtcdConnection& connection, int64_t lease, std::chrono::seconds ttl,
                         Clock::time_point granted_at)
    : connection_(connection), lease_(lease), ttl_(ttl), keeper_(connection, lease, ttl, granted_at) {}

EtcdSession::~EtcdSession() {
  // Best effort: should the revoke not get through, the lease expires within its TTL anyway.
  (void)close(Clock::now() + 2s);
}

Status EtcdSession::close(Deadline deadline) {
  {
    std::lock_guard lock(mutex_);
    if (closed_) return Status::ok();
    closed_ = true;
  }
  keeper_.stop();
  return connection_.revoke(lease_, deadline);
}

bool EtcdSession::claim(const std::string& key) {
  std::lock_guard lock(mutex_);
  return claimed_.insert(key).second;
}

void EtcdSession::unclaim(const std::string& key) {
  std::lock_guard lock(mutex_);
  claimed_.erase(key);
}

}  // namespace synod::client
