// The checks etcd makes on a request before it reaches consensus. The API layer runs them to refuse a
// bad request at once; the MVCC store runs them again when it applies a command, because anyone who
// can propose can put any bytes in the log.
#pragma once

#include <cstddef>

#include "api/proto/rpc.pb.h"
#include "base/status.h"

namespace synod::kv {

// etcd's default for --max-txn-ops.
inline constexpr size_t kDefaultMaxTxnOps = 128;

Status check_range(const etcdserverpb::RangeRequest& request);
Status check_put(const etcdserverpb::PutRequest& request);
Status check_delete_range(const etcdserverpb::DeleteRangeRequest& request);
// Also refuses a txn that could write one key twice (etcd's rule: a key put twice, or put and deleted,
// on any path that can run together; the success and failure branches never run together).
Status check_txn(const etcdserverpb::TxnRequest& request, size_t max_txn_ops);

}  // namespace synod::kv
