// Leases expiring for real: a one-member Synod server in process (real node loop, disk, lessor), with
// short timeouts so its minimum lease TTL is one second. A lease nobody keeps alive expires about a TTL
// after its grant and its key disappears; a lease kept alive through the KeepAlive stream stays, with
// its key, and TimeToLive counts its time down.
#include <filesystem>
#include <thread>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "api/proto/lease.grpc.pb.h"
#include "api/proto/rpc.grpc.pb.h"
#include "server/process.h"
#include "server/server.h"

namespace synod::server {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

class LeaseExpiryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("synod-lease-expiry-" + std::to_string(getpid()));
    std::filesystem::remove_all(dir_);
    std::string peer = "http://127.0.0.1:" + std::to_string(free_port().value());
    ServerConfig config;
    config.name = "a";
    config.data_dir = dir_.string();
    config.listen_peer_urls = parse_urls(peer).value();
    config.listen_client_urls = parse_urls("http://127.0.0.1:" + std::to_string(free_port().value())).value();
    config.initial_cluster = parse_initial_cluster("a=" + peer).value();
    config.heartbeat_interval = 10ms;
    config.election_timeout = 100ms;  // 1.5 election timeouts round up to a minimum TTL of 1 s
    ASSERT_TRUE(config.validate().is_ok()) << config.validate().to_string();
    Result<std::unique_ptr<Server>> started = Server::start(config);
    ASSERT_TRUE(started.is_ok()) << started.status().to_string();
    server_ = std::move(started).value();
    auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->client_ports().front()),
                                       grpc::InsecureChannelCredentials());
    kv_ = etcdserverpb::KV::NewStub(channel);
    lease_ = etcdserverpb::Lease::NewStub(channel);
    // Writable once the member elected itself.
    Clock::time_point deadline = Clock::now() + 20s;
    while (!put("ready", 0).ok()) {
      ASSERT_LT(Clock::now(), deadline) << "no leader";
      std::this_thread::sleep_for(20ms);
    }
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  grpc::Status put(const std::string& key, int64_t lease) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 5s);
    etcdserverpb::PutRequest request;
    request.set_key(key);
    request.set_value("v");
    request.set_lease(lease);
    etcdserverpb::PutResponse response;
    return kv_->Put(&context, request, &response);
  }
  bool exists(const std::string& key) {
    grpc::ClientContext context;
    etcdserverpb::RangeRequest request;
    request.set_key(key);
    etcdserverpb::RangeResponse response;
    EXPECT_TRUE(kv_->Range(&context, request, &response).ok());
    return response.count() == 1;
  }
  etcdserverpb::LeaseGrantResponse grant(int64_t ttl) {
    grpc::ClientContext context;
    etcdserverpb::LeaseGrantRequest request;
    request.set_ttl(ttl);
    etcdserverpb::LeaseGrantResponse response;
    EXPECT_TRUE(lease_->LeaseGrant(&context, request, &response).ok());
    return response;
  }
  etcdserverpb::LeaseTimeToLiveResponse time_to_live(int64_t id) {
    grpc::ClientContext context;
    etcdserverpb::LeaseTimeToLiveRequest request;
    request.set_id(id);
    etcdserverpb::LeaseTimeToLiveResponse response;
    EXPECT_TRUE(lease_->LeaseTimeToLive(&context, request, &response).ok());
    return response;
  }

  std::filesystem::path dir_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<etcdserverpb::KV::Stub> kv_;
  std::unique_ptr<etcdserverpb::Lease::Stub> lease_;
};

TEST_F(LeaseExpiryTest, aLeaseNotKeptAliveExpiresAndTakesItsKeyWhileAKeptOneStays) {
  Clock::time_point granted_at = Clock::now();
  etcdserverpb::LeaseGrantResponse lapsing = grant(1);
  ASSERT_EQ(lapsing.ttl(), 1);
  etcdserverpb::LeaseGrantResponse kept = grant(1);
  ASSERT_TRUE(put("lapsing", lapsing.id()).ok());
  ASSERT_TRUE(put("kept", kept.id()).ok());
  EXPECT_EQ(time_to_live(kept.id()).grantedttl(), 1);

  grpc::ClientContext context;
  auto stream = lease_->LeaseKeepAlive(&context);
  Clock::time_point deadline = Clock::now() + 15s;
  std::optional<Clock::duration> gone_after;
  // Keep `kept` alive every 200 ms until `lapsing` is gone, then for two seconds more.
  while (Clock::now() < deadline) {
    etcdserverpb::LeaseKeepAliveRequest request;
    request.set_id(kept.id());
    ASSERT_TRUE(stream->Write(request));
    etcdserverpb::LeaseKeepAliveResponse response;
    ASSERT_TRUE(stream->Read(&response));
    ASSERT_EQ(response.ttl(), 1) << "the kept lease expired";
    if (!gone_after && !exists("lapsing")) {
      gone_after = Clock::now() - granted_at;
      deadline = Clock::now() + 2s;
    }
    std::this_thread::sleep_for(200ms);
  }
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());

  ASSERT_TRUE(gone_after) << "the lease that was not kept alive never expired";
  EXPECT_GE(*gone_after, 1s) << "expired before its TTL";
  EXPECT_TRUE(exists("kept"));
  EXPECT_EQ(time_to_live(lapsing.id()).ttl(), -1);
  etcdserverpb::LeaseTimeToLiveResponse left = time_to_live(kept.id());
  EXPECT_GE(left.ttl(), 0);
  EXPECT_LE(left.ttl(), 1);
}

}  // namespace
}  // namespace synod::server
