#include "api/kv_service.h"

#include <utility>

#include "api/etcd_errors.h"
#include "api/response_header.h"
#include "kv/mvcc_codec.h"
#include "kv/mvcc_validate.h"

namespace synod::api {

KvService::KvService(Backend& backend, const kv::MvccStore& store, ServiceOptions options)
    : backend_(backend),
      store_(store),
      options_(std::move(options)),
      quota_(backend, store, options_.quota_bytes) {}

grpc::ServerUnaryReactor* KvService::Range(grpc::CallbackServerContext* context,
                                           const etcdserverpb::RangeRequest* request,
                                           etcdserverpb::RangeResponse* response) {
  if (Status status = kv::check_range(*request); !status.is_ok()) return refuse(context, status);
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  // The request outlives the query: gRPC keeps it until the call finishes, which is after the query.
  const kv::MvccStore& store = store_;
  backend_.read([&store, request] { return kv::encode_result(store.range(*request)); },
                !request->serializable(),
                [this, reactor, response](Result<std::string> result) { finish(reactor, response, result); });
  return reactor;
}

grpc::ServerUnaryReactor* KvService::Put(grpc::CallbackServerContext* context,
                                         const etcdserverpb::PutRequest* request,
                                         etcdserverpb::PutResponse* response) {
  if (Status status = kv::check_put(*request); !status.is_ok()) return refuse(context, status);
  if (Status status = quota_.admit(kv::added_bytes(*request)); !status.is_ok())
    return refuse(context, status);
  return propose(context, kv::encode_command(*request), response);
}

grpc::ServerUnaryReactor* KvService::DeleteRange(grpc::CallbackServerContext* context,
                                                 const etcdserverpb::DeleteRangeRequest* request,
                                                 etcdserverpb::DeleteRangeResponse* response) {
  if (Status status = kv::check_delete_range(*request); !status.is_ok()) return refuse(context, status);
  return propose(context, kv::encode_command(*request), response);
}

grpc::ServerUnaryReactor* KvService::Txn(grpc::CallbackServerContext* context,
                                         const etcdserverpb::TxnRequest* request,
                                         etcdserverpb::TxnResponse* response) {
  if (Status status = kv::check_txn(*request, store_.options().max_txn_ops); !status.is_ok()) {
    return refuse(context, status);
  }
  if (Status status = quota_.admit(kv::added_bytes(*request)); !status.is_ok())
    return refuse(context, status);
  return propose(context, kv::encode_command(*request), response);
}

grpc::ServerUnaryReactor* KvService::Compact(grpc::CallbackServerContext* context,
                                             const etcdserverpb::CompactionRequest* request,
                                             etcdserverpb::CompactionResponse* response) {
  return propose(context, kv::encode_command(*request), response);
}

template <typename Response>
grpc::ServerUnaryReactor* KvService::propose(grpc::CallbackServerContext* context, std::string command,
                                             Response* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (command.size() > options_.max_request_bytes) {
    reactor->Finish(request_too_large());
    return reactor;
  }
  backend_.propose(std::move(command), [this, reactor, response](Result<std::string> result) {
    finish(reactor, response, result);
  });
  return reactor;
}

template <typename Response>
void KvService::finish(grpc::ServerUnaryReactor* reactor, Response* response,
                       const Result<std::string>& result) {
  if (!result.is_ok()) {
    reactor->Finish(to_grpc_status(result.status()));
    return;
  }
  Result<Response> decoded = kv::decode_result<Response>(result.value());
  if (!decoded.is_ok()) {
    reactor->Finish(to_grpc_status(decoded.status()));
    return;
  }
  *response = std::move(decoded).value();
  fill_header(*response->mutable_header(), backend_.header());
  reactor->Finish(grpc::Status::OK);
}

grpc::ServerUnaryReactor* KvService::refuse(grpc::CallbackServerContext* context, const Status& status) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(to_grpc_status(status));
  return reactor;
}

}  // namespace synod::api
