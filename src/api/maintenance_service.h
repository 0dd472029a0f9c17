// MaintenanceService: etcd's Maintenance service, so far only Status (what `etcdctl endpoint status`
// shows). The store's revision and size are read on the node loop, consensus state from the Backend.
#pragma once

#include <grpcpp/grpcpp.h>

#include "api/backend.h"
#include "api/proto/rpc.grpc.pb.h"
#include "api/service_options.h"
#include "kv/mvcc_store.h"

namespace synod::api {

class MaintenanceService final : public etcdserverpb::Maintenance::CallbackService {
 public:
  MaintenanceService(Backend& backend, const kv::MvccStore& store, ServiceOptions options);

  grpc::ServerUnaryReactor* Status(grpc::CallbackServerContext* context,
                                   const etcdserverpb::StatusRequest* request,
                                   etcdserverpb::StatusResponse* response) override;

 private:
  Backend& backend_;
  const kv::MvccStore& store_;
  ServiceOptions options_;
};

}  // namespace synod::api
