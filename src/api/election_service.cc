#include "api/election_service.h"

#include <utility>

#include "api/election_service_observe.h"
#include "api/recipe_call.h"
#include "api/recipe_errors.h"
#include "api/recipe_keys.h"
#include "api/recipe_ops.h"
#include "api/response_header.h"

namespace synod::api {
namespace {

grpc::ServerUnaryReactor* refuse(grpc::CallbackServerContext* context, std::string_view message) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(recipe::to_grpc(recipe::recipe_error(message)));
  return reactor;
}

}  // namespace

grpc::ServerUnaryReactor* ElectionService::Campaign(grpc::CallbackServerContext* /*context*/,
                                                    const v3electionpb::CampaignRequest* request,
                                                    v3electionpb::CampaignResponse* response) {
  recipe::Contender contender;
  contender.name = request->name();
  contender.lease = request->lease();
  contender.value = request->value();
  contender.proclaim_existing = true;
  // etcd's Campaign does not notice a key lost while waiting; Synod refuses to report a leadership whose
  // key is already gone.
  contender.expired = recipe::recipe_error(recipe::kNotLeaderMessage);
  std::string name = request->name();
  return recipe::QueueCall<v3electionpb::CampaignResponse>::start(
      backend_, store_, open_, std::move(contender), response,
      [name](const recipe::Held& held, v3electionpb::CampaignResponse& out) {
        out.mutable_header()->set_revision(held.join_revision);
        v3electionpb::LeaderKey* leader = out.mutable_leader();
        leader->set_name(name);
        leader->set_key(held.key);
        leader->set_rev(held.create_revision);
        leader->set_lease(held.lease);
      });
}

grpc::ServerUnaryReactor* ElectionService::Proclaim(grpc::CallbackServerContext* context,
                                                    const v3electionpb::ProclaimRequest* request,
                                                    v3electionpb::ProclaimResponse* response) {
  if (!request->has_leader()) return refuse(context, recipe::kMissingLeaderKeyMessage);
  const v3electionpb::LeaderKey& leader = request->leader();
  return guarded(context,
                 recipe::if_created_at(leader.key(), leader.rev(),
                                       recipe::put_op(leader.key(), request->value(), leader.lease())),
                 response, recipe::kNotLeaderMessage.data());
}

grpc::ServerUnaryReactor* ElectionService::Resign(grpc::CallbackServerContext* context,
                                                  const v3electionpb::ResignRequest* request,
                                                  v3electionpb::ResignResponse* response) {
  if (!request->has_leader()) return refuse(context, recipe::kMissingLeaderKeyMessage);
  const v3electionpb::LeaderKey& leader = request->leader();
  // Resigning a leadership already lost is not an error (etcd's Resign ignores the compare's outcome).
  return guarded(context, recipe::if_created_at(leader.key(), leader.rev(), recipe::delete_op(leader.key())),
                 response, nullptr);
}

template <typename Response>
grpc::ServerUnaryReactor* ElectionService::guarded(grpc::CallbackServerContext* context,
                                                   etcdserverpb::TxnRequest txn, Response* response,
                                                   const char* refused) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  Backend& backend = backend_;
  recipe::propose<etcdserverpb::TxnResponse>(
      backend_, txn, [&backend, reactor, response, refused](Result<etcdserverpb::TxnResponse> result) {
        if (!result.is_ok()) return reactor->Finish(recipe::to_grpc(result.status()));
        if (!result.value().succeeded() && refused != nullptr) {
          return reactor->Finish(recipe::to_grpc(recipe::recipe_error(refused)));
        }
        *response->mutable_header() = result.value().header();
        fill_header(*response->mutable_header(), backend.header());
        reactor->Finish(grpc::Status::OK);
      });
  return reactor;
}

grpc::ServerUnaryReactor* ElectionService::Leader(grpc::CallbackServerContext* context,
                                                  const v3electionpb::LeaderRequest* request,
                                                  v3electionpb::LeaderResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const kv::MvccStore& store = store_;
  Backend& backend = backend_;
  // The request outlives the query: gRPC keeps it until the call finishes, which is after the query.
  backend_.read(
      [&store, request] {
        return kv::encode_result(store.range(recipe::first_created(recipe::queue_prefix(request->name()))));
      },
      /*linearizable=*/true,
      [&backend, reactor, response](Result<std::string> result) {
        Result<etcdserverpb::RangeResponse> range =
            result.is_ok() ? kv::decode_result<etcdserverpb::RangeResponse>(result.value())
                           : Result<etcdserverpb::RangeResponse>(result.status());
        if (!range.is_ok()) return reactor->Finish(recipe::to_grpc(range.status()));
        if (range.value().kvs_size() == 0) {
          return reactor->Finish(recipe::to_grpc(recipe::recipe_error(recipe::kNoLeaderMessage)));
        }
        *response->mutable_header() = range.value().header();
        fill_header(*response->mutable_header(), backend.header());
        *response->mutable_kv() = range.value().kvs(0);
        reactor->Finish(grpc::Status::OK);
      });
  return reactor;
}

grpc::ServerWriteReactor<v3electionpb::LeaderResponse>* ElectionService::Observe(
    grpc::CallbackServerContext* /*context*/, const v3electionpb::LeaderRequest* request) {
  return ObserveStream::start(backend_, store_, open_, request->name());
}

}  // namespace synod::api
