// The errors the MVCC store answers a request with. Each message is etcd's own text for that error, so
// the API layer (api/etcd_errors.h) can hand clients exactly what etcd would: etcd clients recognise
// errors by their message. The ErrorCode is Synod's rough class of the error.
#pragma once

#include <string_view>

#include "base/status.h"

namespace synod::kv {

// etcd's "mvcc:" errors; its gRPC layer prefixes them with "etcdserver: ".
inline constexpr std::string_view kCompactedMessage = "mvcc: required revision has been compacted";
inline constexpr std::string_view kFutureRevisionMessage = "mvcc: required revision is a future revision";

inline constexpr std::string_view kEmptyKeyMessage = "etcdserver: key is not provided";
inline constexpr std::string_view kKeyNotFoundMessage = "etcdserver: key not found";
inline constexpr std::string_view kValueProvidedMessage = "etcdserver: value is provided";
inline constexpr std::string_view kLeaseProvidedMessage = "etcdserver: lease is provided";
inline constexpr std::string_view kTooManyOpsMessage = "etcdserver: too many operations in txn request";
inline constexpr std::string_view kDuplicateKeyMessage = "etcdserver: duplicate key given in txn request";
inline constexpr std::string_view kInvalidSortMessage = "etcdserver: invalid sort option";
inline constexpr std::string_view kLeaseNotFoundMessage = "etcdserver: requested lease not found";

inline Status compacted_error() {
  return Status(ErrorCode::kCompacted, std::string(kCompactedMessage));
}
inline Status future_revision_error() {
  return Status(ErrorCode::kInvalidArgument, std::string(kFutureRevisionMessage));
}
inline Status invalid(std::string_view message) {
  return Status(ErrorCode::kInvalidArgument, std::string(message));
}

}  // namespace synod::kv
