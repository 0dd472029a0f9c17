// The keys of a semaphore named NAME (client/semaphore.h):
//   NAME              its permit count N, in decimal; no lease, so it outlives every contender
//   NAME/<lease hex>  one contender, bound to its session's lease, holding N as well
// and the requests that read them. Plain keys and Txns, so etcdctl can look at (and an operator repair)
// a semaphore.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "api/proto/kv.pb.h"
#include "api/proto/rpc.pb.h"

namespace synod::client::semaphore_keys {

std::string contender_prefix(const std::string& name);
std::string contender_key(const std::string& name, int64_t lease);
// etcd's end of the range of keys starting with `prefix`.
std::string prefix_end(const std::string& prefix);

// Whether `kv` (read under contender_prefix(name)) is a contender's key: one named after the lease it is
// bound to. Anything else under the prefix (another semaphore named NAME/x keeps its count at NAME/x)
// is not in the queue.
bool is_contender(const std::string& name, const mvccpb::KeyValue& kv);

std::optional<int> parse_permits(const std::string& value);

// Every key under the prefix, oldest first (keys, revisions and leases only).
etcdserverpb::RangeRequest contenders(const std::string& name);

}  // namespace synod::client::semaphore_keys
