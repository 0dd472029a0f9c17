// --quota-backend-bytes in a real one-member server in process: writes past the quota are refused with
// etcd's error and raise the NOSPACE alarm through the log; while it is up, even small puts and lease
// grants are refused but reads, deletes and compaction go on; etcdctl lists and disarms it as it would
// etcd's, after which writes that fit go through again. Also --max-txn-ops.
#include <thread>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "api/etcdctl_runner.h"
#include "api/proto/lease.grpc.pb.h"
#include "api/proto/rpc.grpc.pb.h"
#include "api/single_member_server.h"

namespace synod::server {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr int64_t kQuotaBytes = 64 * 1024;

class SpaceQuotaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    member_ = std::make_unique<test::SingleMemberServer>(
        ::testing::UnitTest::GetInstance()->current_test_info()->name(), [](ServerConfig& config) {
          config.quota_backend_bytes = kQuotaBytes;
          config.max_txn_ops = 4;
        });
    ASSERT_TRUE(member_->started().is_ok()) << member_->started().to_string();
    kv_ = etcdserverpb::KV::NewStub(member_->channel());
    lease_ = etcdserverpb::Lease::NewStub(member_->channel());
    maintenance_ = etcdserverpb::Maintenance::NewStub(member_->channel());
    Clock::time_point deadline = Clock::now() + 20s;
    while (!put("ready", "").ok()) {
      ASSERT_LT(Clock::now(), deadline) << "no leader";
      std::this_thread::sleep_for(20ms);
    }
  }

  static void deadline(grpc::ClientContext& context) {
    context.set_deadline(std::chrono::system_clock::now() + 5s);
  }
  grpc::Status put(const std::string& key, const std::string& value) {
    grpc::ClientContext context;
    deadline(context);
    etcdserverpb::PutRequest request;
    request.set_key(key);
    request.set_value(value);
    etcdserverpb::PutResponse response;
    return kv_->Put(&context, request, &response);
  }
  grpc::Status del(const std::string& key, const std::string& range_end) {
    grpc::ClientContext context;
    deadline(context);
    etcdserverpb::DeleteRangeRequest request;
    request.set_key(key);
    request.set_range_end(range_end);
    etcdserverpb::DeleteRangeResponse response;
    return kv_->DeleteRange(&context, request, &response);
  }
  grpc::Status compact(int64_t revision) {
    grpc::ClientContext context;
    deadline(context);
    etcdserverpb::CompactionRequest request;
    request.set_revision(revision);
    etcdserverpb::CompactionResponse response;
    return kv_->Compact(&context, request, &response);
  }
  etcdserverpb::StatusResponse status() {
    grpc::ClientContext context;
    deadline(context);
    etcdserverpb::StatusResponse response;
    EXPECT_TRUE(maintenance_->Status(&context, etcdserverpb::StatusRequest(), &response).ok());
    return response;
  }
  etcdserverpb::AlarmResponse alarms() {
    grpc::ClientContext context;
    deadline(context);
    etcdserverpb::AlarmRequest request;
    request.set_action(etcdserverpb::AlarmRequest::GET);
    etcdserverpb::AlarmResponse response;
    EXPECT_TRUE(maintenance_->Alarm(&context, request, &response).ok());
    return response;
  }
  std::string endpoint() const {
    return "127.0.0.1:" + std::to_string(member_->server().client_ports().front());
  }
  // Puts 1 KiB values until the quota refuses one; returns how many went in.
  int fill() {
    std::string value(1024, 'x');
    for (int i = 0; i < 1000; ++i) {
      grpc::Status status = put("fill/" + std::to_string(i), value);
      if (!status.ok()) {
        EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
        EXPECT_EQ(status.error_message(), "etcdserver: mvcc: database space exceeded");
        return i;
      }
    }
    ADD_FAILURE() << "the quota never refused a write";
    return 1000;
  }
  // The alarm is raised through the log, so it shows up shortly after the refusal.
  bool alarm_up() {
    Clock::time_point until = Clock::now() + 5s;
    while (Clock::now() < until) {
      if (alarms().alarms_size() > 0) return true;
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }

  std::unique_ptr<test::SingleMemberServer> member_;
  std::unique_ptr<etcdserverpb::KV::Stub> kv_;
  std::unique_ptr<etcdserverpb::Lease::Stub> lease_;
  std::unique_ptr<etcdserverpb::Maintenance::Stub> maintenance_;
};

