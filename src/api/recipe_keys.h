// The keys and requests behind the Lock and Election services (api/lock_service.h,
// api/election_service.h), which follow etcd's concurrency recipes: a contender for `name` owns the key
// name/<lease id in hex>, created under its lease, and the contenders queue by the create revision of
// their keys (the lowest one holds the lock or leads). Everything is a plain KV request, so a server-side
// contender and a client-side one (etcdctl lock, etcdctl elect) queue together.
#pragma once

#include <cstdint>
#include <string>

#include "api/proto/rpc.pb.h"

namespace synod::api::recipe {

// "name/": the prefix every contender's key of `name` starts with.
std::string queue_prefix(const std::string& name);
// name/<lease in lowercase hex, as Go's %x prints an int64>.
std::string owner_key(const std::string& name, int64_t lease);
// The end of the range of every key starting with `prefix` (etcd's prefix range end).
std::string prefix_end(const std::string& prefix);

// The key under `prefix` with the lowest create revision: the holder or leader.
etcdserverpb::RangeRequest first_created(const std::string& prefix);
// The key under `prefix` with the highest create revision at most `max_create_revision`: the contender
// just ahead of one whose key was created at max_create_revision + 1 (keys only).
etcdserverpb::RangeRequest last_created_up_to(const std::string& prefix, int64_t max_create_revision);

// Joins the queue: if `key` does not exist, puts it (with `value`, under `lease`), else reads it; either
// way also reads first_created(prefix). responses[0] is the put or the read of `key`, responses[1] the
// holder.
etcdserverpb::TxnRequest join(const std::string& prefix, const std::string& key, const std::string& value,
                              int64_t lease);
// Runs `then` only while `key` is the incarnation created at `create_revision` (so a stale caller never
// touches a newer contender's key).
etcdserverpb::TxnRequest if_created_at(const std::string& key, int64_t create_revision,
                                       etcdserverpb::RequestOp then);
etcdserverpb::RequestOp put_op(const std::string& key, const std::string& value, int64_t lease);
etcdserverpb::RequestOp delete_op(const std::string& key);

}  // namespace synod::api::recipe
