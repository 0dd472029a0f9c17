// MaintenanceService: etcd's Maintenance service. Status is what `etcdctl endpoint status` shows; Hash
// and HashKV checksum the key-value state (kv/mvcc_hash.h) so replicas can be compared; Snapshot
// streams the store's snapshot (a backup: the same bytes a member's snapshot file holds); MoveLeader
// transfers leadership; Defragment has nothing to do (the store is in memory, and compaction frees
// memory at once) and succeeds; Alarm lists, raises and clears the replicated alarms (kv/alarm_table.h),
// through the log. Store reads run on the node loop.
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
  grpc::ServerUnaryReactor* Alarm(grpc::CallbackServerContext* context,
                                  const etcdserverpb::AlarmRequest* request,
                                  etcdserverpb::AlarmResponse* response) override;
  grpc::ServerUnaryReactor* Defragment(grpc::CallbackServerContext* context,
                                       const etcdserverpb::DefragmentRequest* request,
                                       etcdserverpb::DefragmentResponse* response) override;
  grpc::ServerUnaryReactor* Hash(grpc::CallbackServerContext* context,
                                 const etcdserverpb::HashRequest* request,
                                 etcdserverpb::HashResponse* response) override;
  grpc::ServerUnaryReactor* HashKV(grpc::CallbackServerContext* context,
                                   const etcdserverpb::HashKVRequest* request,
                                   etcdserverpb::HashKVResponse* response) override;
  grpc::ServerWriteReactor<etcdserverpb::SnapshotResponse>* Snapshot(
      grpc::CallbackServerContext* context, const etcdserverpb::SnapshotRequest* request) override;
  grpc::ServerUnaryReactor* MoveLeader(grpc::CallbackServerContext* context,
                                       const etcdserverpb::MoveLeaderRequest* request,
                                       etcdserverpb::MoveLeaderResponse* response) override;

 private:
  Backend& backend_;
  const kv::MvccStore& store_;
  ServiceOptions options_;
};

}  // namespace synod::api
