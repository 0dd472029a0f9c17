// The MVCC store's lease commands (declared in kv/mvcc_store.h), kept apart from the key-value commands
// in kv/mvcc_store.cc. Grants and renewals change no key, so they leave the revision alone, as in etcd;
// a revoke deletes the lease's keys through the store's ordinary delete, so they all share one revision
// and every observer of deletes sees them as deletes.
#include <vector>

#include "base/assert.h"
#include "kv/mvcc_errors.h"
#include "kv/mvcc_store.h"

namespace synod::kv {
namespace {

Status lease_not_found() {
  return Status(ErrorCode::kNotFound, std::string(kLeaseNotFoundMessage));
}

}  // namespace

Result<etcdserverpb::LeaseGrantResponse> MvccStore::grant_lease(
    const etcdserverpb::LeaseGrantRequest& request, Index index) {
  SYNOD_TRY_ASSIGN(int64_t id, leases_.grant(request.id(), request.ttl(), index));
  int64_t ttl = leases_.find(id)->ttl;
  if (lease_observer_ != nullptr) lease_observer_->lease_renewed(id, ttl);
  etcdserverpb::LeaseGrantResponse response;
  response.mutable_header()->set_revision(revision_);
  response.set_id(id);
  response.set_ttl(ttl);
  return response;
}

Result<etcdserverpb::LeaseKeepAliveResponse> MvccStore::renew_lease(
    const etcdserverpb::LeaseKeepAliveRequest& request) {
  const Lease* lease = leases_.find(request.id());
  if (lease == nullptr) return lease_not_found();
  if (lease_observer_ != nullptr) lease_observer_->lease_renewed(request.id(), lease->ttl);
  etcdserverpb::LeaseKeepAliveResponse response;
  response.mutable_header()->set_revision(revision_);
  response.set_id(request.id());
  response.set_ttl(lease->ttl);
  return response;
}

Status MvccStore::revoke_lease_keys(Write& write, int64_t id) {
  const Lease* lease = leases_.find(id);
  if (lease == nullptr) return lease_not_found();
  // Copied: the lease's key set changes once the write finishes.
  std::vector<std::string> keys(lease->keys.begin(), lease->keys.end());
  for (const std::string& key : keys) {
    etcdserverpb::DeleteRangeRequest request;
    request.set_key(key);
    etcdserverpb::DeleteRangeResponse deleted = delete_range(write, request);
    SYNOD_ASSERT_MSG(deleted.deleted() == 1, "a lease holds only live keys");
  }
  return Status::ok();
}

void MvccStore::forget_lease(int64_t id) {
  bool removed = leases_.remove(id);
  SYNOD_ASSERT(removed);
  if (lease_observer_ != nullptr) lease_observer_->lease_revoked(id);
}

void MvccStore::rebuild_lease_keys() {
  leases_.clear_keys();
  KeyRange everything;
  everything.kind = KeyRange::Kind::kFromKey;
  for (const KeyView& live : index_.range(everything, revision_)) {
    leases_.attach(live.record->lease, *live.key);
  }
}

}  // namespace synod::kv
