// LeaseKeepAliveStream: one LeaseKeepAlive call. Like etcd's server it handles one request at a time:
// read a request, propose the renewal (a replicated command, server/lessor.h says why), write the
// answer, read the next. A keepalive for a lease that does not exist (any more) is answered with TTL 0,
// as etcd does; any other failure (no leader, timed out) ends the stream with etcd's error, and the
// client opens a new one.
#pragma once

#include <grpcpp/grpcpp.h>

#include "api/backend.h"
#include "api/proto/lease.grpc.pb.h"
#include "kv/mvcc_store.h"

namespace synod::api {

class LeaseKeepAliveStream final : public grpc::ServerBidiReactor<etcdserverpb::LeaseKeepAliveRequest,
                                                                  etcdserverpb::LeaseKeepAliveResponse> {
 public:
  // Starts reading at once; deletes itself when the call is done. `store` is read only in completions
  // (they run on the node loop thread).
  LeaseKeepAliveStream(Backend& backend, const kv::MvccStore& store);

  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnDone() override { delete this; }

 private:
  void renewed(int64_t id, const Result<std::string>& result);

  Backend& backend_;
  const kv::MvccStore& store_;
  etcdserverpb::LeaseKeepAliveRequest request_;
  etcdserverpb::LeaseKeepAliveResponse response_;
};

}  // namespace synod::api
