// The errors of the Lock and Election services. etcd's servers return its concurrency package's errors
// as they are, so clients see gRPC code UNKNOWN with these exact texts; everything else (node and store
// errors) is mapped as the KV service maps it (api/etcd_errors.h).
#pragma once

#include <string_view>

#include <grpcpp/support/status.h>

#include "base/status.h"

namespace synod::api::recipe {

inline constexpr std::string_view kSessionExpiredMessage = "mutex: session is expired";
inline constexpr std::string_view kNotLeaderMessage = "election: not leader";
inline constexpr std::string_view kNoLeaderMessage = "election: no leader";
inline constexpr std::string_view kMissingLeaderKeyMessage = "\"leader\" field must be provided";

// A recipe error: its message is one of the above (the code only classifies it: the holder or leader
// the request was about is gone or never was).
inline Status recipe_error(std::string_view message) {
  return Status(ErrorCode::kStale, std::string(message));
}

grpc::Status to_grpc(const Status& status);

}  // namespace synod::api::recipe