TEST_F(SpaceQuotaTest, PastTheQuotaWritesAreRefusedAndNospaceIsRaised) {
  int written = fill();
  // 64 KiB of quota holds a few dozen 1 KiB values, not all of them and not none.
  EXPECT_GT(written, 20);
  EXPECT_LT(written, 64);
  ASSERT_TRUE(alarm_up());
  etcdserverpb::AlarmResponse raised = alarms();
  ASSERT_EQ(raised.alarms_size(), 1);
  EXPECT_EQ(raised.alarms(0).alarm(), etcdserverpb::NOSPACE);
  EXPECT_EQ(raised.alarms(0).memberid(), member_->server().member_id());
  ASSERT_EQ(status().errors_size(), 1);
  EXPECT_NE(status().errors(0).find("alarm:NOSPACE"), std::string::npos);

  // While it is up even a tiny put or a lease grant is refused, by every member's store.
  EXPECT_EQ(put("tiny", "").error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  grpc::ClientContext context;
  deadline(context);
  etcdserverpb::LeaseGrantRequest grant;
  grant.set_ttl(60);
  etcdserverpb::LeaseGrantResponse granted;
  EXPECT_EQ(lease_->LeaseGrant(&context, grant, &granted).error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
}

TEST_F(SpaceQuotaTest, DeletesCompactionAndDisarmMakeItWritableAgain) {
  fill();
  ASSERT_TRUE(alarm_up());
  ASSERT_TRUE(del("fill/", "fill0").ok());
  ASSERT_TRUE(compact(status().header().revision()).ok());
  EXPECT_LT(status().dbsize(), kQuotaBytes / 4) << "compaction frees the deleted history at once";
  EXPECT_EQ(put("tiny", "").error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << "still armed";

  if (!api::test::etcdctl_installed()) GTEST_SKIP() << "etcdctl is not installed";
  std::string listed = api::test::run_etcdctl(endpoint(), "alarm list");
  EXPECT_EQ(listed, "memberID:" + std::to_string(member_->server().member_id()) + " alarm:NOSPACE \n");
  EXPECT_EQ(api::test::run_etcdctl(endpoint(), "defrag"),
            "Finished defragmenting etcd member[" + endpoint() + "]\n");
  std::string disarmed = api::test::run_etcdctl(endpoint(), "alarm disarm");
  EXPECT_EQ(disarmed, listed);
  EXPECT_EQ(api::test::run_etcdctl(endpoint(), "alarm list"), "");
  EXPECT_TRUE(put("tiny", "").ok());
  EXPECT_EQ(api::test::run_etcdctl(endpoint(), "put big " + std::string(100, 'y')), "OK\n");
}

TEST_F(SpaceQuotaTest, MaxTxnOpsIsTheFlagsValue) {
  etcdserverpb::TxnRequest txn;
  for (int i = 0; i < 5; ++i) txn.add_success()->mutable_request_range()->set_key("k" + std::to_string(i));
  grpc::ClientContext context;
  deadline(context);
  etcdserverpb::TxnResponse response;
  grpc::Status refused = kv_->Txn(&context, txn, &response);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(refused.error_message(), "etcdserver: too many operations in txn request");
  txn.mutable_success()->RemoveLast();
  grpc::ClientContext again;
  deadline(again);
  EXPECT_TRUE(kv_->Txn(&again, txn, &response).ok());
}

}  // namespace
}  // namespace synod::server
