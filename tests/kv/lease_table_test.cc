// The lease table (kv/lease_table.h): grants with etcd's errors, ids chosen the same way on every
// replica, attachments, and an encoding that round-trips and refuses what it could not have written.
#include "kv/lease_table.h"

#include <gtest/gtest.h>

#include "base/bytes.h"
#include "kv/mvcc_errors.h"

namespace synod::kv {
namespace {

TEST(LeaseTable, grantsTheAskedIdAndRefusesItTwice) {
  LeaseTable table;
  EXPECT_EQ(table.grant(7, 10, 1).value(), 7);
  ASSERT_NE(table.find(7), nullptr);
  EXPECT_EQ(table.find(7)->ttl, 10);
  Result<int64_t> again = table.grant(7, 20, 2);
  ASSERT_FALSE(again.is_ok());
  EXPECT_EQ(again.status().message(), kLeaseExistsMessage);
  EXPECT_EQ(table.find(7)->ttl, 10);
}

TEST(LeaseTable, refusesTtlsAboveEtcdsMaximum) {
  LeaseTable table;
  EXPECT_TRUE(table.grant(1, kMaxLeaseTtl, 1).is_ok());
  Result<int64_t> too_large = table.grant(2, kMaxLeaseTtl + 1, 2);
  ASSERT_FALSE(too_large.is_ok());
  EXPECT_EQ(too_large.status().message(), kLeaseTtlTooLargeMessage);
  EXPECT_FALSE(table.contains(2));
}

TEST(LeaseTable, raisesTtlsBelowOneSecond) {
  LeaseTable table;
  table.grant(1, 0, 1).value();
  table.grant(2, -5, 2).value();
  EXPECT_EQ(table.find(1)->ttl, 1);
  EXPECT_EQ(table.find(2)->ttl, 1);
}

TEST(LeaseTable, chosenIdsArePositiveTheSameOnEveryReplicaAndSkipIdsInUse) {
  LeaseTable a;
  LeaseTable b;
  int64_t first = a.grant(0, 5, 42).value();
  EXPECT_GT(first, 0);
  EXPECT_EQ(b.grant(0, 5, 42).value(), first);
  EXPECT_NE(a.grant(0, 5, 43).value(), first);

  // A client took the id seed 42 would give: the table moves on to another.
  LeaseTable c;
  c.grant(first, 5, 1).value();
  int64_t other = c.grant(0, 5, 42).value();
  EXPECT_NE(other, first);
  EXPECT_GT(other, 0);
}

TEST(LeaseTable, attachAndDetachIgnoreLeasesItDoesNotHave) {
  LeaseTable table;
  table.grant(3, 10, 1).value();
  table.attach(3, "a");
  table.attach(3, "b");
  table.attach(9, "c");  // no such lease
  table.attach(0, "d");  // no lease
  table.detach(3, "a");
  table.detach(9, "c");
  EXPECT_EQ(table.find(3)->keys, (std::set<std::string, std::less<>>{"b"}));
  EXPECT_EQ(table.leases().size(), 1U);
  EXPECT_TRUE(table.remove(3));
  EXPECT_FALSE(table.remove(3));
}

std::string encoded(const LeaseTable& table) {
  ByteWriter out;
  table.encode(out);
  return std::move(out).take();
}

TEST(LeaseTable, encodingRoundTripsWithNegativeIdsAndRefusesBadInput) {
  LeaseTable table;
  table.grant(-4, 3, 1).value();
  table.grant(12, kMaxLeaseTtl, 2).value();
  table.grant(0, 60, 3).value();
  table.attach(12, "not encoded");
  std::string bytes = encoded(table);

  LeaseTable back;
  ByteReader in(bytes);
  ASSERT_TRUE(back.decode(in).is_ok());
  EXPECT_TRUE(in.done());
  EXPECT_EQ(encoded(back), bytes);
  EXPECT_EQ(back.find(-4)->ttl, 3);
  EXPECT_TRUE(back.find(12)->keys.empty());

  auto refused = [](std::initializer_list<uint64_t> fields) {
    ByteWriter out;
    for (uint64_t field : fields) out.put_varint(field);
    std::string data = std::move(out).take();
    LeaseTable probe;
    ByteReader in(data);
    return probe.decode(in).code() == ErrorCode::kCorruption;
  };
  EXPECT_TRUE(refused({1, 0, 5}));        // id 0
  EXPECT_TRUE(refused({2, 5, 1, 3, 1}));  // ids out of order
  EXPECT_TRUE(refused({2, 5, 1, 5, 1}));  // an id twice
  EXPECT_TRUE(refused({1, 5, 0}));        // TTL 0
  EXPECT_TRUE(refused({1, 5, static_cast<uint64_t>(kMaxLeaseTtl) + 1}));
  EXPECT_TRUE(refused({1000}));  // more leases than bytes
  for (size_t length = 0; length < bytes.size(); ++length) {
    LeaseTable probe;
    ByteReader truncated(std::string_view(bytes).substr(0, length));
    EXPECT_FALSE(probe.decode(truncated).is_ok()) << length;
  }
}

}  // namespace
}  // namespace synod::kv
