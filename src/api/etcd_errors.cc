#include "api/etcd_errors.h"

#include <string>

#include "kv/mvcc_errors.h"

namespace synod::api {
namespace {

grpc::Status etcd(grpc::StatusCode code, std::string_view message) {
  return {code, std::string(message)};
}

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

}  // namespace

grpc::Status request_too_large() {
  return etcd(grpc::StatusCode::INVALID_ARGUMENT, "etcdserver: request is too large");
}

grpc::Status to_grpc_status(const Status& status) {
  const std::string& message = status.message();
  // The store's errors: etcd's "mvcc:" errors get the server's prefix, the others are already whole.
  if (message == kv::kCompactedMessage || message == kv::kFutureRevisionMessage) {
    return etcd(grpc::StatusCode::OUT_OF_RANGE, "etcdserver: " + message);
  }
  if (message == kv::kLeaseNotFoundMessage) return etcd(grpc::StatusCode::NOT_FOUND, message);
  if (status.code() == ErrorCode::kInvalidArgument && starts_with(message, "etcdserver: ")) {
    return etcd(grpc::StatusCode::INVALID_ARGUMENT, message);
  }

  switch (status.code()) {
    case ErrorCode::kOk: return grpc::Status::OK;
    case ErrorCode::kTimedOut: return etcd(grpc::StatusCode::UNAVAILABLE, "etcdserver: request timed out");
    case ErrorCode::kNoLeader: return etcd(grpc::StatusCode::UNAVAILABLE, "etcdserver: no leader");
    case ErrorCode::kNotLeader: return etcd(grpc::StatusCode::FAILED_PRECONDITION, "etcdserver: not leader");
    // The entry lost its log slot to a new leader's, or a transfer holds proposals back: etcd reports
    // both as a leader change, which clients retry.
    case ErrorCode::kAborted:
    case ErrorCode::kTransferInProgress:
      return etcd(grpc::StatusCode::UNAVAILABLE, "etcdserver: leader changed");
    case ErrorCode::kTooLarge: return request_too_large();
    case ErrorCode::kUnavailable:
      // The Raft core's back pressure ("too many uncommitted bytes", "too many reads waiting") is etcd's
      // "too many requests"; otherwise the node is stopping.
      if (message.find("too many") != std::string::npos) {
        return etcd(grpc::StatusCode::RESOURCE_EXHAUSTED, "etcdserver: too many requests");
      }
      return etcd(grpc::StatusCode::UNAVAILABLE, "etcdserver: server stopped");
    case ErrorCode::kNoSpace:
      return etcd(grpc::StatusCode::RESOURCE_EXHAUSTED, "etcdserver: mvcc: database space exceeded");
    case ErrorCode::kCorruption: return etcd(grpc::StatusCode::DATA_LOSS, "etcdserver: corrupt cluster");
    case ErrorCode::kInvalidArgument: return etcd(grpc::StatusCode::INVALID_ARGUMENT, message);
    default: return etcd(grpc::StatusCode::UNKNOWN, status.to_string());
  }
}

}  // namespace synod::api
