#include "server/member_dir.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "storage/posix_file_system.h"

namespace synod::server {
namespace {

class MemberDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("synod-member-dir-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    config_.name = "b";
    config_.data_dir = dir_.string();
    config_.listen_peer_urls = parse_urls("http://127.0.0.1:2").value();
    config_.listen_client_urls = parse_urls("http://127.0.0.1:12").value();
    config_.initial_cluster = parse_initial_cluster("a=http://127.0.0.1:1,b=http://127.0.0.1:2").value();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path dir_;
  ServerConfig config_;
  storage::PosixFileSystem fs_;
};

TEST_F(MemberDirTest, FirstStartRecordsTheMemberAndLaterStartsBumpTheIncarnation) {
  std::vector<std::string> notes;
  Result<MemberMeta> first = open_member(fs_, config_, notes);
  ASSERT_TRUE(first.is_ok()) << first.status().to_string();
  EXPECT_EQ(first.value().member_id, 2U);
  EXPECT_EQ(first.value().incarnation, 1U);
  EXPECT_EQ(first.value().engine, "raft");
  EXPECT_EQ(first.value().cluster_id, config_.cluster_id());

  // A restart ignores changed --initial-cluster flags: the data dir wins, as in etcd.
  ServerConfig restarted = config_;
  restarted.initial_cluster = parse_initial_cluster("b=http://127.0.0.1:2,c=http://127.0.0.1:3").value();
  Result<MemberMeta> second = open_member(fs_, restarted, notes);
  ASSERT_TRUE(second.is_ok()) << second.status().to_string();
  EXPECT_EQ(second.value().incarnation, 2U);
  EXPECT_EQ(second.value().member_id, 2U);
  ASSERT_EQ(second.value().members.size(), 2U);
  EXPECT_EQ(second.value().members[0].name, "a");
  EXPECT_EQ(second.value().members[1].peer_urls[0].text(), "http://127.0.0.1:2");
}

TEST_F(MemberDirTest, AnotherEngineOrNameIsRefused) {
  std::vector<std::string> notes;
  ASSERT_TRUE(open_member(fs_, config_, notes).is_ok());
  ServerConfig paxos = config_;
  paxos.engine = EngineKind::kPaxos;
  Result<MemberMeta> refused = open_member(fs_, paxos, notes);
  ASSERT_FALSE(refused.is_ok());
  EXPECT_NE(refused.status().message().find("was created with --engine raft"), std::string::npos)
      << refused.status().message();
  ServerConfig renamed = config_;
  renamed.name = "a";
  ASSERT_FALSE(open_member(fs_, renamed, notes).is_ok());
  // Refusals change nothing: the next proper start still works.
  Result<MemberMeta> again = open_member(fs_, config_, notes);
  ASSERT_TRUE(again.is_ok());
  EXPECT_EQ(again.value().incarnation, 2U);
}

TEST_F(MemberDirTest, JoiningAnExistingClusterIsRefusedUntilMembershipChangesExist) {
  config_.initial_cluster_new = false;
  std::vector<std::string> notes;
  Result<MemberMeta> refused = open_member(fs_, config_, notes);
  ASSERT_FALSE(refused.is_ok());
  EXPECT_NE(refused.status().message().find("membership changes"), std::string::npos);
}

TEST_F(MemberDirTest, DamagedFilesAreErrorsNamingTheLine) {
  std::vector<std::string> notes;
  ASSERT_TRUE(open_member(fs_, config_, notes).is_ok());
  std::string path = (dir_ / "synod.meta").string();
  std::string good;
  {
    std::ifstream in(path);
    good.assign(std::istreambuf_iterator<char>(in), {});
  }
  auto try_with = [&](const std::string& text) {
    std::ofstream(path, std::ios::trunc) << text;
    return open_member(fs_, config_, notes);
  };
  // Cut short at every length: always an error, never a crash or a silently different member.
  for (size_t length = 0; length < good.size(); ++length) {
    Result<MemberMeta> cut = try_with(good.substr(0, length));
    EXPECT_FALSE(cut.is_ok()) << "accepted a file cut at " << length;
  }
  Result<MemberMeta> bad_number = try_with("format=synod-member-v1\nmember_id=x\nend\n");
  ASSERT_FALSE(bad_number.is_ok());
  EXPECT_NE(bad_number.status().message().find("line 2"), std::string::npos) << bad_number.status().message();
  EXPECT_FALSE(try_with("format=synod-member-v9\nend\n").is_ok());
  EXPECT_FALSE(try_with(good + "extra=1\n").is_ok());
  Result<MemberMeta> restored = try_with(good);
  EXPECT_TRUE(restored.is_ok()) << restored.status().to_string();
}

TEST(MemberMetaTest, EncodingRoundTrips) {
  MemberMeta meta;
  meta.engine = "raft";
  meta.cluster_id = 77;
  meta.member_id = 3;
  meta.name = "c";
  meta.incarnation = 9;
  meta.members = parse_initial_cluster("a=http://h:1,b=http://h:2,c=http://h:3,c=http://[::1]:4").value();
  Result<MemberMeta> decoded = MemberMeta::decode(meta.encode());
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
  EXPECT_EQ(decoded.value().encode(), meta.encode());
}

}  // namespace
}  // namespace synod::server
