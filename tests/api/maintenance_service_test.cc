// Maintenance and Cluster beyond Status and MemberList: Hash and HashKV agree between replicas that
// applied the same writes and differ otherwise, Snapshot streams the store's snapshot, MoveLeader
// checks its target, Alarm and Defragment answer, membership changes are refused clearly. Then the
// same through etcdctl.
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include <gtest/gtest.h>

#include "api/backup.h"
#include "api/server_fixture.h"
#include "kv/mvcc_hash.h"

namespace synod::api {
namespace {

class MaintenanceTest : public test::ServerFixture {
 protected:
  void SetUp() override {
    start();
    maintenance_ = etcdserverpb::Maintenance::NewStub(channel_);
    cluster_ = etcdserverpb::Cluster::NewStub(channel_);
  }
  void put(const std::string& key, const std::string& value) {
    etcdserverpb::PutRequest request;
    request.set_key(key);
    request.set_value(value);
    etcdserverpb::PutResponse response;
    grpc::ClientContext context;
    ASSERT_TRUE(kv_->Put(&context, request, &response).ok());
  }
  etcdserverpb::HashKVResponse hash_kv(int64_t revision, grpc::Status* status = nullptr) {
    etcdserverpb::HashKVRequest request;
    request.set_revision(revision);
    etcdserverpb::HashKVResponse response;
    grpc::ClientContext context;
    grpc::Status result = maintenance_->HashKV(&context, request, &response);
    if (status != nullptr) *status = result;
    return response;
  }

