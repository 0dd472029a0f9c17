// EtcdConnection: a client of a Synod (or etcd) cluster over the etcd v3 gRPC API, for the client-side
// recipes (client/semaphore.h) and synodctl.
//
// One gRPC channel per endpoint, and one endpoint in use at a time: a call that fails in a way another
// member might not (the member is down, has no leader, is overloaded, timed out) moves on to the next
// endpoint and is tried again until the caller's deadline. gRPC's own multi-address balancing would
// hide a member that answers but cannot serve ("etcdserver: no leader"); rotating on the answer does not.
//
// Retrying means a write may be applied more than once, so only writes whose repetition is harmless go
// through here: the recipes make every write conditional (a Txn on a create revision) or idempotent
// (revoke, a delete of one incarnation). A retried grant can leave an unused lease behind; it expires
// after its TTL with no keys.
//
// Thread-safe: calls from many threads share the channels.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "api/proto/lease.grpc.pb.h"
#include "api/proto/rpc.grpc.pb.h"
#include "api/proto/watch.grpc.pb.h"
#include "base/status.h"
#include "client/cancellation.h"
#include "client/deadline.h"

namespace synod::client {

struct ConnectionOptions {
  std::vector<std::string> endpoints;  // host:port
  // The longest one attempt may take before the next endpoint is tried.
  std::chrono::milliseconds attempt_timeout{2000};
};

// "a:1,b:2" (an http:// prefix, as etcdctl allows, is dropped) into host:port endpoints.
Result<std::vector<std::string>> parse_endpoints(const std::string& comma_separated);

class EtcdConnection {
 public:
  explicit EtcdConnection(ConnectionOptions options);
  EtcdConnection(const EtcdConnection&) = delete;
  EtcdConnection& operator=(const EtcdConnection&) = delete;

  // Each retries until `deadline` as described above; a cancelled `cancel` ends them with kAborted.
  // kTimedOut: no endpoint answered in time (a write may still take effect).
  Result<etcdserverpb::RangeResponse> range(const etcdserverpb::RangeRequest& request, Deadline deadline,
                                            Cancellation* cancel = nullptr);
  Result<etcdserverpb::TxnResponse> txn(const etcdserverpb::TxnRequest& request, Deadline deadline,
                                        Cancellation* cancel = nullptr);
  Result<etcdserverpb::LeaseGrantResponse> grant(int64_t ttl_seconds, Deadline deadline,
                                                 Cancellation* cancel = nullptr);
  // A lease that is already gone counts as revoked.
  Status revoke(int64_t lease, Deadline deadline, Cancellation* cancel = nullptr);
  // One renewal through a LeaseKeepAlive stream of its own: the TTL the lease was renewed with, 0 if
  // the lease does not exist any more.
  Result<int64_t> keep_alive(int64_t lease, Deadline deadline, Cancellation* cancel = nullptr);

  // For streams the caller drives itself (client/watch_stream.h): the endpoint in use and its stub;
  // report a broken stream with failed() so the next attempt goes elsewhere.
  struct WatchTarget {
    size_t endpoint = 0;
    etcdserverpb::Watch::Stub* stub = nullptr;
  };
  WatchTarget watch_target();
  void failed(size_t endpoint);
  const std::string& endpoint_name(size_t endpoint) const { return endpoints_.at(endpoint).target; }
  const ConnectionOptions& options() const { return options_; }

 private:
  struct Endpoint {
    std::string target;
    std::shared_ptr<grpc::Channel> channel;
    std::unique_ptr<etcdserverpb::KV::Stub> kv;
    std::unique_ptr<etcdserverpb::Lease::Stub> lease;
    std::unique_ptr<etcdserverpb::Watch::Stub> watch;
  };

  template <typename Response, typename Rpc>
  Result<Response> call(const char* what, Deadline deadline, Cancellation* cancel, Rpc rpc);

  ConnectionOptions options_;
  std::vector<Endpoint> endpoints_;
  std::atomic<size_t> current_{0};
};

// gRPC's name for a status code ("UNAVAILABLE").
std::string code_name(grpc::StatusCode code);
// "UNAVAILABLE: etcdserver: no leader".
std::string describe(const grpc::Status& status);

}  // namespace synod::client
