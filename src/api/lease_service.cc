#include "api/lease_service.h"

#include <utility>

#include "api/etcd_errors.h"
#include "api/lease_keepalive.h"
#include "api/response_header.h"
#include "kv/lease_table.h"
#include "kv/mvcc_codec.h"
#include "kv/mvcc_errors.h"

namespace synod::api {

grpc::Status lease_grpc_status(const Status& status) {
  const std::string& message = status.message();
  if (message == kv::kLeaseExistsMessage) return {grpc::StatusCode::FAILED_PRECONDITION, message};
  if (message == kv::kLeaseTtlTooLargeMessage) return {grpc::StatusCode::OUT_OF_RANGE, message};
  return to_grpc_status(status);
}

LeaseService::LeaseService(Backend& backend, const kv::MvccStore& store, const ServiceOptions& options)
    : backend_(backend),
      store_(store),
      quota_(backend, store, options.quota_bytes),
      min_lease_ttl_(options.min_lease_ttl) {}

grpc::ServerUnaryReactor* LeaseService::LeaseGrant(grpc::CallbackServerContext* context,
                                                   const etcdserverpb::LeaseGrantRequest* request,
                                                   etcdserverpb::LeaseGrantResponse* response) {
  if (request->ttl() > kv::kMaxLeaseTtl) {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(lease_grpc_status(kv::invalid(kv::kLeaseTtlTooLargeMessage)));
    return reactor;
  }
  // The minimum is applied here, not in the store: the command then carries the TTL every member
  // grants, whatever each member's own election timeout says.
  etcdserverpb::LeaseGrantRequest granted = *request;
  if (granted.ttl() < min_lease_ttl_) granted.set_ttl(min_lease_ttl_);
  if (Status status = quota_.admit(kv::added_bytes(granted)); !status.is_ok()) {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(lease_grpc_status(status));
    return reactor;
  }
  return propose(context, kv::encode_command(granted), response);
}

grpc::ServerUnaryReactor* LeaseService::LeaseRevoke(grpc::CallbackServerContext* context,
                                                    const etcdserverpb::LeaseRevokeRequest* request,
                                                    etcdserverpb::LeaseRevokeResponse* response) {
  return propose(context, kv::encode_command(*request), response);
}

grpc::ServerBidiReactor<etcdserverpb::LeaseKeepAliveRequest, etcdserverpb::LeaseKeepAliveResponse>*
LeaseService::LeaseKeepAlive(grpc::CallbackServerContext* /*context*/) {
  return new LeaseKeepAliveStream(backend_, store_);
}

grpc::ServerUnaryReactor* LeaseService::LeaseTimeToLive(grpc::CallbackServerContext* context,
                                                        const etcdserverpb::LeaseTimeToLiveRequest* request,
                                                        etcdserverpb::LeaseTimeToLiveResponse* response) {
  const kv::MvccStore& store = store_;
  const Backend& backend = backend_;
  auto query = [&store, &backend, id = request->id(), with_keys = request->keys()] {
    etcdserverpb::LeaseTimeToLiveResponse out;
    out.mutable_header()->set_revision(store.revision());
    out.set_id(id);
    const kv::Lease* lease = store.leases().find(id);
    if (lease == nullptr) {
      out.set_ttl(-1);  // etcd's answer for a lease that does not exist, rather than an error
      return out.SerializeAsString();
    }
    out.set_grantedttl(lease->ttl);
    std::optional<std::chrono::milliseconds> left = backend.lease_remaining(id);
    out.set_ttl(left ? std::chrono::duration_cast<std::chrono::seconds>(*left).count() : lease->ttl);
    if (with_keys) {
      for (const std::string& key : lease->keys) out.add_keys(key);
    }
    return out.SerializeAsString();
  };
  return read(context, std::move(query), response);
}

grpc::ServerUnaryReactor* LeaseService::LeaseLeases(grpc::CallbackServerContext* context,
                                                    const etcdserverpb::LeaseLeasesRequest* /*request*/,
                                                    etcdserverpb::LeaseLeasesResponse* response) {
  const kv::MvccStore& store = store_;
  auto query = [&store] {
    etcdserverpb::LeaseLeasesResponse out;
    out.mutable_header()->set_revision(store.revision());
    for (const auto& [id, lease] : store.leases().leases()) out.add_leases()->set_id(id);
    return out.SerializeAsString();
  };
  return read(context, std::move(query), response);
}

template <typename Response>
grpc::ServerUnaryReactor* LeaseService::propose(grpc::CallbackServerContext* context, std::string command,
                                                Response* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  backend_.propose(std::move(command), [this, reactor, response](Result<std::string> result) {
    Result<Response> decoded =
        result.is_ok() ? kv::decode_result<Response>(result.value()) : Result<Response>(result.status());
    if (!decoded.is_ok()) {
      reactor->Finish(lease_grpc_status(decoded.status()));
      return;
    }
    *response = std::move(decoded).value();
    fill_header(*response->mutable_header(), backend_.header());
    reactor->Finish(grpc::Status::OK);
  });
  return reactor;
}

template <typename Response>
grpc::ServerUnaryReactor* LeaseService::read(grpc::CallbackServerContext* context,
                                             std::function<std::string()> query, Response* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  backend_.read(std::move(query), true, [this, reactor, response](Result<std::string> result) {
    if (!result.is_ok()) {
      reactor->Finish(lease_grpc_status(result.status()));
      return;
    }
    if (!response->ParseFromString(result.value())) {
      reactor->Finish(to_grpc_status(Status(ErrorCode::kCorruption, "bad lease answer")));
      return;
    }
    fill_header(*response->mutable_header(), backend_.header());
    reactor->Finish(grpc::Status::OK);
  });
  return reactor;
}

}  // namespace synod::api
