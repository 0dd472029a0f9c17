// An in-process etcd API server for tests: the MvccStore behind a FakeBackend, Synod's services on
// 127.0.0.1 at a port the system picks, and a client channel to it.
#pragma once

#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "api/etcd_services.h"
#include "api/fake_backend.h"

namespace synod::api::test {

class ServerFixture : public ::testing::Test {
 protected:
  void start(ServiceOptions options = {}) {
    services_ = std::make_unique<EtcdServices>(backend_, store_, options);
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    services_->register_with(builder);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_GT(port_, 0);
    channel_ = grpc::CreateChannel(endpoint(), grpc::InsecureChannelCredentials());
    kv_ = etcdserverpb::KV::NewStub(channel_);
  }
  void SetUp() override { start(); }
  void TearDown() override {
    if (server_) server_->Shutdown();
  }
  std::string endpoint() const { return "127.0.0.1:" + std::to_string(port_); }

  kv::MvccStore store_;
  FakeBackend backend_{store_};
  std::unique_ptr<EtcdServices> services_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<etcdserverpb::KV::Stub> kv_;
};

}  // namespace synod::api::test
