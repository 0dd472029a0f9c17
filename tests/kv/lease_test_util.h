// Lease commands for the MVCC store tests, run through apply() as the next log entry like the others in
// kv/mvcc_test_util.h.
#pragma once

#include "kv/mvcc_test_util.h"

namespace synod::kv::test {

inline Result<etcdserverpb::LeaseGrantResponse> grant(Harness& h, int64_t id, int64_t ttl = 60) {
  etcdserverpb::LeaseGrantRequest request;
  request.set_id(id);
  request.set_ttl(ttl);
  return decode_result<etcdserverpb::LeaseGrantResponse>(h.apply_bytes(encode_command(request)));
}

inline Result<etcdserverpb::LeaseRevokeResponse> revoke(Harness& h, int64_t id) {
  etcdserverpb::LeaseRevokeRequest request;
  request.set_id(id);
  return decode_result<etcdserverpb::LeaseRevokeResponse>(h.apply_bytes(encode_command(request)));
}

inline Result<etcdserverpb::LeaseKeepAliveResponse> renew(Harness& h, int64_t id) {
  etcdserverpb::LeaseKeepAliveRequest request;
  request.set_id(id);
  return decode_result<etcdserverpb::LeaseKeepAliveResponse>(h.apply_bytes(encode_command(request)));
}

}  // namespace synod::kv::test
