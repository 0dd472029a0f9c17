// A test fixture for the client helpers: a real one-member server in process
// (tests/api/single_member_server.h: election timeout 100 ms, so leases may be as short as one second)
// and an EtcdConnection to it, ready once the member has elected itself.
#pragma once

#include <memory>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "api/single_member_server.h"
#include "client/etcd_connection.h"

namespace synod::client::test {

class MemberFixture : public ::testing::Test {
 protected:
  // `prefix` tells the data dirs of the suites apart.
  explicit MemberFixture(std::string prefix) : prefix_(std::move(prefix)) {}

  void SetUp() override {
    using namespace std::chrono_literals;
    member_ = std::make_unique<server::test::SingleMemberServer>(
        prefix_ + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    ASSERT_TRUE(member_->started().is_ok()) << member_->started().to_string();
    endpoint_ = "127.0.0.1:" + std::to_string(member_->server().client_ports().front());
    connection_ = std::make_unique<EtcdConnection>(ConnectionOptions{{endpoint_}});
    // Writable once the member elected itself.
    Deadline deadline = Clock::now() + 20s;
    etcdserverpb::TxnRequest probe;
    while (!connection_->txn(probe, Clock::now() + 1s).is_ok()) {
      ASSERT_LT(Clock::now(), deadline) << "no leader";
      std::this_thread::sleep_for(20ms);
    }
  }
  void TearDown() override {
    connection_.reset();
    member_.reset();
  }

  std::string prefix_;
  std::unique_ptr<server::test::SingleMemberServer> member_;
  std::string endpoint_;
  std::unique_ptr<EtcdConnection> connection_;
};

}  // namespace synod::client::test
