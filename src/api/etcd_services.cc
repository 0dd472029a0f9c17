#include "api/etcd_services.h"

#include <climits>

namespace synod::api {

void EtcdServices::register_with(grpc::ServerBuilder& builder) {
  builder.RegisterService(&kv_);
  builder.RegisterService(&maintenance_);
  builder.RegisterService(&cluster_);
  builder.RegisterService(&lease_);
  builder.RegisterService(&watch_);
  builder.RegisterService(&lock_);
  builder.RegisterService(&election_);
  size_t limit = options_.max_request_bytes + options_.grpc_overhead_bytes;
  builder.SetMaxReceiveMessageSize(static_cast<int>(std::min<size_t>(limit, INT_MAX)));
}

}  // namespace synod::api
