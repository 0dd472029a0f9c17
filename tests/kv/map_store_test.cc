// The replicated map (kv/map_store.h) and its command encoding: each operation's meaning, client
// sessions (a retried request takes effect once), snapshots that restore byte for byte, and decoders
// that refuse truncated, oversized or random input with an error instead of crashing.
#include "kv/map_store.h"

#include <gtest/gtest.h>

#include "base/bytes.h"
#include "base/random.h"
#include "kv/map_command.h"

namespace synod::kv {
namespace {

MapCommand put(const std::string& key, const std::string& value, uint64_t client = 0, uint64_t sequence = 0) {
  return MapCommand{MapOp::kPut, client, sequence, key, value, ""};
}
MapCommand cas(const std::string& key, const std::string& expect, const std::string& value,
               uint64_t client = 0, uint64_t sequence = 0) {
  return MapCommand{MapOp::kCas, client, sequence, key, value, expect};
}
MapCommand del(const std::string& key, uint64_t client = 0, uint64_t sequence = 0) {
  return MapCommand{MapOp::kDelete, client, sequence, key, "", ""};
}
MapCommand get(const std::string& key) {
  return MapCommand{MapOp::kGet, 0, 0, key, "", ""};
}

// Applies `command` as the next log entry and decodes the result.
MapResult apply(MapStore& store, const MapCommand& command) {
  std::string data = command.encode();
  Entry entry{1, store.applied_index() + 1, EntryType::kNormal, data};
  Result<MapResult> result = MapResult::decode(store.apply(entry, data));
  EXPECT_TRUE(result.is_ok()) << result.status().to_string();
  return result.is_ok() ? result.value() : MapResult{};
}

TEST(MapCommand, everyOperationRoundTrips) {
  for (const MapCommand& command :
       {put("k", "v", 3, 9), cas("k", "old", "new", 1, 2), del("k", 5, 1), get("k"), put("", "", 0, 0),
        put(std::string(300, 'x'), std::string(1 << 16, '\0'))}) {
    Result<MapCommand> decoded = MapCommand::decode(command.encode());
    ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
    EXPECT_EQ(decoded.value(), command);
  }
  MapResult result{MapOutcome::kOk, true, std::string("value")};
  EXPECT_EQ(MapResult::decode(result.encode()).value(), result);
}

TEST(MapCommand, everyTruncationAndTrailingGarbageIsAnError) {
  std::string bytes = cas("key", "expected", "value", 300, 70000).encode();
  for (size_t length = 0; length < bytes.size(); ++length) {
    EXPECT_FALSE(MapCommand::decode(bytes.substr(0, length)).is_ok()) << "prefix of " << length << " bytes";
  }
  EXPECT_FALSE(MapCommand::decode(bytes + "x").is_ok());
  std::string bad_op = bytes;
  bad_op[1] = 9;
  Result<MapCommand> refused = MapCommand::decode(bad_op);
  ASSERT_FALSE(refused.is_ok());
  EXPECT_NE(refused.status().message().find("unknown operation"), std::string::npos);
}

TEST(MapCommand, aLengthPastTheEndIsRefusedNotAllocated) {
  ByteWriter out;
  out.put_u8(1);  // version
  out.put_u8(static_cast<uint8_t>(MapOp::kPut));
  out.put_varint(1);
  out.put_varint(1);
  out.put_varint(uint64_t{1} << 62U);  // a key "length" far beyond the input
  Result<MapCommand> refused = MapCommand::decode(out.data());
  ASSERT_FALSE(refused.is_ok());
  EXPECT_NE(refused.status().message().find("runs past the end"), std::string::npos);
  EXPECT_FALSE(ByteReader(std::string(11, '\xff')).varint().is_ok()) << "a varint longer than 64 bits";
}

TEST(MapCommand, randomBytesNeverCrashTheDecoders) {
  Random random(2026);
  for (int i = 0; i < 20000; ++i) {
    std::string bytes(random.uniform(24), '\0');
    for (char& c : bytes) c = static_cast<char>(random.uniform(256));
    if (!bytes.empty() && random.chance(1, 2)) bytes[0] = 1;  // a valid version, to get further in
    (void)MapCommand::decode(bytes);
    (void)MapResult::decode(bytes);
    MapStore store;
    (void)store.restore(bytes);
    EXPECT_EQ(store.size(), 0U);
  }
}

TEST(MapStore, putGetDeleteAndCasFollowTheSequentialMap) {
  MapStore store;
  EXPECT_FALSE(apply(store, get("x")).value.has_value());
  EXPECT_FALSE(apply(store, cas("x", "", "1")).succeeded) << "an absent key fails every compare";
  EXPECT_FALSE(store.get("x").has_value());
  EXPECT_TRUE(apply(store, put("x", "1")).succeeded);
  EXPECT_EQ(apply(store, get("x")).value, "1");
  EXPECT_FALSE(apply(store, cas("x", "2", "3")).succeeded);
  EXPECT_EQ(store.get("x"), "1");
  EXPECT_TRUE(apply(store, cas("x", "1", "3")).succeeded);
  EXPECT_EQ(store.get("x"), "3");
  EXPECT_TRUE(apply(store, del("x")).succeeded);
  EXPECT_FALSE(apply(store, del("x")).succeeded) << "deleting an absent key reports it was absent";
  EXPECT_EQ(store.applied_index(), 8U);
}

TEST(MapStore, aRetriedRequestTakesEffectOnceAndAnswersWithTheFirstResult) {
  MapStore store;
  apply(store, put("x", "a"));
  MapResult first = apply(store, cas("x", "a", "b", /*client=*/7, /*sequence=*/1));
  EXPECT_TRUE(first.succeeded);
  apply(store, put("x", "a"));  // someone else puts the expected value back
  MapResult retry = apply(store, cas("x", "a", "b", 7, 1));
  EXPECT_EQ(retry, first) << "the copy answers with the first result";
  EXPECT_EQ(store.get("x"), "a") << "and does not run again";
  // Client 0 has no session: each copy runs.
  apply(store, cas("x", "a", "c"));
  apply(store, put("x", "a"));
  EXPECT_TRUE(apply(store, cas("x", "a", "c")).succeeded);
}

TEST(MapStore, anOlderRequestOfAClientThatMovedOnIsStaleAndHasNoEffect) {
  MapStore store;
  apply(store, put("x", "1", 4, 2));
  MapResult stale = apply(store, put("x", "old", 4, 1));
  EXPECT_EQ(stale.outcome, MapOutcome::kStale);
  EXPECT_EQ(store.get("x"), "1");
}

TEST(MapStore, sequenceZeroWithASessionIsMalformed) {
  MapStore store;
  EXPECT_EQ(apply(store, put("x", "1", /*client=*/3, /*sequence=*/0)).outcome, MapOutcome::kMalformed);
  EXPECT_FALSE(store.get("x").has_value());
  EXPECT_TRUE(apply(store, put("x", "1", 3, 1)).succeeded);
}

TEST(MapStore, aMalformedCommandIsAnsweredAndChangesNothingButTheIndex) {
  MapStore store;
  apply(store, put("x", "1"));
  std::string garbage = "\x01\x09garbage";
  Result<MapResult> result =
      MapResult::decode(store.apply(Entry{1, 2, EntryType::kNormal, garbage}, garbage));
  ASSERT_TRUE(result.is_ok());
  EXPECT_EQ(result.value().outcome, MapOutcome::kMalformed);
  EXPECT_EQ(store.get("x"), "1");
  EXPECT_EQ(store.applied_index(), 2U);
  EXPECT_TRUE(store.apply(Entry{1, 3, EntryType::kNoop, ""}, "").empty()) << "a no-op has no result";
}

TEST(MapStore, aRestoredSnapshotIsByteForByteTheSameStore) {
  MapStore store;
  apply(store, put("a", "1", 1, 1));
  apply(store, put(std::string("b\0b", 3), std::string("x y\nz", 5), 2, 1));
  apply(store, cas("a", "1", "2", 1, 2));
  std::string snapshot = store.snapshot();
  MapStore restored;
  ASSERT_TRUE(restored.restore(snapshot).is_ok());
  EXPECT_EQ(restored.snapshot(), snapshot);
  EXPECT_EQ(restored.applied_index(), store.applied_index());
  EXPECT_EQ(restored.chain_hash(), store.chain_hash());
  EXPECT_EQ(restored.get(std::string("b\0b", 3)), std::string("x y\nz", 5));
  // Sessions survive too: a retry after the restore is still recognised.
  EXPECT_TRUE(apply(restored, cas("a", "1", "2", 1, 2)).succeeded);
  EXPECT_EQ(restored.get("a"), "2");
}

TEST(MapStore, aCorruptSnapshotIsRefusedAndLeavesTheStoreAsItWas) {
  MapStore source;
  apply(source, put("a", "1"));
  apply(source, put("b", "2"));
  std::string snapshot = source.snapshot();
  MapStore store;
  apply(store, put("mine", "kept"));
  for (size_t length = 0; length < snapshot.size(); ++length) {
    Status status = store.restore(snapshot.substr(0, length));
    EXPECT_FALSE(status.is_ok()) << "prefix of " << length << " bytes";
    EXPECT_EQ(status.code(), ErrorCode::kCorruption);
  }
  EXPECT_FALSE(store.restore(snapshot + "!").is_ok());
  EXPECT_EQ(store.get("mine"), "kept");
  EXPECT_EQ(store.applied_index(), 1U);
}

}  // namespace
}  // namespace synod::kv
