// A checksum of the key-value state as of a revision, for etcd's Hash and HashKV: two members that
// applied the same log report the same value, so comparing them is a cheap consistency check between
// replicas. It covers every key live at the revision with its value, create and mod revisions,
// version and lease, in key order (CRC32C), plus the compact revision. etcd's HashKV also covers the
// history between the compact revision and the revision; Synod hashes the state at the revision,
// which still differs whenever two replicas applied different writes up to it.
#pragma once

#include <cstdint>

#include "base/status.h"
#include "kv/mvcc_store.h"

namespace synod::kv {

// `revision` 0 means the store's newest. Errors: etcd's ErrCompacted and ErrFutureRev.
Result<uint32_t> hash_kv(const MvccStore& store, int64_t revision);

}  // namespace synod::kv
