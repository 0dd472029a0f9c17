#include "api/lock_service.h"

#include <utility>

#include "api/recipe_call.h"
#include "api/recipe_errors.h"
#include "api/recipe_ops.h"
#include "api/response_header.h"

namespace synod::api {

grpc::ServerUnaryReactor* LockService::Lock(grpc::CallbackServerContext* /*context*/,
                                            const v3lockpb::LockRequest* request,
                                            v3lockpb::LockResponse* response) {
  recipe::Contender contender;
  contender.name = request->name();
  contender.lease = request->lease();
  contender.expired = recipe::recipe_error(recipe::kSessionExpiredMessage);
  return recipe::QueueCall<v3lockpb::LockResponse>::start(
      backend_, store_, open_, std::move(contender), response,
      [](const recipe::Held& held, v3lockpb::LockResponse& out) {
        out.mutable_header()->set_revision(held.held_revision);
        out.set_key(held.key);
      });
}

grpc::ServerUnaryReactor* LockService::Unlock(grpc::CallbackServerContext* context,
                                              const v3lockpb::UnlockRequest* request,
                                              v3lockpb::UnlockResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  etcdserverpb::DeleteRangeRequest remove;
  remove.set_key(request->key());
  Backend& backend = backend_;
  recipe::propose<etcdserverpb::DeleteRangeResponse>(
      backend_, remove, [&backend, reactor, response](Result<etcdserverpb::DeleteRangeResponse> result) {
        if (!result.is_ok()) return reactor->Finish(recipe::to_grpc(result.status()));
        *response->mutable_header() = result.value().header();
        fill_header(*response->mutable_header(), backend.header());
        reactor->Finish(grpc::Status::OK);
      });
  return reactor;
}

}  // namespace synod::api
