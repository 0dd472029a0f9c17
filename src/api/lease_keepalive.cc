#include "api/lease_keepalive.h"

#include <utility>

#include "api/lease_service.h"
#include "api/response_header.h"
#include "kv/mvcc_codec.h"
#include "kv/mvcc_errors.h"

namespace synod::api {

LeaseKeepAliveStream::LeaseKeepAliveStream(Backend& backend, const kv::MvccStore& store)
    : backend_(backend), store_(store) {
  StartRead(&request_);
}

void LeaseKeepAliveStream::OnReadDone(bool ok) {
  if (!ok) {
    // The client closed its side or went away; nothing is pending (one request at a time).
    Finish(grpc::Status::OK);
    return;
  }
  int64_t id = request_.id();
  backend_.propose(kv::encode_command(request_),
                   [this, id](Result<std::string> result) { renewed(id, result); });
}

void LeaseKeepAliveStream::renewed(int64_t id, const Result<std::string>& result) {
  if (!result.is_ok()) {
    Finish(lease_grpc_status(result.status()));
    return;
  }
  Result<etcdserverpb::LeaseKeepAliveResponse> decoded =
      kv::decode_result<etcdserverpb::LeaseKeepAliveResponse>(result.value());
  if (decoded.is_ok()) {
    response_ = std::move(decoded).value();
  } else if (decoded.status().message() == kv::kLeaseNotFoundMessage) {
    response_.Clear();
    response_.set_id(id);
    response_.set_ttl(0);
    response_.mutable_header()->set_revision(store_.revision());  // on the loop thread, as completions are
  } else {
    Finish(lease_grpc_status(decoded.status()));
    return;
  }
  fill_header(*response_.mutable_header(), backend_.header());
  // Nothing of this object is touched after StartWrite: OnWriteDone may already be running.
  StartWrite(&response_);
}

void LeaseKeepAliveStream::OnWriteDone(bool ok) {
  if (!ok) {
    Finish(grpc::Status::CANCELLED);
    return;
  }
  StartRead(&request_);
}

}  // namespace synod::api
