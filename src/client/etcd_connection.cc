#include "client/etcd_connection.h"

#include <algorithm>
#include <thread>

namespace synod::client {

using namespace std::chrono_literals;

namespace {

// Whether another attempt (possibly at another member) could answer differently.
bool worth_retrying(const grpc::Status& status) {
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:         // down, no leader, leader changed, request timed out
    case grpc::StatusCode::DEADLINE_EXCEEDED:   // this attempt's own timeout
    case grpc::StatusCode::RESOURCE_EXHAUSTED:  // "too many requests"
    case grpc::StatusCode::UNKNOWN:             // a connection broken mid-call
    case grpc::StatusCode::CANCELLED:           // a member shutting down (ours are checked first)
    case grpc::StatusCode::ABORTED: return true;
    // A member that cannot forward to the leader; another one may be the leader or forward.
    case grpc::StatusCode::FAILED_PRECONDITION: return status.error_message() == "etcdserver: not leader";
    default: return false;
  }
}

Status to_status(const grpc::Status& status, const std::string& where) {
  ErrorCode code = ErrorCode::kUnavailable;
  switch (status.error_code()) {
    case grpc::StatusCode::INVALID_ARGUMENT: code = ErrorCode::kInvalidArgument; break;
    case grpc::StatusCode::NOT_FOUND: code = ErrorCode::kNotFound; break;
    case grpc::StatusCode::OUT_OF_RANGE: code = ErrorCode::kCompacted; break;
    default: break;
  }
  return Status(code, where + ": " + describe(status));
}

}  // namespace

std::string code_name(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK: return "OK";
    case grpc::StatusCode::CANCELLED: return "CANCELLED";
    case grpc::StatusCode::UNKNOWN: return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED: return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND: return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS: return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED: return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION: return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED: return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE: return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED: return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL: return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE: return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS: return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED: return "UNAUTHENTICATED";
    default: return "code " + std::to_string(static_cast<int>(code));
  }
}

std::string describe(const grpc::Status& status) {
  if (status.error_message().empty()) return code_name(status.error_code());
  return code_name(status.error_code()) + ": " + status.error_message();
}

Result<std::vector<std::string>> parse_endpoints(const std::string& comma_separated) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= comma_separated.size()) {
    size_t comma = comma_separated.find(',', start);
    if (comma == std::string::npos) comma = comma_separated.size();
    std::string endpoint = comma_separated.substr(start, comma - start);
    for (const char* scheme : {"http://", "https://"}) {
      if (endpoint.rfind(scheme, 0) == 0) endpoint.erase(0, std::string(scheme).size());
    }
    if (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
    size_t colon = endpoint.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == endpoint.size()) {
      return Status(ErrorCode::kInvalidArgument, "endpoint '" + endpoint + "' is not host:port");
    }
    out.push_back(endpoint);
    start = comma + 1;
  }
  return out;
}

EtcdConnection::EtcdConnection(ConnectionOptions options) : options_(std::move(options)) {
  SYNOD_ASSERT_MSG(!options_.endpoints.empty(), "a connection needs at least one endpoint");
  for (const std::string& target : options_.endpoints) {
    grpc::ChannelArguments arguments;
    // Redial a restarted member quickly (gRPC's default backoff starts at 1 s and grows to 120 s); a
    // waiter must not sit out a member's restart with a long backoff.
    arguments.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
    arguments.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
    arguments.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
    Endpoint endpoint;
    endpoint.target = target;
    endpoint.channel = grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), arguments);
    endpoint.kv = etcdserverpb::KV::NewStub(endpoint.channel);
    endpoint.lease = etcdserverpb::Lease::NewStub(endpoint.channel);
    endpoint.watch = etcdserverpb::Watch::NewStub(endpoint.channel);
    endpoints_.push_back(std::move(endpoint));
  }
}

void EtcdConnection::failed(size_t endpoint) {
  size_t expected = endpoint;
  // Only the first to notice moves on: two callers failing on one member must not skip the next one.
  current_.compare_exchange_strong(expected, (endpoint + 1) % endpoints_.size());
}

EtcdConnection::WatchTarget EtcdConnection::watch_target() {
  size_t index = current_.load() % endpoints_.size();
  return {index, endpoints_[index].watch.get()};
}

