// ElectionService: etcd's server-side election (v3electionpb.Election) inside Synod, on the same queue
// as the lock (api/recipe_queue.h): a campaigner's key is name/<lease hex> holding its value, and the
// lowest create revision under name/ leads.
//   Campaign  waits server-side until the caller leads, then returns its LeaderKey (name, key, create
//             revision, lease); the header is the joining Txn's, as in etcd. A campaign the client
//             cancels resigns.
//   Proclaim  puts a new value only while the LeaderKey's key still has its create revision
//             ("election: not leader" otherwise).
//   Leader    the leader's key-value ("election: no leader" when nobody campaigns).
//   Observe   streams the leader's key-value at each change of leader or value
//             (api/election_service_observe.h).
//   Resign    deletes the key if it is still that incarnation.
// Clients that run the recipe themselves (etcdctl elect) campaign on the same keys.
#pragma once

#include <grpcpp/grpcpp.h>

#include "api/backend.h"
#include "api/proto/v3election.grpc.pb.h"
#include "api/recipe_calls.h"
#include "kv/mvcc_store.h"

namespace synod::api {

class ElectionService final : public v3electionpb::Election::CallbackService {
 public:
  // `store` is only read inside queries that run on the node loop thread.
  ElectionService(Backend& backend, const kv::MvccStore& store) : backend_(backend), store_(store) {}

  grpc::ServerUnaryReactor* Campaign(grpc::CallbackServerContext* context,
                                     const v3electionpb::CampaignRequest* request,
                                     v3electionpb::CampaignResponse* response) override;
  grpc::ServerUnaryReactor* Proclaim(grpc::CallbackServerContext* context,
                                     const v3electionpb::ProclaimRequest* request,
                                     v3electionpb::ProclaimResponse* response) override;
  grpc::ServerUnaryReactor* Leader(grpc::CallbackServerContext* context,
                                   const v3electionpb::LeaderRequest* request,
                                   v3electionpb::LeaderResponse* response) override;
  grpc::ServerWriteReactor<v3electionpb::LeaderResponse>* Observe(
      grpc::CallbackServerContext* context, const v3electionpb::LeaderRequest* request) override;
  grpc::ServerUnaryReactor* Resign(grpc::CallbackServerContext* context,
                                   const v3electionpb::ResignRequest* request,
                                   v3electionpb::ResignResponse* response) override;

  // Ends the Campaign and Observe calls still open (a stopping server).
  void close_calls() { open_.close_all(); }

 private:
  // Runs `txn` (guarded by the leader key's create revision) and finishes the call: OK with the Txn's
  // header, or `refused` when the guard failed (nullptr: OK as well).
  template <typename Response>
  grpc::ServerUnaryReactor* guarded(grpc::CallbackServerContext* context, etcdserverpb::TxnRequest txn,
                                    Response* response, const char* refused);

  Backend& backend_;
  const kv::MvccStore& store_;
  recipe::OpenCalls open_;
};

}  // namespace synod::api
