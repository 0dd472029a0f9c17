// LeaseService: etcd's Lease service (etcdserverpb.Lease) over a Backend and the MVCC store's leases
// (kv/lease_table.h). Grant, Revoke and each KeepAlive are proposed as commands, so every member applies
// them in log order; TimeToLive and Leases are linearizable reads of the applied leases, with the time
// left taken from this member's lessor (Backend::lease_remaining). Expiry itself is the server's
// Lessor's (server/lessor.h). Nothing here waits on a gRPC thread.
#pragma once

#include <grpcpp/grpcpp.h>

#include "api/backend.h"
#include "api/proto/lease.grpc.pb.h"
#include "api/service_options.h"
#include "api/space_quota.h"
#include "kv/mvcc_store.h"

namespace synod::api {

class LeaseService final : public etcdserverpb::Lease::CallbackService {
 public:
  // `store` is only read inside queries that run on the node loop thread.
  LeaseService(Backend& backend, const kv::MvccStore& store, const ServiceOptions& options);

  grpc::ServerUnaryReactor* LeaseGrant(grpc::CallbackServerContext* context,
                                       const etcdserverpb::LeaseGrantRequest* request,
                                       etcdserverpb::LeaseGrantResponse* response) override;
  grpc::ServerUnaryReactor* LeaseRevoke(grpc::CallbackServerContext* context,
                                        const etcdserverpb::LeaseRevokeRequest* request,
                                        etcdserverpb::LeaseRevokeResponse* response) override;
  grpc::ServerBidiReactor<etcdserverpb::LeaseKeepAliveRequest, etcdserverpb::LeaseKeepAliveResponse>*
  LeaseKeepAlive(grpc::CallbackServerContext* context) override;
  grpc::ServerUnaryReactor* LeaseTimeToLive(grpc::CallbackServerContext* context,
                                            const etcdserverpb::LeaseTimeToLiveRequest* request,
                                            etcdserverpb::LeaseTimeToLiveResponse* response) override;
  grpc::ServerUnaryReactor* LeaseLeases(grpc::CallbackServerContext* context,
                                        const etcdserverpb::LeaseLeasesRequest* request,
                                        etcdserverpb::LeaseLeasesResponse* response) override;

 private:
  template <typename Response>
  grpc::ServerUnaryReactor* propose(grpc::CallbackServerContext* context, std::string command,
                                    Response* response);
  // Runs `query` (which serializes a Response) as a linearizable read and finishes the call with it.
  template <typename Response>
  grpc::ServerUnaryReactor* read(grpc::CallbackServerContext* context, std::function<std::string()> query,
                                 Response* response);

  Backend& backend_;
  const kv::MvccStore& store_;
  SpaceQuota quota_;
  int64_t min_lease_ttl_;
};

// etcd's gRPC status for a lease error ("lease already exists", "too large lease TTL", "requested
// lease not found"), or api::to_grpc_status for any other error.
grpc::Status lease_grpc_status(const Status& status);

}  // namespace synod::api
