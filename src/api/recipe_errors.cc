#include "api/recipe_errors.h"

#include <string>

#include "api/etcd_errors.h"

namespace synod::api::recipe {

grpc::Status to_grpc(const Status& status) {
  const std::string& message = status.message();
  for (std::string_view known :
       {kSessionExpiredMessage, kNotLeaderMessage, kNoLeaderMessage, kMissingLeaderKeyMessage}) {
    if (message == known) return {grpc::StatusCode::UNKNOWN, message};
  }
  return to_grpc_status(status);
}

}  // namespace synod::api::recipe
