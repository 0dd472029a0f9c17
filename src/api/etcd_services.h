// EtcdServices: Synod's etcd v3 gRPC services (KV, Maintenance, Cluster, Watch, Lease, and etcd's
// server-side Lock and Election) over one Backend and its MVCC store, and how a server adds them to its
// grpc::ServerBuilder:
//
//   api::EtcdServices services(backend, store, options);   // must outlive the grpc::Server
//   grpc::ServerBuilder builder;
//   builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &port);
//   services.register_with(builder);
//   std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
//
// On shutdown, stop the grpc::Server (it waits for calls in flight, which the node answers or times
// out) or stop the node first (it fails what is pending); destroy the services after both.
#pragma once

#include <grpcpp/grpcpp.h>

#include "api/backend.h"
#include "api/cluster_service.h"
#include "api/election_service.h"
#include "api/kv_service.h"
#include "api/lease_service.h"
#include "api/lock_service.h"
#include "api/maintenance_service.h"
#include "api/service_options.h"
#include "api/watch_service.h"
#include "kv/mvcc_store.h"

namespace synod::api {

class EtcdServices {
 public:
  EtcdServices(Backend& backend, const kv::MvccStore& store, ServiceOptions options = {})
      : kv_(backend, store, options),
        maintenance_(backend, store, options),
        cluster_(backend),
        lease_(backend, store, options),
        watch_(backend, store, options),
        lock_(backend, store),
        election_(backend, store),
        options_(options) {}
  EtcdServices(const EtcdServices&) = delete;
  EtcdServices& operator=(const EtcdServices&) = delete;

  // Registers the services and sets the builder's receive limit, as etcd's server does.
  void register_with(grpc::ServerBuilder& builder);
  // Ends the open Watch streams and the Lock, Campaign and Observe calls still waiting (they never end
  // by themselves); call before stopping the grpc::Server.
  void close_streams() {
    watch_.close_streams();
    lock_.close_calls();
    election_.close_calls();
  }

 private:
  KvService kv_;
  MaintenanceService maintenance_;
  ClusterService cluster_;
  LeaseService lease_;
  WatchService watch_;
  LockService lock_;
  ElectionService election_;
  ServiceOptions options_;
};

}  // namespace synod::api
