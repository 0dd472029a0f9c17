// SpaceQuota: etcd's --quota-backend-bytes. Before a member proposes a write that adds data, it checks
// that the store (as of the last command it applied) plus the write stays within the quota. If not, it
// refuses the write with etcd's "database space exceeded" and raises the NOSPACE alarm through the log,
// so every member then refuses such writes in the same place of the log (kv/alarm_table.h) until an
// operator makes room (compaction, deletes) and disarms it (`etcdctl alarm disarm`).
//
// The check is per member and against what it has applied, as in etcd: a write that passes it on a
// member that is behind may still be refused on apply if the alarm is up by then, and writes that pass
// before the alarm is applied may take the store a little past the quota.
#pragma once

#include <atomic>
#include <cstdint>

#include "api/backend.h"
#include "base/status.h"
#include "kv/mvcc_store.h"

namespace synod::api {

// etcd's default quota (2 GiB), for --quota-backend-bytes 0.
inline constexpr int64_t kDefaultQuotaBytes = int64_t{2} << 30U;

class SpaceQuota {
 public:
  // `quota_bytes` <= 0 turns the check off (the store still obeys an alarm raised by another member).
  SpaceQuota(Backend& backend, const kv::MvccStore& store, int64_t quota_bytes)
      : backend_(backend), store_(store), quota_bytes_(quota_bytes) {}

  // Ok, or kNoSpace (after raising the alarm) when `added` more bytes would pass the quota. Thread-safe.
  Status admit(uint64_t added);

 private:
  void raise_alarm();

  Backend& backend_;
  const kv::MvccStore& store_;
  const int64_t quota_bytes_;
  // One alarm proposal at a time: a burst of refused writes needs only one.
  std::atomic<bool> raising_{false};
};

}  // namespace synod::api
