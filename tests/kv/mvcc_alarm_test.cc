// Alarms in the MVCC store (kv/alarm_table.h): raising and clearing them through the log, what NOSPACE
// and CORRUPT refuse and what they let through, and alarms kept across snapshots. Also the members'
// publications (kv/member_table.h), the other cluster command.
#include <gtest/gtest.h>

#include "base/bytes.h"
#include "kv/alarm_table.h"
#include "kv/lease_test_util.h"
#include "kv/member_table.h"
#include "kv/mvcc_store.h"
#include "kv/mvcc_test_util.h"

namespace synod::kv {
namespace {

using etcdserverpb::AlarmRequest;
using test::Harness;
using test::op;
using test::put_request;
using test::txn_request;

Result<etcdserverpb::AlarmResponse> alarm(Harness& h, AlarmRequest::AlarmAction action, uint64_t member,
                                          etcdserverpb::AlarmType type) {
  AlarmRequest request;
  request.set_action(action);
  request.set_memberid(member);
  request.set_alarm(type);
  return decode_result<etcdserverpb::AlarmResponse>(h.apply_bytes(encode_command(request)));
}

std::vector<std::string> listed(Harness& h) {
  std::vector<std::string> out;
  Result<etcdserverpb::AlarmResponse> response = alarm(h, AlarmRequest::GET, 0, etcdserverpb::NONE);
  EXPECT_TRUE(response.is_ok());
  for (const auto& member : response.value().alarms()) {
    out.push_back(std::to_string(member.memberid()) + ":" + etcdserverpb::AlarmType_Name(member.alarm()));
  }
  return out;
}

TEST(MvccAlarm, RaiseListAndClear) {
  Harness h;
  EXPECT_TRUE(listed(h).empty());
  auto raised = alarm(h, AlarmRequest::ACTIVATE, 7, etcdserverpb::NOSPACE);
  ASSERT_TRUE(raised.is_ok());
  ASSERT_EQ(raised.value().alarms_size(), 1);
  EXPECT_EQ(raised.value().alarms(0).memberid(), 7U);
  // Raising it again reports it again (as etcd) and changes nothing.
  EXPECT_EQ(alarm(h, AlarmRequest::ACTIVATE, 7, etcdserverpb::NOSPACE).value().alarms_size(), 1);
  EXPECT_TRUE(alarm(h, AlarmRequest::ACTIVATE, 3, etcdserverpb::NOSPACE).is_ok());
  EXPECT_EQ(listed(h), (std::vector<std::string>{"3:NOSPACE", "7:NOSPACE"}));
  EXPECT_TRUE(h.store.published_nospace());

  // A GET for one type lists only that type.
  EXPECT_EQ(alarm(h, AlarmRequest::GET, 0, etcdserverpb::CORRUPT).value().alarms_size(), 0);

  auto cleared = alarm(h, AlarmRequest::DEACTIVATE, 7, etcdserverpb::NOSPACE);
  ASSERT_EQ(cleared.value().alarms_size(), 1);
  // Clearing what is not up reports nothing.
  EXPECT_EQ(alarm(h, AlarmRequest::DEACTIVATE, 7, etcdserverpb::NOSPACE).value().alarms_size(), 0);
  EXPECT_TRUE(h.store.published_nospace()) << "member 3's alarm is still up";
  EXPECT_TRUE(alarm(h, AlarmRequest::DEACTIVATE, 3, etcdserverpb::NOSPACE).is_ok());
  EXPECT_TRUE(listed(h).empty());
  EXPECT_FALSE(h.store.published_nospace());
}

TEST(MvccAlarm, UnknownTypesAndMemberZeroRaiseNothing) {
  Harness h;
  EXPECT_TRUE(alarm(h, AlarmRequest::ACTIVATE, 1, etcdserverpb::NONE).is_ok());
  EXPECT_TRUE(alarm(h, AlarmRequest::ACTIVATE, 1, static_cast<etcdserverpb::AlarmType>(9)).is_ok());
  EXPECT_TRUE(alarm(h, AlarmRequest::ACTIVATE, 0, etcdserverpb::NOSPACE).is_ok());
  EXPECT_TRUE(listed(h).empty());
  // And the snapshot stays restorable.
  MvccStore restored;
  EXPECT_TRUE(restored.restore(h.store.snapshot()).is_ok());
}

TEST(MvccAlarm, NospaceRefusesWhatAddsDataAndLetsTheRestThrough) {
  Harness h;
  ASSERT_TRUE(h.put("a", "1").is_ok());
  ASSERT_TRUE(h.put("b", "2").is_ok());
  ASSERT_TRUE(test::grant(h, 5).is_ok());
  EXPECT_TRUE(alarm(h, AlarmRequest::ACTIVATE, 1, etcdserverpb::NOSPACE).is_ok());
  int64_t revision = h.store.revision();

  auto refused_put = h.put("c", "3");
  ASSERT_FALSE(refused_put.is_ok());
  EXPECT_EQ(refused_put.status().code(), ErrorCode::kNoSpace);
  EXPECT_EQ(refused_put.status().message(), "etcdserver: mvcc: database space exceeded");
  EXPECT_FALSE(test::grant(h, 6).is_ok());
  // A put anywhere in a txn, even nested in the branch that would not run, is refused.
  auto nested =
      txn_request({}, {op(test::range_request("a"))}, {op(txn_request({}, {op(put_request("d", "4"))}))});
  EXPECT_EQ(h.txn(nested).status().code(), ErrorCode::kNoSpace);
  EXPECT_EQ(h.store.revision(), revision) << "nothing refused took a revision";

  // Reads in a txn, deletes, compaction, renewals and revokes go on: they are how room is made.
  EXPECT_TRUE(h.txn(txn_request({}, {op(test::range_request("a"))})).is_ok());
  EXPECT_TRUE(h.del(test::delete_request("a")).is_ok());
  EXPECT_TRUE(h.compact(h.store.revision()).is_ok());
  EXPECT_TRUE(test::renew(h, 5).is_ok());
  EXPECT_TRUE(test::revoke(h, 5).is_ok());

  EXPECT_TRUE(alarm(h, AlarmRequest::DEACTIVATE, 1, etcdserverpb::NOSPACE).is_ok());
  EXPECT_TRUE(h.put("c", "3").is_ok());
}

TEST(MvccAlarm, CorruptRefusesEveryWriteButAlarmCommands) {
  Harness h;
  ASSERT_TRUE(h.put("a", "1").is_ok());
  EXPECT_TRUE(alarm(h, AlarmRequest::ACTIVATE, 2, etcdserverpb::CORRUPT).is_ok());
  EXPECT_EQ(h.put("a", "2").status().code(), ErrorCode::kCorruption);
  EXPECT_EQ(h.del(test::delete_request("a")).status().code(), ErrorCode::kCorruption);
  EXPECT_EQ(h.compact(1).status().code(), ErrorCode::kCorruption);
  EXPECT_EQ(h.kvs("a"), std::vector<std::string>{"a=1"});
  EXPECT_TRUE(alarm(h, AlarmRequest::DEACTIVATE, 2, etcdserverpb::CORRUPT).is_ok());
  EXPECT_TRUE(h.put("a", "2").is_ok());
}

TEST(MvccAlarm, AlarmsSurviveSnapshotAndRestore) {
  Harness h;
  EXPECT_TRUE(h.put("a", "1").is_ok());
  EXPECT_TRUE(alarm(h, AlarmRequest::ACTIVATE, 9, etcdserverpb::NOSPACE).is_ok());
  EXPECT_TRUE(alarm(h, AlarmRequest::ACTIVATE, 4, etcdserverpb::CORRUPT).is_ok());
  std::string snapshot = h.store.snapshot();
  Harness restored;
  ASSERT_TRUE(restored.store.restore(snapshot).is_ok());
  EXPECT_EQ(restored.store.snapshot(), snapshot);  // before listing, which goes through the log
  EXPECT_EQ(listed(restored), (std::vector<std::string>{"4:CORRUPT", "9:NOSPACE"}));
  EXPECT_TRUE(restored.store.published_nospace());
}

TEST(MvccAlarm, TableRefusesBadEncodings) {
  AlarmTable table;
  table.raise(2, etcdserverpb::NOSPACE);
  ByteWriter good;
  table.encode(good);
  AlarmTable copy;
  ByteReader good_in(good.data());
  ASSERT_TRUE(copy.decode(good_in).is_ok());
  EXPECT_EQ(copy.list().size(), 1U);

  auto decode = [](const ByteWriter& out) {
    AlarmTable fresh;
    ByteReader in(out.data());
    return fresh.decode(in);
  };
  ByteWriter unknown;
  unknown.put_varint(1);
  unknown.put_varint(2);
  unknown.put_varint(7);
  EXPECT_EQ(decode(unknown).code(), ErrorCode::kCorruption);
  ByteWriter nobody;
  nobody.put_varint(1);
  nobody.put_varint(0);
  nobody.put_varint(1);
  EXPECT_EQ(decode(nobody).code(), ErrorCode::kCorruption);
  ByteWriter disorder;
  disorder.put_varint(2);
  disorder.put_varint(5);
  disorder.put_varint(1);
  disorder.put_varint(3);
  disorder.put_varint(1);
  EXPECT_EQ(decode(disorder).code(), ErrorCode::kCorruption);
  ByteWriter too_many;
  too_many.put_varint(1000);
  EXPECT_EQ(decode(too_many).code(), ErrorCode::kCorruption);
}

TEST(MvccAlarm, AddedBytesCountsPutsAtAnyDepthAndTheLargerBranch) {
  EXPECT_EQ(added_bytes(etcdserverpb::TxnRequest()), 0U);
  auto small = put_request("k", "v");
  auto large = put_request("key", std::string(1000, 'x'));
  EXPECT_GT(added_bytes(large), added_bytes(small));
  auto txn = txn_request({}, {op(small)}, {op(txn_request({}, {op(large)}))});
  EXPECT_EQ(added_bytes(txn), added_bytes(large));
  EXPECT_EQ(added_bytes(txn_request({}, {op(test::delete_request("k"))})), 0U);
}

// Members' publications (kv/member_table.h) ride in the same snapshot and are not writes.
TEST(MvccMembers, PublicationsAreKeptReplacedAndSnapshotted) {
  Harness h;
  auto publish = [&](uint64_t id, const std::string& name, std::vector<std::string> urls) {
    synodpb::MemberAttributes attributes;
    attributes.set_member_id(id);
    attributes.set_name(name);
    for (const std::string& url : urls) attributes.add_client_urls(url);
    return decode_result<synodpb::MemberAttributes>(h.apply_bytes(encode_command(attributes)));
  };
  int64_t revision = h.store.revision();
  ASSERT_TRUE(publish(2, "b", {"http://127.0.0.1:2"}).is_ok());
  ASSERT_TRUE(publish(1, "a", {"http://127.0.0.1:1", "http://10.0.0.1:1"}).is_ok());
  ASSERT_TRUE(publish(2, "b", {"http://127.0.0.1:22"}).is_ok());
  ASSERT_TRUE(publish(0, "nobody", {"x"}).is_ok());
  EXPECT_EQ(h.store.revision(), revision) << "publications change no key";
  auto published = h.store.published_members();
  ASSERT_EQ(published.size(), 2U);
  EXPECT_EQ(published[1].client_urls.size(), 2U);
  EXPECT_EQ(published[2].client_urls, std::vector<std::string>{"http://127.0.0.1:22"});

  // Even a CORRUPT alarm lets a member publish.
  EXPECT_TRUE(alarm(h, AlarmRequest::ACTIVATE, 1, etcdserverpb::CORRUPT).is_ok());
  EXPECT_TRUE(publish(3, "c", {"http://127.0.0.1:3"}).is_ok());
  EXPECT_EQ(h.store.published_members().size(), 3U);

  Harness restored;
  ASSERT_TRUE(restored.store.restore(h.store.snapshot()).is_ok());
  EXPECT_EQ(restored.store.published_members(), h.store.published_members());
  EXPECT_EQ(restored.store.snapshot(), h.store.snapshot());
}

TEST(MvccMembers, TableRefusesBadEncodings) {
  auto decode = [](const ByteWriter& out) {
    MemberTable table;
    ByteReader in(out.data());
    return table.decode(in);
  };
  ByteWriter zero;
  zero.put_varint(1);
  zero.put_varint(0);
  zero.put_string("a");
  zero.put_varint(0);
  EXPECT_EQ(decode(zero).code(), ErrorCode::kCorruption);
  ByteWriter disorder;
  disorder.put_varint(2);
  for (uint64_t id : {3, 2}) {
    disorder.put_varint(id);
    disorder.put_string("m");
    disorder.put_varint(0);
  }
  EXPECT_EQ(decode(disorder).code(), ErrorCode::kCorruption);
  ByteWriter lying;
  lying.put_varint(1);
  lying.put_varint(1);
  lying.put_string("a");
  lying.put_varint(1000);
  EXPECT_EQ(decode(lying).code(), ErrorCode::kCorruption);
}

}  // namespace
}  // namespace synod::kv
