#include "kv/lease_table.h"

#include <algorithm>

#include "base/assert.h"
#include "kv/mvcc_errors.h"

namespace synod::kv {
namespace {

// Scatters log indexes over the positive int64s, so chosen ids look like etcd's (random, 16 hex digits)
// and rarely meet ids clients chose themselves (often small numbers). A bijection on uint64 (the
// splitmix64 finalizer), so consecutive seeds never give the same id before the top bit is cleared.
uint64_t scatter(uint64_t x) {
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

Status corrupt(const std::string& what) {
  return Status(ErrorCode::kCorruption, "lease table: " + what);
}

}  // namespace

Result<int64_t> LeaseTable::grant(int64_t id, int64_t ttl, uint64_t seed) {
  if (ttl > kMaxLeaseTtl) return invalid(kLeaseTtlTooLargeMessage);
  if (id != 0 && leases_.contains(id)) return invalid(kLeaseExistsMessage);
  for (uint64_t next = seed; id == 0 || leases_.contains(id); ++next) {
    id = static_cast<int64_t>(scatter(next) & static_cast<uint64_t>(INT64_MAX));
  }
  leases_[id].ttl = std::max<int64_t>(ttl, 1);
  return id;
}

bool LeaseTable::remove(int64_t id) {
  return leases_.erase(id) == 1;
}

const Lease* LeaseTable::find(int64_t id) const {
  auto found = leases_.find(id);
  return found == leases_.end() ? nullptr : &found->second;
}

void LeaseTable::attach(int64_t id, std::string_view key) {
  auto found = leases_.find(id);
  if (found != leases_.end()) found->second.keys.emplace(key);
}

void LeaseTable::detach(int64_t id, std::string_view key) {
  auto found = leases_.find(id);
  if (found == leases_.end()) return;
  auto held = found->second.keys.find(key);
  if (held != found->second.keys.end()) found->second.keys.erase(held);
}

void LeaseTable::clear_keys() {
  for (auto& [id, lease] : leases_) lease.keys.clear();
}

void LeaseTable::encode(ByteWriter& out) const {
  out.put_varint(leases_.size());
  for (const auto& [id, lease] : leases_) {
    out.put_varint(static_cast<uint64_t>(id));
    out.put_varint(static_cast<uint64_t>(lease.ttl));
  }
}

Status LeaseTable::decode(ByteReader& in) {
  SYNOD_ASSERT(leases_.empty());
  SYNOD_TRY_ASSIGN(uint64_t count, in.varint());
  // Each lease takes at least two bytes: a count beyond that is a lie, not a reason to loop for long.
  if (count > in.rest().size() / 2) return corrupt("more leases than bytes");
  for (uint64_t i = 0; i < count; ++i) {
    SYNOD_TRY_ASSIGN(uint64_t raw_id, in.varint());
    SYNOD_TRY_ASSIGN(uint64_t ttl, in.varint());
    auto id = static_cast<int64_t>(raw_id);
    if (id == 0) return corrupt("lease id 0");
    if (!leases_.empty() && id <= leases_.rbegin()->first) return corrupt("lease ids out of order");
    if (ttl < 1 || ttl > static_cast<uint64_t>(kMaxLeaseTtl)) return corrupt("a TTL out of range");
    leases_.emplace_hint(leases_.end(), id, Lease{static_cast<int64_t>(ttl), {}});
  }
  return Status::ok();
}

}  // namespace synod::kv
