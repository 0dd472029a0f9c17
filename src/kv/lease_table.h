// LeaseTable: the replicated half of etcd's leases, kept by the MVCC store (kv/mvcc_store.h). A lease is
// an id, the TTL it was granted with, and the live keys attached to it. What is replicated is only what
// every member must agree on: which leases exist, their granted TTLs, and which keys they hold. When a
// lease expires is not replicated: that is time, and only the leader's clock decides it (the server's
// Lessor, server/lessor.h), which then proposes a revoke like any client would.
//
// The attached keys are not part of the snapshot: they follow from the keys themselves (each key's
// newest record names its lease), so the store rebuilds them on restore and they cannot disagree.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/status.h"

namespace synod::kv {

// etcd's MaxLeaseTTL, in seconds; a grant asking for more fails with kLeaseTtlTooLargeMessage.
inline constexpr int64_t kMaxLeaseTtl = 9'000'000'000;
inline constexpr std::string_view kLeaseExistsMessage = "etcdserver: lease already exists";
inline constexpr std::string_view kLeaseTtlTooLargeMessage = "etcdserver: too large lease TTL";

struct Lease {
  int64_t ttl = 0;  // granted, in seconds
  std::set<std::string, std::less<>> keys;
};

class LeaseTable {
 public:
  // Grants a lease with `ttl` seconds (at least 1: the server raises it to its minimum before it
  // proposes; this only keeps nonsense out of the table). `id` 0 asks the table to choose: it derives
  // one from `seed` (the grant's log index), so every replica chooses the same id, and skips ids in use.
  Result<int64_t> grant(int64_t id, int64_t ttl, uint64_t seed);
  // Forgets a lease (its keys must already be gone); false if there was none.
  bool remove(int64_t id);
  // nullptr if there is no such lease.
  const Lease* find(int64_t id) const;
  bool contains(int64_t id) const { return leases_.contains(id); }

  // A key now held by lease `id` / no longer held. Lease 0 and unknown leases are ignored: keys written
  // before leases were kept may name leases the table never had.
  void attach(int64_t id, std::string_view key);
  void detach(int64_t id, std::string_view key);
  void clear_keys();

  const std::map<int64_t, Lease>& leases() const { return leases_; }

  // The leases (ids ascending, with their TTLs), not their keys.
  void encode(ByteWriter& out) const;
  // Fills an empty table from what encode() wrote; refuses ids out of order, id 0 and TTLs out of range.
  Status decode(ByteReader& in);

 private:
  std::map<int64_t, Lease> leases_;
};

// Told about lease changes as the store applies them, on the thread that applies (the node loop). The
// server's Lessor keeps each lease's deadline from these.
class LeaseObserver {
 public:
  virtual ~LeaseObserver() = default;
  // Granted or renewed (a keepalive applied): the lease has `ttl` seconds from now.
  virtual void lease_renewed(int64_t id, int64_t ttl) = 0;
  virtual void lease_revoked(int64_t id) = 0;
  // The whole table was replaced (a snapshot was restored).
  virtual void leases_reset(const LeaseTable& table) = 0;
};

}  // namespace synod::kv