template <typename Response, typename Rpc>
Result<Response> EtcdConnection::call(const char* what, Deadline deadline, Cancellation* cancel, Rpc rpc) {
  std::chrono::milliseconds backoff = 20ms;
  int attempts = 0;
  std::string last;
  while (true) {
    if (cancel != nullptr && cancel->cancelled()) return Status(ErrorCode::kAborted, cancel->reason());
    size_t index = current_.load() % endpoints_.size();
    Endpoint& endpoint = endpoints_[index];
    grpc::ClientContext context;
    context.set_deadline(to_system(earlier(deadline, Clock::now() + options_.attempt_timeout)));
    Cancellation::Registration registration(cancel, &context);
    Response response;
    grpc::Status status = rpc(endpoint, context, response);
    ++attempts;
    if (status.ok()) return response;
    if (cancel != nullptr && cancel->cancelled()) return Status(ErrorCode::kAborted, cancel->reason());
    std::string where = std::string(what) + " at " + endpoint.target;
    if (!worth_retrying(status)) return to_status(status, where);
    last = where + ": " + describe(status);
    failed(index);
    if (Clock::now() + backoff >= deadline) {
      return Status(ErrorCode::kTimedOut, std::string(what) + ": no answer in time after " +
                                              std::to_string(attempts) + " attempts (last: " + last + ")");
    }
    std::this_thread::sleep_for(backoff);
    backoff = std::min<std::chrono::milliseconds>(backoff * 2, 500ms);
  }
}

Result<etcdserverpb::RangeResponse> EtcdConnection::range(const etcdserverpb::RangeRequest& request,
                                                          Deadline deadline, Cancellation* cancel) {
  return call<etcdserverpb::RangeResponse>(
      "range", deadline, cancel, [&](Endpoint& endpoint, grpc::ClientContext& context, auto& response) {
        return endpoint.kv->Range(&context, request, &response);
      });
}

Result<etcdserverpb::TxnResponse> EtcdConnection::txn(const etcdserverpb::TxnRequest& request,
                                                      Deadline deadline, Cancellation* cancel) {
  return call<etcdserverpb::TxnResponse>(
      "txn", deadline, cancel, [&](Endpoint& endpoint, grpc::ClientContext& context, auto& response) {
        return endpoint.kv->Txn(&context, request, &response);
      });
}

Result<etcdserverpb::LeaseGrantResponse> EtcdConnection::grant(int64_t ttl_seconds, Deadline deadline,
                                                               Cancellation* cancel) {
  etcdserverpb::LeaseGrantRequest request;
  request.set_ttl(ttl_seconds);
  Result<etcdserverpb::LeaseGrantResponse> granted = call<etcdserverpb::LeaseGrantResponse>(
      "lease grant", deadline, cancel, [&](Endpoint& endpoint, grpc::ClientContext& context, auto& response) {
        return endpoint.lease->LeaseGrant(&context, request, &response);
      });
  if (granted.is_ok() && !granted.value().error().empty()) {
    return Status(ErrorCode::kInvalidArgument, "lease grant: " + granted.value().error());
  }
  return granted;
}

Status EtcdConnection::revoke(int64_t lease, Deadline deadline, Cancellation* cancel) {
  etcdserverpb::LeaseRevokeRequest request;
  request.set_id(lease);
  Result<etcdserverpb::LeaseRevokeResponse> revoked = call<etcdserverpb::LeaseRevokeResponse>(
      "lease revoke", deadline, cancel,
      [&](Endpoint& endpoint, grpc::ClientContext& context, auto& response) {
        return endpoint.lease->LeaseRevoke(&context, request, &response);
      });
  if (!revoked.is_ok() && revoked.status().code() != ErrorCode::kNotFound) return revoked.status();
  return Status::ok();
}

Result<int64_t> EtcdConnection::keep_alive(int64_t lease, Deadline deadline, Cancellation* cancel) {
  etcdserverpb::LeaseKeepAliveRequest request;
  request.set_id(lease);
  Result<etcdserverpb::LeaseKeepAliveResponse> renewed = call<etcdserverpb::LeaseKeepAliveResponse>(
      "lease keep-alive", deadline, cancel,
      [&](Endpoint& endpoint, grpc::ClientContext& context, etcdserverpb::LeaseKeepAliveResponse& response) {
        // A stream per renewal: with the synchronous API only a deadline ends a read that gets no answer
        // (a frozen member), and a deadline ends the whole stream.
        auto stream = endpoint.lease->LeaseKeepAlive(&context);
        if (!stream->Write(request)) return stream->Finish();
        stream->WritesDone();
        bool answered = stream->Read(&response);
        grpc::Status status = stream->Finish();
        if (status.ok() && !answered) {
          return grpc::Status(grpc::StatusCode::UNAVAILABLE, "the keep-alive stream ended without an answer");
        }
        return status;
      });
  if (!renewed.is_ok()) return renewed.status();
  return renewed.value().ttl();
}

}  // namespace synod::client