  std::unique_ptr<etcdserverpb::Maintenance::Stub> maintenance_;
  std::unique_ptr<etcdserverpb::Cluster::Stub> cluster_;
};

TEST_F(MaintenanceTest, HashKVMatchesAReplicaThatAppliedTheSameWrites) {
  put("a", "1");
  put("b", "2");
  int64_t before = store_.revision();
  put("a", "3");
  grpc::Status status;
  etcdserverpb::HashKVResponse now = hash_kv(0, &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(now.header().revision(), store_.revision());

  // A replica fed the same commands hashes the same; one that missed the last write does not.
  kv::MvccStore replica;
  kv::MvccStore lagging;
  ASSERT_TRUE(replica.restore(store_.snapshot()).is_ok());
  EXPECT_EQ(kv::hash_kv(replica, 0).value(), now.hash());
  ASSERT_TRUE(lagging.restore(store_.snapshot()).is_ok());
  EXPECT_EQ(kv::hash_kv(lagging, before).value(), hash_kv(before).hash());
  EXPECT_NE(hash_kv(before).hash(), now.hash()) << "the hash must see the value change";

  etcdserverpb::HashResponse whole;
  grpc::ClientContext context;
  ASSERT_TRUE(maintenance_->Hash(&context, etcdserverpb::HashRequest(), &whole).ok());
  EXPECT_EQ(whole.hash(), now.hash());
}

TEST_F(MaintenanceTest, HashKVRefusesFutureAndCompactedRevisions) {
  put("a", "1");
  put("a", "2");
  put("a", "3");
  grpc::Status status;
  EXPECT_EQ(hash_kv(0, &status).compact_revision(), -1) << "etcd's answer for a store never compacted";
  hash_kv(store_.revision() + 5, &status);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::OUT_OF_RANGE);
  EXPECT_EQ(status.error_message(), "etcdserver: mvcc: required revision is a future revision");

  etcdserverpb::CompactionRequest compact;
  compact.set_revision(store_.revision());
  etcdserverpb::CompactionResponse compacted;
  grpc::ClientContext context;
  ASSERT_TRUE(kv_->Compact(&context, compact, &compacted).ok());
  hash_kv(2, &status);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::OUT_OF_RANGE);
  EXPECT_EQ(status.error_message(), "etcdserver: mvcc: required revision has been compacted");
  EXPECT_EQ(hash_kv(0, &status).compact_revision(), store_.revision());
}

TEST_F(MaintenanceTest, SnapshotStreamsTheStoreInChunks) {
  // Enough data for several 32 KiB chunks.
  for (int i = 0; i < 40; ++i)
    put("key" + std::to_string(i), std::string(4000, static_cast<char>('a' + i % 26)));
  grpc::ClientContext context;
  auto reader = maintenance_->Snapshot(&context, etcdserverpb::SnapshotRequest());
  etcdserverpb::SnapshotResponse chunk;
  std::string data;
  int chunks = 0;
  uint64_t last_remaining = UINT64_MAX;
  while (reader->Read(&chunk)) {
    data += chunk.blob();
    EXPECT_LT(chunk.remaining_bytes(), last_remaining);
    last_remaining = chunk.remaining_bytes();
    ++chunks;
  }
  ASSERT_TRUE(reader->Finish().ok());
  EXPECT_GT(chunks, 2);
  EXPECT_EQ(last_remaining, 0U);
  Result<std::string> inside = decode_backup(data);
  ASSERT_TRUE(inside.is_ok()) << inside.status().to_string();
  EXPECT_EQ(inside.value(), store_.snapshot());
  kv::MvccStore restored;
  ASSERT_TRUE(restored.restore(inside.value()).is_ok());
  EXPECT_EQ(restored.revision(), store_.revision());
}

TEST(BackupTest, RoundTripsAndRefusesDamage) {
  for (size_t size : {0UL, 1UL, 471UL, 472UL, 473UL, 5000UL}) {
    std::string snapshot(size, 'x');
    std::string backup = encode_backup(snapshot);
    EXPECT_EQ(backup.size() % 512, 32U) << "etcdctl looks for the checksum here";
    Result<std::string> decoded = decode_backup(backup);
    ASSERT_TRUE(decoded.is_ok()) << size << ": " << decoded.status().to_string();
    EXPECT_EQ(decoded.value(), snapshot);
    for (size_t cut : {size_t{0}, backup.size() / 2, backup.size() - 1}) {
      EXPECT_FALSE(decode_backup(backup.substr(0, cut)).is_ok());
    }
    for (size_t at = 0; at < backup.size(); at += 97) {
      std::string flipped = backup;
      flipped[at] ^= 0x20;
      EXPECT_FALSE(decode_backup(flipped).is_ok()) << "a flipped byte at " << at << " went unnoticed";
    }
  }
}

TEST_F(MaintenanceTest, MoveLeaderChecksTheTargetAndReportsTheNodesAnswer) {
  etcdserverpb::MoveLeaderRequest request;
  etcdserverpb::MoveLeaderResponse response;
  request.set_targetid(0x99);
  {
    grpc::ClientContext context;
    grpc::Status status = maintenance_->MoveLeader(&context, request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
    EXPECT_EQ(status.error_message(), "etcdserver: bad leader transferee");
  }
  request.set_targetid(0x2);
  {
    backend_.fail_next(synod::Status(ErrorCode::kNotLeader, "only the leader can transfer leadership"));
    grpc::ClientContext context;
    grpc::Status status = maintenance_->MoveLeader(&context, request, &response);
    EXPECT_EQ(status.error_message(), "etcdserver: not leader");
  }
  {
    backend_.fail_next(synod::Status(ErrorCode::kTimedOut, "not in time"));
    grpc::ClientContext context;
    grpc::Status status = maintenance_->MoveLeader(&context, request, &response);
    EXPECT_EQ(status.error_message(), "etcdserver: request timed out, leader transfer took too long");
  }
  grpc::ClientContext context;
  ASSERT_TRUE(maintenance_->MoveLeader(&context, request, &response).ok());
  EXPECT_EQ(backend_.transferred_to(), 0x2U);
  EXPECT_EQ(response.header().member_id(), test::kMemberId);
}

TEST_F(MaintenanceTest, AlarmsDefragmentAndMembershipChanges) {
  {
    etcdserverpb::AlarmResponse response;
    grpc::ClientContext context;
    ASSERT_TRUE(maintenance_->Alarm(&context, etcdserverpb::AlarmRequest(), &response).ok());
    EXPECT_EQ(response.alarms_size(), 0);
  }
  {
    etcdserverpb::DefragmentResponse response;
    grpc::ClientContext context;
    ASSERT_TRUE(maintenance_->Defragment(&context, etcdserverpb::DefragmentRequest(), &response).ok());
  }
  {
    etcdserverpb::MemberAddRequest request;
    request.add_peerurls("http://127.0.0.1:9");
    etcdserverpb::MemberAddResponse response;
    grpc::ClientContext context;
    grpc::Status status = cluster_->MemberAdd(&context, request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED);
    EXPECT_NE(status.error_message().find("membership changes are not supported"), std::string::npos);
  }
  auto expect_refused = [](const grpc::Status& status, const char* what) {
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED) << what;
    EXPECT_NE(status.error_message().find("membership changes are not supported"), std::string::npos)
        << what << ": " << status.error_message();
  };
  {
    etcdserverpb::MemberRemoveRequest request;
    request.set_id(1);
    etcdserverpb::MemberRemoveResponse response;
    grpc::ClientContext context;
    expect_refused(cluster_->MemberRemove(&context, request, &response), "MemberRemove");
  }
  {
    etcdserverpb::MemberUpdateRequest request;
    request.set_id(1);
    request.add_peerurls("http://127.0.0.1:9");
    etcdserverpb::MemberUpdateResponse response;
    grpc::ClientContext context;
    expect_refused(cluster_->MemberUpdate(&context, request, &response), "MemberUpdate");
  }
  {
    etcdserverpb::MemberPromoteRequest request;
    request.set_id(1);
    etcdserverpb::MemberPromoteResponse response;
    grpc::ClientContext context;
    expect_refused(cluster_->MemberPromote(&context, request, &response), "MemberPromote");
  }
}

}  // namespace
}  // namespace synod::api
