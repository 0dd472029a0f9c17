// LockService: etcd's server-side lock (v3lockpb.Lock) inside Synod. Lock queues the caller as etcd's
// Mutex recipe does (api/recipe_queue.h): the key name/<lease hex> under the caller's lease, held by the
// lowest create revision under name/. The call waits server-side (no thread waits) until the caller holds
// the lock, then returns the key; the header's revision is the store's when the hold began. The key's
// create revision is a fencing token: every later holder's is higher (examples/fencing). Unlock deletes
// the key; so does the end of the lease, and so does a Lock call the client cancels while it waits.
// Clients that run the recipe themselves (etcdctl lock) queue on the same keys.
#pragma once

#include <grpcpp/grpcpp.h>

#include "api/backend.h"
#include "api/proto/v3lock.grpc.pb.h"
#include "api/recipe_calls.h"
#include "kv/mvcc_store.h"

namespace synod::api {

class LockService final : public v3lockpb::Lock::CallbackService {
 public:
  // `store` is only read inside queries that run on the node loop thread.
  LockService(Backend& backend, const kv::MvccStore& store) : backend_(backend), store_(store) {}

  grpc::ServerUnaryReactor* Lock(grpc::CallbackServerContext* context, const v3lockpb::LockRequest* request,
                                 v3lockpb::LockResponse* response) override;
  grpc::ServerUnaryReactor* Unlock(grpc::CallbackServerContext* context,
                                   const v3lockpb::UnlockRequest* request,
                                   v3lockpb::UnlockResponse* response) override;

  // Ends the Lock calls still waiting (a stopping server).
  void close_calls() { open_.close_all(); }

 private:
  Backend& backend_;
  const kv::MvccStore& store_;
  recipe::OpenCalls open_;
};

}  // namespace synod::api
