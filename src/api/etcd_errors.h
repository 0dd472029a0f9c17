// How Synod's errors reach an etcd client: as the gRPC status code and message etcd's server gives
// for the same error. etcd clients tell errors apart by their message (etcdctl prints it, clientv3
// compares it), so these texts must be etcd's exactly.
#pragma once

#include <grpcpp/support/status.h>

#include "base/status.h"

namespace synod::api {

// The etcd error for a request refused before consensus.
grpc::Status request_too_large();

// Maps an error from the MVCC store (whose messages are already etcd's, kv/mvcc_errors.h) or from
// the node (kTimedOut, kNoLeader, ...) to etcd's gRPC status.
grpc::Status to_grpc_status(const Status& status);

}  // namespace synod::api
