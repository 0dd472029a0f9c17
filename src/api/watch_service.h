// WatchService: etcd's Watch service (etcdserverpb.Watch) over the member's WatchHub (Backend::watch_hub)
// and MVCC store. Each call is a WatchStream (api/watch_stream.h); the service owns the pump thread
// that starts sending on idle streams and ticks progress notifications (api/watch_pump.h).
#pragma once

#include <grpcpp/grpcpp.h>

#include "api/backend.h"
#include "api/proto/watch.grpc.pb.h"
#include "api/service_options.h"
#include "api/watch_pump.h"
#include "kv/mvcc_store.h"

namespace synod::api {

class WatchService final : public etcdserverpb::Watch::CallbackService {
 public:
  // `store` is only read inside queries that run on the node loop thread.
  WatchService(Backend& backend, const kv::MvccStore& store, const ServiceOptions& options);

  grpc::ServerBidiReactor<etcdserverpb::WatchRequest, etcdserverpb::WatchResponse>* Watch(
      grpc::CallbackServerContext* context) override;
  // Ends every open Watch stream: they never end by themselves, and a stopping server would otherwise
  // wait out its shutdown deadline for them.
  void close_streams() { pump_.close_all(); }

 private:
  Backend& backend_;
  const kv::MvccStore& store_;
  size_t max_response_bytes_;
  std::chrono::milliseconds stall_timeout_;
  WatchPump pump_;
};

}  // namespace synod::api
