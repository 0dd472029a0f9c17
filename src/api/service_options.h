// Options of Synod's etcd services.
#pragma once

#include <cstddef>
#include <string>

namespace synod::api {

struct ServiceOptions {
  // A write whose command is larger is refused with etcd's "request is too large" (etcd's
  // --max-request-bytes, whose default this is).
  size_t max_request_bytes = 1536 * 1024;
  // gRPC refuses messages beyond max_request_bytes plus this much outright, as etcd's server does.
  size_t grpc_overhead_bytes = 512 * 1024;
  // The etcd API version Maintenance.Status reports; clients parse it as a semantic version.
  std::string version = "3.4.0";
};

}  // namespace synod::api
