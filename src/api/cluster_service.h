// ClusterService: etcd's Cluster service. MemberList is what `etcdctl member list` shows, from the
// Backend. Membership changes are not built yet: add, remove, update and promote answer
// UNIMPLEMENTED with a message that says so, rather than gRPC's bare "unimplemented".
#pragma once

#include <grpcpp/grpcpp.h>

#include "api/backend.h"
#include "api/proto/rpc.grpc.pb.h"

namespace synod::api {

class ClusterService final : public etcdserverpb::Cluster::CallbackService {
 public:
  explicit ClusterService(Backend& backend) : backend_(backend) {}

  grpc::ServerUnaryReactor* MemberList(grpc::CallbackServerContext* context,
                                       const etcdserverpb::MemberListRequest* request,
                                       etcdserverpb::MemberListResponse* response) override;
  grpc::ServerUnaryReactor* MemberAdd(grpc::CallbackServerContext* context,
                                      const etcdserverpb::MemberAddRequest*,
                                      etcdserverpb::MemberAddResponse*) override;
  grpc::ServerUnaryReactor* MemberRemove(grpc::CallbackServerContext* context,
                                         const etcdserverpb::MemberRemoveRequest*,
                                         etcdserverpb::MemberRemoveResponse*) override;
  grpc::ServerUnaryReactor* MemberUpdate(grpc::CallbackServerContext* context,
                                         const etcdserverpb::MemberUpdateRequest*,
                                         etcdserverpb::MemberUpdateResponse*) override;
  grpc::ServerUnaryReactor* MemberPromote(grpc::CallbackServerContext* context,
                                          const etcdserverpb::MemberPromoteRequest*,
                                          etcdserverpb::MemberPromoteResponse*) override;

 private:
  void fill(etcdserverpb::MemberListResponse& response) const;

  Backend& backend_;
};

}  // namespace synod::api
