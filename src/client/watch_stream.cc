#include "client/watch_stream.h"

namespace synod::client {

namespace {

grpc::ClientContext& with_deadline(grpc::ClientContext& context, Deadline until) {
  context.set_deadline(to_system(until));
  return context;
}

}  // namespace

WatchStream::WatchStream(EtcdConnection& connection, const etcdserverpb::WatchCreateRequest& create,
                         Deadline until, Cancellation* cancel)
    : connection_(connection), registration_(cancel, &with_deadline(context_, until)) {
  EtcdConnection::WatchTarget target = connection_.watch_target();
  endpoint_ = target.endpoint;
  stream_ = target.stub->Watch(&context_);
  etcdserverpb::WatchRequest request;
  *request.mutable_create_request() = create;
  if (!stream_->Write(request)) finish();
}

WatchStream::~WatchStream() {
  if (finished_) return;
  context_.TryCancel();
  etcdserverpb::WatchResponse ignored;
  while (stream_->Read(&ignored)) {
  }
  stream_->Finish();
}

bool WatchStream::next(etcdserverpb::WatchResponse& response) {
  if (finished_) return false;
  if (stream_->Read(&response)) return true;
  finish();
  return false;
}

void WatchStream::finish() {
  finished_ = true;
  grpc::Status status = stream_->Finish();
  switch (status.error_code()) {
    case grpc::StatusCode::OK:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::CANCELLED: return;
    default: break;
  }
  connection_.failed(endpoint_);
  ended_ = Status(ErrorCode::kUnavailable,
                  "watch at " + connection_.endpoint_name(endpoint_) + " broke: " + describe(status));
}

}  // namespace synod::client
