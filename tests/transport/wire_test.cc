// The peer wire format: every message type round-trips with every field, random messages round-trip
// (RapidCheck), a hello from another cluster, version or member is refused with a clear reason, and
// frames that are oversized, damaged, truncated or random are refused without a crash. A message framed
// in two pieces (for writing a snapshot in place) is the same bytes as one framed whole; pings and pongs
// round-trip.
#include "transport/wire.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>

#include "base/random.h"
#include "support/rapidcheck_gtest.h"

namespace synod::transport {
namespace {

bool same(const Message& a, const Message& b) {
  bool snapshots = (a.snapshot == nullptr) == (b.snapshot == nullptr) &&
                   (a.snapshot == nullptr || *a.snapshot == *b.snapshot);
  return a.type == b.type && a.from == b.from && a.to == b.to && a.term == b.term &&
         a.log_term == b.log_term && a.index == b.index && a.commit == b.commit && a.reject == b.reject &&
         a.hint_index == b.hint_index && a.hint_term == b.hint_term && a.entries == b.entries &&
         a.context == b.context && snapshots;
}

Message full_message(MessageType type) {
  Message message;
  message.type = type;
  message.from = 3;
  message.to = 70000;
  message.term = 1ULL << 40U;
  message.log_term = 9;
  message.index = 123456789;
  message.commit = 42;
  message.reject = true;
  message.hint_index = 17;
  message.hint_term = 8;
  message.context = std::string("read\0ctx", 8);
  message.entries = {Entry{9, 100, EntryType::kNoop, ""},
                     Entry{9, 101, EntryType::kNormal, std::string(5000, 'e')}};
  message.snapshot =
      std::make_shared<const Snapshot>(Snapshot{SnapshotMeta{99, 8, ConfState{{1, 2, 3}}}, "state"});
  return message;
}

TEST(Wire, everyMessageTypeRoundTripsWithEveryField) {
  for (int type = 0; type < kMessageTypeCount; ++type) {
    Message message = full_message(static_cast<MessageType>(type));
    Result<Message> decoded = decode_message(encode_message(message));
    ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
    EXPECT_TRUE(same(decoded.value(), message)) << message.describe();
  }
  Message bare;
  bare.type = MessageType::kHeartbeat;
  Result<Message> decoded = decode_message(encode_message(bare));
  ASSERT_TRUE(decoded.is_ok());
  EXPECT_TRUE(same(decoded.value(), bare));
  EXPECT_EQ(decoded.value().snapshot, nullptr);
}

TEST(Wire, randomMessagesRoundTrip) {
  constexpr int kCases = 500;
  testing_support::expect_success(
      testing_support::check_property(
          "wire round trip", kCases, 11,
          [] {
            Message message;
            message.type = static_cast<MessageType>(*rc::gen::inRange(0, kMessageTypeCount));
            message.from = *rc::gen::arbitrary<uint64_t>();
            message.to = *rc::gen::arbitrary<uint64_t>();
            message.term = *rc::gen::arbitrary<uint64_t>();
            message.index = *rc::gen::arbitrary<uint64_t>();
            message.reject = *rc::gen::arbitrary<bool>();
            message.context = *rc::gen::arbitrary<std::string>();
            int count = *rc::gen::inRange(0, 5);
            for (int i = 0; i < count; ++i) {
              message.entries.push_back(Entry{*rc::gen::arbitrary<uint64_t>(),
                                              *rc::gen::arbitrary<uint64_t>(),
                                              *rc::gen::element(EntryType::kNormal, EntryType::kNoop),
                                              *rc::gen::arbitrary<std::string>()});
            }
            Result<Message> decoded = decode_message(encode_message(message));
            RC_ASSERT(decoded.is_ok());
            RC_ASSERT(same(decoded.value(), message));
          }),
      kCases);
}

TEST(Wire, aHelloFromAnotherClusterVersionOrMemberIsRefusedWithTheReason) {
  Hello hello{kWireVersion, 77, 2};
  Result<Hello> decoded = decode_hello(encode_hello(hello));
  ASSERT_TRUE(decoded.is_ok());
  EXPECT_EQ(decoded.value(), hello);
  EXPECT_TRUE(check_hello(hello, 77, 2).is_ok());
  EXPECT_TRUE(check_hello(hello, 77, std::nullopt).is_ok());
  Status cluster = check_hello(hello, 78, std::nullopt);
  ASSERT_FALSE(cluster.is_ok());
  EXPECT_NE(cluster.message().find("cluster 77"), std::string::npos) << cluster.message();
  Status member = check_hello(hello, 77, 3);
  ASSERT_FALSE(member.is_ok());
  EXPECT_NE(member.message().find("expected member 3"), std::string::npos) << member.message();
  Hello future{static_cast<uint8_t>(kWireVersion + 1), 77, 2};
  Status version = check_hello(future, 77, std::nullopt);
  ASSERT_FALSE(version.is_ok());
  EXPECT_NE(version.message().find("wire version"), std::string::npos) << version.message();
  EXPECT_FALSE(decode_hello(encode_message(Message{})).is_ok()) << "a message is not a hello";
  Status nobody = check_hello(Hello{kWireVersion, 77, kNoNode}, 77, std::nullopt);
  ASSERT_FALSE(nobody.is_ok());
  EXPECT_NE(nobody.message().find("no member"), std::string::npos) << nobody.message();
}

TEST(Wire, theHelloNamesItsChannelAndAVersionOneHelloIsRefusedForItsVersion) {
  Hello bulk{kWireVersion, 5, 3, Channel::kBulk};
  Result<Hello> decoded = decode_hello(encode_hello(bulk));
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
  EXPECT_EQ(decoded.value(), bulk);
  std::string unknown_channel = encode_hello(bulk);
  unknown_channel.back() = '\x07';
  EXPECT_FALSE(decode_hello(unknown_channel).is_ok());
  EXPECT_FALSE(decode_hello(encode_hello(bulk) + "x").is_ok()) << "trailing bytes";

  // What a version 1 member sends: version, kind, cluster, member, and no channel.
  std::string version_one = std::string("\x01\x02", 2) + "\x05\x03";
  Result<Hello> old = decode_hello(version_one);
  ASSERT_TRUE(old.is_ok()) << old.status().to_string();
  EXPECT_EQ(old.value().wire_version, 1);
  EXPECT_EQ(old.value().node_id, 3U);
  Status refused = check_hello(old.value(), 5, std::nullopt);
  ASSERT_FALSE(refused.is_ok());
  EXPECT_NE(refused.message().find("wire version 1, this member 2"), std::string::npos) << refused.message();
}

TEST(Wire, pingsAndPongsRoundTripAndFramesSayTheirKind) {
  uint64_t stamp = 0x0123456789abcdefULL;
  Result<uint64_t> ping = decode_ping(encode_ping(stamp));
  ASSERT_TRUE(ping.is_ok());
  EXPECT_EQ(ping.value(), stamp);
  Result<uint64_t> pong = decode_pong(encode_pong(stamp));
  ASSERT_TRUE(pong.is_ok());
  EXPECT_EQ(pong.value(), stamp);
  EXPECT_FALSE(decode_pong(encode_ping(stamp)).is_ok()) << "a ping is not a pong";
  EXPECT_FALSE(decode_ping(encode_ping(stamp).substr(0, 6)).is_ok()) << "truncated";
  EXPECT_FALSE(decode_ping(encode_ping(stamp) + "x").is_ok()) << "trailing bytes";

  EXPECT_EQ(frame_kind(encode_ping(1)).value(), FrameKind::kPing);
  EXPECT_EQ(frame_kind(encode_pong(1)).value(), FrameKind::kPong);
  EXPECT_EQ(frame_kind(encode_hello(Hello{})).value(), FrameKind::kHello);
  EXPECT_EQ(frame_kind(encode_message(Message{})).value(), FrameKind::kMessage);
  EXPECT_FALSE(frame_kind("").is_ok());
  EXPECT_FALSE(frame_kind(std::string(1, static_cast<char>(kWireVersion))).is_ok());
  EXPECT_FALSE(frame_kind(std::string{static_cast<char>(kWireVersion), '\x09'}).is_ok()) << "unknown kind";
  EXPECT_FALSE(frame_kind(std::string{'\x01', '\x01'}).is_ok()) << "another wire version";
}

TEST(Wire, aMessageFramedAroundItsSnapshotIsTheSameBytesAsOneFramedWhole) {
  for (MessageType type : {MessageType::kSnapshot, MessageType::kAppend, MessageType::kHeartbeat}) {
    Message message = full_message(type);
    if (type == MessageType::kHeartbeat) message.snapshot = nullptr;
    if (type == MessageType::kSnapshot) {
      message.snapshot = std::make_shared<const Snapshot>(
          Snapshot{SnapshotMeta{99, 8, ConfState{{1, 2, 3}}}, std::string(300000, 's')});
    }
    FramedMessage framed = frame_message(message);
    EXPECT_EQ(framed.snapshot, message.snapshot);
    EXPECT_EQ(framed.tail().data(), message.snapshot ? message.snapshot->data.data() : nullptr)
        << "the snapshot is referenced, not copied";
    std::string whole = frame(encode_message(message));
    EXPECT_EQ(framed.size(), whole.size());
    EXPECT_EQ(framed.head + std::string(framed.tail()), whole) << message.describe();
  }
}

TEST(Wire, aFrameThatIsTheWholeBufferIsTakenWholeAndTheLimitCanBeRaised) {
  std::string big(200000, 'b');
  FrameDecoder decoder(1000);
  decoder.feed(frame(big).substr(0, 100));
  EXPECT_FALSE(decoder.next().is_ok()) << "over the limit";
  FrameDecoder raised(1000);
  raised.set_max_payload(1 << 20);
  std::string stream = frame(big);
  raised.feed(std::string_view(stream).substr(0, 5000));
  Result<std::optional<std::string>> partial = raised.next();
  ASSERT_TRUE(partial.is_ok());
  EXPECT_FALSE(partial.value().has_value());
  raised.feed(std::string_view(stream).substr(5000));
  Result<std::optional<std::string>> whole = raised.next();
  ASSERT_TRUE(whole.is_ok() && whole.value().has_value());
  EXPECT_EQ(*whole.value(), big);
  EXPECT_EQ(raised.buffered(), 0U);
  // And the decoder goes on with the next frames.
  raised.feed(frame("one") + frame("two"));
  EXPECT_EQ(*raised.next().value(), "one");
  EXPECT_EQ(*raised.next().value(), "two");
  EXPECT_FALSE(raised.next().value().has_value());
}

TEST(Wire, framesAreCutFromAStreamInAnyPieces) {
  std::string stream;
  std::vector<std::string> payloads;
  for (int i = 0; i < 20; ++i) {
    payloads.push_back(encode_message(full_message(static_cast<MessageType>(i % kMessageTypeCount))));
    stream += frame(payloads.back());
  }
  Random random(5);
  FrameDecoder decoder(1 << 20);
  std::vector<std::string> got;
  for (size_t at = 0; at < stream.size();) {
    size_t piece = 1 + random.uniform(700);
    decoder.feed(std::string_view(stream).substr(at, piece));
    at += piece;
    while (true) {
      Result<std::optional<std::string>> next = decoder.next();
      ASSERT_TRUE(next.is_ok()) << next.status().to_string();
      if (!next.value()) break;
      got.push_back(*next.value());
    }
  }
  EXPECT_EQ(got, payloads);
  EXPECT_EQ(decoder.buffered(), 0U);
}

TEST(Wire, oversizedAndDamagedFramesCloseTheConnection) {
  FrameDecoder small(100);
  small.feed(frame(std::string(101, 'x')));
  Result<std::optional<std::string>> oversized = small.next();
  ASSERT_FALSE(oversized.is_ok());
  EXPECT_EQ(oversized.status().code(), ErrorCode::kTooLarge);

  std::string damaged = frame("payload");
  damaged[10] ^= 0x20;
  FrameDecoder decoder(1 << 20);
  decoder.feed(damaged);
  Result<std::optional<std::string>> bad = decoder.next();
  ASSERT_FALSE(bad.is_ok());
  EXPECT_EQ(bad.status().code(), ErrorCode::kCorruption);
}

TEST(Wire, truncatedAndRandomPayloadsAreErrorsNotCrashes) {
  std::string bytes = encode_message(full_message(MessageType::kSnapshot));
  for (size_t length = 0; length < bytes.size(); length += 7) {
    EXPECT_FALSE(decode_message(bytes.substr(0, length)).is_ok()) << length;
  }
  Random random(9);
  for (int i = 0; i < 20000; ++i) {
    std::string noise(random.uniform(64), '\0');
    for (char& c : noise) c = static_cast<char>(random.uniform(256));
    if (noise.size() >= 2) {
      noise[0] = static_cast<char>(kWireVersion);
      noise[1] = 1;
    }
    (void)decode_message(noise);
    (void)decode_hello(noise);
  }
  // A huge entry count in a tiny frame is refused before anything is reserved.
  std::string lie = encode_message(Message{});
  lie.back() = '\x7f';
  EXPECT_FALSE(decode_message(lie + std::string("\xff\xff\xff\xff\x0f", 5)).is_ok());
}

}  // namespace
}  // namespace synod::transport
