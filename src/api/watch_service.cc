#include "api/watch_service.h"

#include "api/watch_stream.h"

namespace synod::api {

WatchService::WatchService(Backend& backend, const kv::MvccStore& store, const ServiceOptions& options)
    : backend_(backend),
      store_(store),
      max_response_bytes_(options.max_request_bytes),
      stall_timeout_(options.watch_stall_timeout),
      pump_(options.watch_progress_interval) {}

grpc::ServerBidiReactor<etcdserverpb::WatchRequest, etcdserverpb::WatchResponse>* WatchService::Watch(
    grpc::CallbackServerContext* context) {
  return WatchStream::start(
      WatchStream::Deps{backend_, store_, backend_.watch_hub(), pump_, max_response_bytes_, stall_timeout_},
      context);
}

}  // namespace synod::api
