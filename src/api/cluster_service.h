// ClusterService: etcd's Cluster service, so far only MemberList (what `etcdctl member list` shows).
// Membership changes are not built yet; the members come from the Backend.
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

 private:
  void fill(etcdserverpb::MemberListResponse& response) const;

  Backend& backend_;
};

}  // namespace synod::api
