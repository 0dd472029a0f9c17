// Synod's etcd services over gRPC, in process: the generated etcd stubs call the KV, Maintenance and
// Cluster services on a real server (loopback, port 0) whose Backend applies proposals straight to an
// MVCC store on a worker thread. Checks results, response headers, and that errors arrive with etcd's
// gRPC codes and messages.
#include <thread>

#include <gtest/gtest.h>

#include "api/etcd_errors.h"
#include "api/server_fixture.h"
#include "kv/mvcc_errors.h"

namespace synod::api {
namespace {

using test::kClusterId;
using test::kMemberId;
using test::kTerm;

class KvServiceTest : public test::ServerFixture {
 protected:
  grpc::Status put(const std::string& key, const std::string& value,
                   etcdserverpb::PutResponse* out = nullptr) {
    grpc::ClientContext context;
    etcdserverpb::PutRequest request;
    request.set_key(key);
    request.set_value(value);
    etcdserverpb::PutResponse response;
    grpc::Status status = kv_->Put(&context, request, &response);
    if (out != nullptr) *out = response;
    return status;
  }
  grpc::Status range(const etcdserverpb::RangeRequest& request, etcdserverpb::RangeResponse* response) {
    grpc::ClientContext context;
    return kv_->Range(&context, request, response);
  }
  static etcdserverpb::RangeRequest range_of(const std::string& key, const std::string& end = "") {
    etcdserverpb::RangeRequest request;
    request.set_key(key);
    request.set_range_end(end);
    return request;
  }
};

void expect_header(const etcdserverpb::ResponseHeader& header, int64_t revision) {
  EXPECT_EQ(header.cluster_id(), kClusterId);
  EXPECT_EQ(header.member_id(), kMemberId);
  EXPECT_EQ(header.raft_term(), kTerm);
  EXPECT_EQ(header.revision(), revision);
}

TEST_F(KvServiceTest, putThenRangeCarryValuesAndHeaders) {
  etcdserverpb::PutResponse put_response;
  ASSERT_TRUE(put("foo", "bar", &put_response).ok());
  expect_header(put_response.header(), 2);
  ASSERT_TRUE(put("fop", "baz").ok());

  etcdserverpb::RangeResponse response;
  ASSERT_TRUE(range(range_of("foo"), &response).ok());
  expect_header(response.header(), 3);
  ASSERT_EQ(response.kvs_size(), 1);
  EXPECT_EQ(response.kvs(0).value(), "bar");
  EXPECT_EQ(response.kvs(0).create_revision(), 2);
  EXPECT_EQ(response.count(), 1);

  auto prefix = range_of("fo", "fp");
  prefix.set_limit(1);
  prefix.set_serializable(true);
  ASSERT_TRUE(range(prefix, &response).ok());
  EXPECT_EQ(response.kvs_size(), 1);
  EXPECT_TRUE(response.more());
  EXPECT_EQ(response.count(), 2);
  // Only the first range asked for a linearizable read.
  EXPECT_EQ(backend_.linearizable_reads(), 1);
  EXPECT_EQ(backend_.proposals(), 2);
}

TEST_F(KvServiceTest, deleteRangeReturnsWhatItDeleted) {
  ASSERT_TRUE(put("a1", "x").ok());
  ASSERT_TRUE(put("a2", "y").ok());
  grpc::ClientContext context;
  etcdserverpb::DeleteRangeRequest request;
  request.set_key("a");
  request.set_range_end("b");
  request.set_prev_kv(true);
  etcdserverpb::DeleteRangeResponse response;
  ASSERT_TRUE(kv_->DeleteRange(&context, request, &response).ok());
  EXPECT_EQ(response.deleted(), 2);
  ASSERT_EQ(response.prev_kvs_size(), 2);
  EXPECT_EQ(response.prev_kvs(1).value(), "y");
  expect_header(response.header(), 4);
}

TEST_F(KvServiceTest, txnTakesTheRightBranch) {
  ASSERT_TRUE(put("k", "v1").ok());
  etcdserverpb::TxnRequest request;
  etcdserverpb::Compare& compare = *request.add_compare();
  compare.set_key("k");
  compare.set_target(etcdserverpb::Compare::VALUE);
  compare.set_result(etcdserverpb::Compare::EQUAL);
  compare.set_value("v1");
  etcdserverpb::PutRequest& then = *request.add_success()->mutable_request_put();
  then.set_key("k");
  then.set_value("v2");
  request.add_success()->mutable_request_range()->set_key("k");
  request.add_failure()->mutable_request_range()->set_key("k");

  etcdserverpb::TxnResponse response;
  {
    grpc::ClientContext context;
    ASSERT_TRUE(kv_->Txn(&context, request, &response).ok());
  }
  EXPECT_TRUE(response.succeeded());
  ASSERT_EQ(response.responses_size(), 2);
  EXPECT_EQ(response.responses(1).response_range().kvs(0).value(), "v2");
  expect_header(response.header(), 3);
  {
    grpc::ClientContext context;
    ASSERT_TRUE(kv_->Txn(&context, request, &response).ok());
  }
  EXPECT_FALSE(response.succeeded());
  ASSERT_EQ(response.responses_size(), 1);
  EXPECT_EQ(response.responses(0).response_range().kvs(0).value(), "v2");
}

TEST_F(KvServiceTest, refusedRequestsCarryEtcdsCodesAndMessages) {
  etcdserverpb::RangeResponse response;
  grpc::Status empty = range(range_of(""), &response);
  EXPECT_EQ(empty.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(empty.error_message(), "etcdserver: key is not provided");
  EXPECT_EQ(put("", "v").error_message(), "etcdserver: key is not provided");

  etcdserverpb::TxnRequest duplicate;
  for (int i = 0; i < 2; ++i) {
    auto& p = *duplicate.add_success()->mutable_request_put();
    p.set_key("same");
  }
  grpc::ClientContext context;
  etcdserverpb::TxnResponse txn_response;
  grpc::Status refused = kv_->Txn(&context, duplicate, &txn_response);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(refused.error_message(), "etcdserver: duplicate key given in txn request");
  // Refused before consensus.
  EXPECT_EQ(backend_.proposals(), 0);

  ASSERT_TRUE(put("k", "1").ok());
  ASSERT_TRUE(put("k", "2").ok());
  auto future = range_of("k");
  future.set_revision(10);
  grpc::Status too_new = range(future, &response);
  EXPECT_EQ(too_new.error_code(), grpc::StatusCode::OUT_OF_RANGE);
  EXPECT_EQ(too_new.error_message(), "etcdserver: mvcc: required revision is a future revision");

  grpc::ClientContext compact_context;
  etcdserverpb::CompactionRequest compaction;
  compaction.set_revision(3);
  etcdserverpb::CompactionResponse compacted;
  ASSERT_TRUE(kv_->Compact(&compact_context, compaction, &compacted).ok());
  expect_header(compacted.header(), 3);
  auto old = range_of("k");
  old.set_revision(2);
  grpc::Status gone = range(old, &response);
  EXPECT_EQ(gone.error_code(), grpc::StatusCode::OUT_OF_RANGE);
  EXPECT_EQ(gone.error_message(), "etcdserver: mvcc: required revision has been compacted");
}

TEST_F(KvServiceTest, consensusFailuresBecomeEtcdsErrors) {
  backend_.fail_next(Status(ErrorCode::kTimedOut, "not applied in time"));
  grpc::Status timed_out = put("k", "v");
  EXPECT_EQ(timed_out.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(timed_out.error_message(), "etcdserver: request timed out");

  backend_.fail_next(Status(ErrorCode::kNoLeader, "no leader is known"));
  etcdserverpb::RangeResponse response;
  grpc::Status no_leader = range(range_of("k"), &response);
  EXPECT_EQ(no_leader.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(no_leader.error_message(), "etcdserver: no leader");
}

TEST_F(KvServiceTest, manyClientsAtOnceEachGetTheirOwnRevision) {
  constexpr int kThreads = 4;
  constexpr int kPuts = 25;
  std::vector<std::thread> clients;
  std::vector<std::vector<int64_t>> revisions(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    clients.emplace_back([&, t] {
      for (int i = 0; i < kPuts; ++i) {
        etcdserverpb::PutResponse response;
        if (put("key" + std::to_string(t), std::to_string(i), &response).ok()) {
          revisions[t].push_back(response.header().revision());
        }
      }
    });
  }
  for (std::thread& client : clients) client.join();
  std::set<int64_t> all;
  for (const auto& list : revisions) {
    EXPECT_EQ(list.size(), static_cast<size_t>(kPuts));
    all.insert(list.begin(), list.end());
  }
  EXPECT_EQ(all.size(), static_cast<size_t>(kThreads * kPuts));
  EXPECT_EQ(*all.rbegin(), 1 + kThreads * kPuts);
}

class SmallRequestTest : public test::ServerFixture {
 protected:
  void SetUp() override { start(ServiceOptions{.max_request_bytes = 1024}); }
};

TEST_F(SmallRequestTest, aRequestOverTheLimitIsTooLarge) {
  grpc::ClientContext context;
  etcdserverpb::PutRequest request;
  request.set_key("big");
  request.set_value(std::string(2000, 'x'));
  etcdserverpb::PutResponse response;
  grpc::Status status = kv_->Put(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "etcdserver: request is too large");
  EXPECT_EQ(backend_.proposals(), 0);
}

TEST_F(KvServiceTest, maintenanceStatusAndMemberList) {
  ASSERT_TRUE(put("k", "v").ok());
  auto maintenance = etcdserverpb::Maintenance::NewStub(channel_);
  grpc::ClientContext context;
  etcdserverpb::StatusResponse status;
  ASSERT_TRUE(maintenance->Status(&context, etcdserverpb::StatusRequest(), &status).ok());
  expect_header(status.header(), 2);
  EXPECT_EQ(status.version(), "3.4.0");
  EXPECT_EQ(status.leader(), kMemberId);
  EXPECT_EQ(status.raftterm(), kTerm);
  EXPECT_EQ(status.raftindex(), 42U);
  EXPECT_EQ(status.raftappliedindex(), 1U);  // the store's own
  EXPECT_GT(status.dbsize(), 0);

  auto cluster = etcdserverpb::Cluster::NewStub(channel_);
  for (bool linearizable : {false, true}) {
    grpc::ClientContext list_context;
    etcdserverpb::MemberListRequest request;
    request.set_linearizable(linearizable);
    etcdserverpb::MemberListResponse members;
    ASSERT_TRUE(cluster->MemberList(&list_context, request, &members).ok());
    EXPECT_EQ(members.header().member_id(), kMemberId);
    ASSERT_EQ(members.members_size(), 2);
    EXPECT_EQ(members.members(0).name(), "synod-1");
    EXPECT_EQ(members.members(0).clienturls(0), "http://127.0.0.1:2379");
    EXPECT_TRUE(members.members(1).islearner());
  }
}

TEST(EtcdErrors, mapSynodErrorsToEtcdsStatuses) {
  auto check = [](const Status& status, grpc::StatusCode code, const std::string& message) {
    grpc::Status mapped = to_grpc_status(status);
    EXPECT_EQ(mapped.error_code(), code) << status.to_string();
    EXPECT_EQ(mapped.error_message(), message) << status.to_string();
  };
  check(Status(ErrorCode::kCompacted, std::string(kv::kCompactedMessage)), grpc::StatusCode::OUT_OF_RANGE,
        "etcdserver: mvcc: required revision has been compacted");
  check(Status(ErrorCode::kInvalidArgument, std::string(kv::kKeyNotFoundMessage)),
        grpc::StatusCode::INVALID_ARGUMENT, "etcdserver: key not found");
  check(Status(ErrorCode::kTooLarge, "proposal of 9 bytes"), grpc::StatusCode::INVALID_ARGUMENT,
        "etcdserver: request is too large");
  check(Status(ErrorCode::kAborted, "log slot 4 was taken"), grpc::StatusCode::UNAVAILABLE,
        "etcdserver: leader changed");
  check(Status(ErrorCode::kUnavailable, "too many uncommitted bytes; retry later"),
        grpc::StatusCode::RESOURCE_EXHAUSTED, "etcdserver: too many requests");
  check(Status(ErrorCode::kUnavailable, "the node stopped"), grpc::StatusCode::UNAVAILABLE,
        "etcdserver: server stopped");
  check(Status(ErrorCode::kNotLeader, "the leader is node 2"), grpc::StatusCode::FAILED_PRECONDITION,
        "etcdserver: not leader");
}

}  // namespace
}  // namespace synod::api
