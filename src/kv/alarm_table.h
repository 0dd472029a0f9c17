// AlarmTable: the alarms raised in the cluster (etcd's alarm store), part of the MVCC store's replicated
// state. An alarm is a (member, type) pair. Raising and clearing one are log commands, so every member
// agrees on which alarms are up at each index, and so on which writes the store refuses while they are:
//   - NOSPACE (a member found the store past --quota-backend-bytes): writes that add data (puts, txns
//     with a put in any branch, at any depth, lease grants) fail with etcd's "database space exceeded";
//     reads, deletes, compaction and lease revokes go on, so an operator can make room and disarm it.
//   - CORRUPT: every write fails with etcd's "corrupt cluster" until it is cleared.
#pragma once

#include <cstdint>
#include <set>
#include <utility>
#include <vector>

#include "api/proto/rpc.pb.h"
#include "api/proto/synod_kv.pb.h"
#include "base/bytes.h"
#include "base/status.h"

namespace synod::kv {

class AlarmTable {
 public:
  // Both return whether the table changed.
  bool raise(uint64_t member, etcdserverpb::AlarmType type);
  bool clear(uint64_t member, etcdserverpb::AlarmType type);
  // Raised by any member.
  bool active(etcdserverpb::AlarmType type) const;
  bool empty() const { return alarms_.empty(); }
  // Members ascending, then types.
  std::vector<etcdserverpb::AlarmMember> list() const;

  void encode(ByteWriter& out) const;
  // Fills an empty table from what encode() wrote; refuses unknown types, member 0 and disorder.
  Status decode(ByteReader& in);

 private:
  std::set<std::pair<uint64_t, int>> alarms_;
};

// About how many bytes a request would add to the store: 0 for requests that add nothing (deletes, txns
// without a put, ...). What a NOSPACE alarm refuses, and what the quota check (api/space_quota.h) adds.
uint64_t added_bytes(const etcdserverpb::PutRequest& put);
uint64_t added_bytes(const etcdserverpb::TxnRequest& txn);
uint64_t added_bytes(const etcdserverpb::LeaseGrantRequest& grant);
uint64_t added_bytes(const synodpb::Command& command);
inline bool adds_data(const synodpb::Command& command) {
  return added_bytes(command) > 0;
}
// Whether `command` writes keys or leases at all (what a CORRUPT alarm refuses; alarm commands and
// member publications never do).
bool writes(const synodpb::Command& command);

}  // namespace synod::kv
