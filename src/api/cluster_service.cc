#include "api/cluster_service.h"

#include "api/etcd_errors.h"
#include "api/response_header.h"

namespace synod::api {

grpc::ServerUnaryReactor* ClusterService::MemberList(grpc::CallbackServerContext* context,
                                                     const etcdserverpb::MemberListRequest* request,
                                                     etcdserverpb::MemberListResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (!request->linearizable()) {
    fill(*response);
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
  // A linearizable list waits for a read index first, so it reflects every membership change
  // committed before the call.
  backend_.read([] { return std::string(); }, true,
                [this, reactor, response](Result<std::string> result) {
                  if (!result.is_ok()) {
                    reactor->Finish(to_grpc_status(result.status()));
                    return;
                  }
                  fill(*response);
                  reactor->Finish(grpc::Status::OK);
                });
  return reactor;
}

namespace {
grpc::ServerUnaryReactor* not_supported(grpc::CallbackServerContext* context) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(
      grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                   "etcdserver: membership changes are not supported by Synod yet; the members are "
                   "fixed by --initial-cluster"));
  return reactor;
}
}  // namespace

grpc::ServerUnaryReactor* ClusterService::MemberAdd(grpc::CallbackServerContext* context,
                                                    const etcdserverpb::MemberAddRequest* /*request*/,
                                                    etcdserverpb::MemberAddResponse* /*response*/) {
  return not_supported(context);
}

grpc::ServerUnaryReactor* ClusterService::MemberRemove(grpc::CallbackServerContext* context,
                                                       const etcdserverpb::MemberRemoveRequest* /*request*/,
                                                       etcdserverpb::MemberRemoveResponse* /*response*/) {
  return not_supported(context);
}

grpc::ServerUnaryReactor* ClusterService::MemberUpdate(grpc::CallbackServerContext* context,
                                                       const etcdserverpb::MemberUpdateRequest* /*request*/,
                                                       etcdserverpb::MemberUpdateResponse* /*response*/) {
  return not_supported(context);
}

grpc::ServerUnaryReactor* ClusterService::MemberPromote(grpc::CallbackServerContext* context,
                                                        const etcdserverpb::MemberPromoteRequest* /*request*/,
                                                        etcdserverpb::MemberPromoteResponse* /*response*/) {
  return not_supported(context);
}

void ClusterService::fill(etcdserverpb::MemberListResponse& response) const {
  fill_header(*response.mutable_header(), backend_.header());
  for (const MemberInfo& info : backend_.members()) {
    etcdserverpb::Member& member = *response.add_members();
    member.set_id(info.id);
    member.set_name(info.name);
    for (const std::string& url : info.peer_urls) member.add_peerurls(url);
    for (const std::string& url : info.client_urls) member.add_clienturls(url);
    member.set_islearner(info.is_learner);
  }
}

}  // namespace synod::api
