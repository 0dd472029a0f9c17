#include "server/lessor.h"

#include <utility>
#include <vector>

#include "base/assert.h"
#include "kv/mvcc_codec.h"
#include "kv/mvcc_errors.h"

namespace synod::server {
namespace {

std::chrono::seconds seconds(int64_t ttl) {
  return std::chrono::seconds(ttl);
}

}  // namespace

Lessor::Lessor(LessorOptions options) : options_(std::move(options)) {
  SYNOD_ASSERT(options_.now && options_.leading_term && options_.propose);
}

Lessor::~Lessor() {
  stop();
}

void Lessor::check() {
  std::optional<uint64_t> term = options_.leading_term();
  std::vector<int64_t> expired;
  {
    std::lock_guard lock(mutex_);
    LessorOptions::TimePoint now = options_.now();
    if (!term) {
      leading_term_.reset();
      return;
    }
    if (leading_term_ != term) {
      // Promoted: nobody's deadline can be trusted to be fresh, so everyone gets a full TTL, and the
      // time to find this leader.
      leading_term_ = term;
      for (auto& [id, lease] : leases_) lease.at = now + seconds(lease.ttl) + options_.promotion_extension;
    }
    for (auto& [id, lease] : leases_) {
      if (expired.size() >= options_.max_revokes_per_check) break;
      if (lease.revoking || lease.at > now) continue;
      lease.revoking = true;
      expired.push_back(id);
    }
  }
  for (int64_t id : expired) {
    etcdserverpb::LeaseRevokeRequest request;
    request.set_id(id);
    options_.propose(kv::encode_command(request),
                     [this, id](Result<std::string> result) { revoke_done(id, result); });
  }
}

void Lessor::revoke_done(int64_t id, const Result<std::string>& result) {
  Status status = result.is_ok()
                      ? kv::decode_result<etcdserverpb::LeaseRevokeResponse>(result.value()).status()
                      : result.status();
  std::lock_guard lock(mutex_);
  auto found = leases_.find(id);
  if (found == leases_.end()) return;  // revoked (by this or another revoke) and forgotten already
  if (status.message() == kv::kLeaseNotFoundMessage) {
    leases_.erase(found);  // gone from the store: nothing left to expire
    return;
  }
  // Failed without effect, or applied before this member heard of it: the next check decides again.
  found->second.revoking = false;
}

void Lessor::start() {
  SYNOD_ASSERT(!thread_.joinable());
  {
    std::lock_guard lock(mutex_);
    stopping_ = false;
  }
  thread_ = std::thread([this] { run(); });
}

void Lessor::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Lessor::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    wake_.wait_for(lock, options_.check_interval, [this] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    check();
    lock.lock();
  }
}

std::optional<std::chrono::milliseconds> Lessor::remaining(int64_t id) const {
  std::lock_guard lock(mutex_);
  auto found = leases_.find(id);
  if (found == leases_.end()) return std::nullopt;
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(found->second.at - options_.now());
  return std::max(left, std::chrono::milliseconds(0));
}

size_t Lessor::revokes_in_flight() const {
  std::lock_guard lock(mutex_);
  size_t count = 0;
  for (const auto& [id, lease] : leases_) count += lease.revoking ? 1 : 0;
  return count;
}

void Lessor::lease_renewed(int64_t id, int64_t ttl) {
  std::lock_guard lock(mutex_);
  Deadline& lease = leases_[id];
  lease.ttl = ttl;
  lease.at = options_.now() + seconds(ttl);
}

void Lessor::lease_revoked(int64_t id) {
  std::lock_guard lock(mutex_);
  leases_.erase(id);
}

void Lessor::leases_reset(const kv::LeaseTable& table) {
  std::lock_guard lock(mutex_);
  LessorOptions::TimePoint now = options_.now();
  std::map<int64_t, Deadline> fresh;
  for (const auto& [id, lease] : table.leases()) {
    auto kept = leases_.find(id);
    // A lease this member already times keeps its deadline and any revoke in flight; a new one gets a
    // full TTL (a restored snapshot says nothing about when leases were last renewed).
    fresh[id] = kept != leases_.end() ? kept->second : Deadline{lease.ttl, now + seconds(lease.ttl), false};
    fresh[id].ttl = lease.ttl;
  }
  leases_ = std::move(fresh);
}

}  // namespace synod::server
