// KvService: etcd's KV service (Range, Put, DeleteRange, Txn, Compact) over a Backend and the MVCC
// store. Writes are checked as etcd checks them, then proposed as one command; ranges run as queries
// on the node loop (linearizable unless the request asks for a serializable read). Every call is
// asynchronous: no gRPC thread waits for consensus.
#pragma once

#include <string>

#include <grpcpp/grpcpp.h>

#include "api/backend.h"
#include "api/proto/rpc.grpc.pb.h"
#include "api/service_options.h"
#include "api/space_quota.h"
#include "kv/mvcc_store.h"

namespace synod::api {

class KvService final : public etcdserverpb::KV::CallbackService {
 public:
  // `store` is only read inside queries that run on the node loop thread.
  KvService(Backend& backend, const kv::MvccStore& store, ServiceOptions options);

  grpc::ServerUnaryReactor* Range(grpc::CallbackServerContext* context,
                                  const etcdserverpb::RangeRequest* request,
                                  etcdserverpb::RangeResponse* response) override;
  grpc::ServerUnaryReactor* Put(grpc::CallbackServerContext* context, const etcdserverpb::PutRequest* request,
                                etcdserverpb::PutResponse* response) override;
  grpc::ServerUnaryReactor* DeleteRange(grpc::CallbackServerContext* context,
                                        const etcdserverpb::DeleteRangeRequest* request,
                                        etcdserverpb::DeleteRangeResponse* response) override;
  grpc::ServerUnaryReactor* Txn(grpc::CallbackServerContext* context, const etcdserverpb::TxnRequest* request,
                                etcdserverpb::TxnResponse* response) override;
  grpc::ServerUnaryReactor* Compact(grpc::CallbackServerContext* context,
                                    const etcdserverpb::CompactionRequest* request,
                                    etcdserverpb::CompactionResponse* response) override;

 private:
  // Proposes `command` (refusing one over max_request_bytes) and finishes the call with its result.
  template <typename Response>
  grpc::ServerUnaryReactor* propose(grpc::CallbackServerContext* context, std::string command,
                                    Response* response);
  // Finishes a call with an encoded MVCC result: the response with this member's header, or the error.
  template <typename Response>
  void finish(grpc::ServerUnaryReactor* reactor, Response* response, const Result<std::string>& result);
  grpc::ServerUnaryReactor* refuse(grpc::CallbackServerContext* context, const Status& status);

  Backend& backend_;
  const kv::MvccStore& store_;
  ServiceOptions options_;
  SpaceQuota quota_;
};

}  // namespace synod::api
