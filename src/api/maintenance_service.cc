#include "api/maintenance_service.h"

#include <utility>

#include "api/etcd_errors.h"
#include "api/response_header.h"

namespace synod::api {

MaintenanceService::MaintenanceService(Backend& backend, const kv::MvccStore& store, ServiceOptions options)
    : backend_(backend), store_(store), options_(std::move(options)) {}

grpc::ServerUnaryReactor* MaintenanceService::Status(grpc::CallbackServerContext* context,
                                                     const etcdserverpb::StatusRequest* /*request*/,
                                                     etcdserverpb::StatusResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const kv::MvccStore& store = store_;
  // The store's part, read where the store lives; serializable, as etcd's Status is local.
  auto query = [&store] {
    etcdserverpb::StatusResponse part;
    part.mutable_header()->set_revision(store.revision());
    part.set_dbsize(static_cast<int64_t>(store.approximate_bytes()));
    part.set_dbsizeinuse(static_cast<int64_t>(store.approximate_bytes()));
    part.set_raftappliedindex(store.applied_index());
    return part.SerializeAsString();
  };
  backend_.read(std::move(query), false, [this, reactor, response](Result<std::string> result) {
    if (!result.is_ok()) {
      reactor->Finish(to_grpc_status(result.status()));
      return;
    }
    if (!response->ParseFromString(result.value())) {
      reactor->Finish(to_grpc_status(synod::Status(ErrorCode::kCorruption, "bad status answer")));
      return;
    }
    RaftInfo raft = backend_.raft();
    fill_header(*response->mutable_header(), backend_.header());
    response->set_version(options_.version);
    response->set_leader(raft.leader);
    response->set_raftindex(raft.commit_index);
    response->set_raftterm(raft.term);
    response->set_islearner(raft.is_learner);
    reactor->Finish(grpc::Status::OK);
  });
  return reactor;
}

}  // namespace synod::api
