// Options of Synod's etcd services.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
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
  // How often a watcher that asked for progress notifications and got no events hears the revision
  // reached (etcd's default is ten minutes).
  std::chrono::milliseconds watch_progress_interval = std::chrono::minutes(10);
  // A watch stream whose client takes no response for this long (it stopped reading) is canceled with
  // its watchers (api/watch_stream.h). etcd keeps such streams forever; zero does the same.
  std::chrono::milliseconds watch_stall_timeout = std::chrono::seconds(60);
  // etcd's --quota-backend-bytes: writes that would take the store past this many bytes are refused and
  // raise the NOSPACE alarm (api/space_quota.h). <= 0: no quota.
  int64_t quota_bytes = int64_t{2} << 30U;
  // Lease grants asking for fewer seconds get this many (etcd: 1.5 election timeouts, rounded up).
  int64_t min_lease_ttl = 1;
};

}  // namespace synod::api
