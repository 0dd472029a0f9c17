#include "transport/wire.h"

#include "base/assert.h"
#include "base/bytes.h"
#include "base/crc32c.h"

namespace synod::transport {
namespace {

using Kind = FrameKind;

// Flags packing the optional parts of a message.
constexpr uint8_t kReject = 1U << 0U;
constexpr uint8_t kHasSnapshot = 1U << 1U;

void put_entry(ByteWriter& out, const Entry& entry) {
  out.put_varint(entry.term);
  out.put_varint(entry.index);
  out.put_u8(static_cast<uint8_t>(entry.type));
  out.put_string(entry.data);
}

Result<Entry> read_entry(ByteReader& in) {
  Entry entry;
  SYNOD_TRY_ASSIGN(entry.term, in.varint());
  SYNOD_TRY_ASSIGN(entry.index, in.varint());
  SYNOD_TRY_ASSIGN(uint8_t type, in.u8());
  if (type > static_cast<uint8_t>(EntryType::kNoop)) {
    return Status(ErrorCode::kInvalidArgument, "unknown entry type " + std::to_string(type));
  }
  entry.type = static_cast<EntryType>(type);
  SYNOD_TRY_ASSIGN(entry.data, in.string());
  return entry;
}

Status read_header(ByteReader& in, Kind expected) {
  SYNOD_TRY_ASSIGN(uint8_t version, in.u8());
  if (version != kWireVersion) {
    return Status(ErrorCode::kInvalidArgument, "wire version " + std::to_string(version) +
                                                   " (this member speaks " + std::to_string(kWireVersion) +
                                                   ")");
  }
  SYNOD_TRY_ASSIGN(uint8_t kind, in.u8());
  if (kind != static_cast<uint8_t>(expected)) {
    return Status(ErrorCode::kInvalidArgument, "unexpected frame kind " + std::to_string(kind));
  }
  return Status::ok();
}

Result<Message> read_message(ByteReader& in) {
  Message message;
  SYNOD_TRY_ASSIGN(uint8_t type, in.u8());
  if (type >= kMessageTypeCount)
    return Status(ErrorCode::kInvalidArgument, "unknown message type " + std::to_string(type));
  message.type = static_cast<MessageType>(type);
  SYNOD_TRY_ASSIGN(message.from, in.varint());
  SYNOD_TRY_ASSIGN(message.to, in.varint());
  SYNOD_TRY_ASSIGN(message.term, in.varint());
  SYNOD_TRY_ASSIGN(message.log_term, in.varint());
  SYNOD_TRY_ASSIGN(message.index, in.varint());
  SYNOD_TRY_ASSIGN(message.commit, in.varint());
  SYNOD_TRY_ASSIGN(message.hint_index, in.varint());
  SYNOD_TRY_ASSIGN(message.hint_term, in.varint());
  SYNOD_TRY_ASSIGN(uint8_t flags, in.u8());
  if ((flags & ~(kReject | kHasSnapshot)) != 0)
    return Status(ErrorCode::kInvalidArgument, "unknown message flags");
  message.reject = (flags & kReject) != 0;
  SYNOD_TRY_ASSIGN(message.context, in.string());
  SYNOD_TRY_ASSIGN(uint64_t count, in.varint());
  // Every entry takes at least 4 bytes, so a count beyond that is a lie; refuse before reserving.
  if (count > in.rest().size() / 4)
    return Status(ErrorCode::kInvalidArgument, "entry count past the end of the frame");
  message.entries.reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    SYNOD_TRY_ASSIGN(Entry entry, read_entry(in));
    message.entries.push_back(std::move(entry));
  }
  if ((flags & kHasSnapshot) != 0) {
    Snapshot snapshot;
    SYNOD_TRY_ASSIGN(snapshot.meta.index, in.varint());
    SYNOD_TRY_ASSIGN(snapshot.meta.term, in.varint());
    SYNOD_TRY_ASSIGN(uint64_t voters, in.varint());
    if (voters > in.rest().size())
      return Status(ErrorCode::kInvalidArgument, "voter count past the end of the frame");
    for (uint64_t i = 0; i < voters; ++i) {
      SYNOD_TRY_ASSIGN(NodeId voter, in.varint());
      snapshot.meta.conf.voters.push_back(voter);
    }
    SYNOD_TRY_ASSIGN(snapshot.data, in.string());
    message.snapshot = std::make_shared<const Snapshot>(std::move(snapshot));
  }
  if (!in.done()) return Status(ErrorCode::kInvalidArgument, "unexpected bytes after the message");
  return message;
}

// Writes the message's payload up to, not including, the snapshot's data (which is last).
void put_message_head(ByteWriter& out, const Message& message) {
  out.put_u8(kWireVersion);
  out.put_u8(static_cast<uint8_t>(Kind::kMessage));
  out.put_u8(static_cast<uint8_t>(message.type));
  out.put_varint(message.from);
  out.put_varint(message.to);
  out.put_varint(message.term);
  out.put_varint(message.log_term);
  out.put_varint(message.index);
  out.put_varint(message.commit);
  out.put_varint(message.hint_index);
  out.put_varint(message.hint_term);
  out.put_u8(static_cast<uint8_t>((message.reject ? kReject : 0U) | (message.snapshot ? kHasSnapshot : 0U)));
  out.put_string(message.context);
  out.put_varint(message.entries.size());
  for (const Entry& entry : message.entries) put_entry(out, entry);
  if (message.snapshot) {
    SYNOD_ASSERT_MSG(!message.snapshot->detached, "the node refills a detached snapshot before sending it");
    out.put_varint(message.snapshot->meta.index);
    out.put_varint(message.snapshot->meta.term);
    out.put_varint(message.snapshot->meta.conf.voters.size());
    for (NodeId voter : message.snapshot->meta.conf.voters) out.put_varint(voter);
    out.put_varint(message.snapshot->data.size());
  }
}

void put_fixed32_at(std::string& out, size_t at, uint32_t value) {
  for (size_t i = 0; i < 4; ++i) out[at + i] = static_cast<char>((value >> (8U * i)) & 0xffU);
}

Result<uint64_t> decode_stamp(std::string_view payload, Kind expected) {
  ByteReader in(payload);
  Status header = read_header(in, expected);
  if (!header.is_ok()) return header;
  SYNOD_TRY_ASSIGN(uint64_t stamp, in.fixed64());
  if (!in.done()) return Status(ErrorCode::kInvalidArgument, "unexpected bytes after a ping or pong");
  return stamp;
}

std::string encode_stamp(uint64_t stamp, Kind kind) {
  ByteWriter out;
  out.put_u8(kWireVersion);
  out.put_u8(static_cast<uint8_t>(kind));
  out.put_fixed64(stamp);
  return std::move(out).take();
}

}  // namespace

const char* channel_name(Channel channel) {
  return channel == Channel::kBulk ? "bulk" : "regular";
}

std::string encode_message(const Message& message) {
  ByteWriter out;
  put_message_head(out, message);
  if (message.snapshot) out.put_bytes(message.snapshot->data);
  return std::move(out).take();
}

FramedMessage frame_message(const Message& message) {
  ByteWriter out;
  out.put_fixed64(0);  // the frame header, filled in below
  put_message_head(out, message);
  FramedMessage framed{std::move(out).take(), message.snapshot};
  std::string_view head_payload = std::string_view(framed.head).substr(kFrameHeaderBytes);
  put_fixed32_at(framed.head, 0, static_cast<uint32_t>(head_payload.size() + framed.tail().size()));
  put_fixed32_at(framed.head, 4, crc32c_extend(crc32c(head_payload), framed.tail()));
  return framed;
}

Result<Message> decode_message(std::string_view payload) {
  ByteReader in(payload);
  Status header = read_header(in, Kind::kMessage);
  if (!header.is_ok()) return header;
  return read_message(in);
}

std::string encode_hello(const Hello& hello) {
  ByteWriter out;
  out.put_u8(hello.wire_version);
  out.put_u8(static_cast<uint8_t>(Kind::kHello));
  out.put_varint(hello.cluster_id);
  out.put_varint(hello.node_id);
  out.put_u8(static_cast<uint8_t>(hello.channel));
  return std::move(out).take();
}

Result<Hello> decode_hello(std::string_view payload) {
  ByteReader in(payload);
  Hello hello;
  SYNOD_TRY_ASSIGN(hello.wire_version, in.u8());
  SYNOD_TRY_ASSIGN(uint8_t kind, in.u8());
  if (kind != static_cast<uint8_t>(Kind::kHello))
    return Status(ErrorCode::kInvalidArgument, "the first frame is not a hello");
  SYNOD_TRY_ASSIGN(hello.cluster_id, in.varint());
  SYNOD_TRY_ASSIGN(hello.node_id, in.varint());
  // Every version starts its hello so; what follows is this version's, or left to check_hello to refuse.
  if (hello.wire_version != kWireVersion) return hello;
  SYNOD_TRY_ASSIGN(uint8_t channel, in.u8());
  if (channel > static_cast<uint8_t>(Channel::kBulk))
    return Status(ErrorCode::kInvalidArgument,
                  "unknown channel " + std::to_string(channel) + " in the hello");
  hello.channel = static_cast<Channel>(channel);
  if (!in.done()) return Status(ErrorCode::kInvalidArgument, "unexpected bytes after the hello");
  return hello;
}

Status check_hello(const Hello& theirs, uint64_t cluster_id, std::optional<NodeId> expected_peer) {
  if (theirs.wire_version != kWireVersion) {
    return Status(ErrorCode::kInvalidArgument,
                  "refused peer " + std::to_string(theirs.node_id) + ": it speaks wire version " +
                      std::to_string(theirs.wire_version) + ", this member " + std::to_string(kWireVersion));
  }
  if (theirs.cluster_id != cluster_id) {
    return Status(ErrorCode::kInvalidArgument,
                  "refused peer " + std::to_string(theirs.node_id) + ": it belongs to cluster " +
                      std::to_string(theirs.cluster_id) + ", this member to cluster " +
                      std::to_string(cluster_id) + " (check --initial-cluster-token)");
  }
  if (theirs.node_id == kNoNode)
    return Status(ErrorCode::kInvalidArgument, "refused peer: it names no member");
  if (expected_peer && theirs.node_id != *expected_peer) {
    return Status(ErrorCode::kInvalidArgument,
                  "refused peer: expected member " + std::to_string(*expected_peer) +
                      " at this address, found member " + std::to_string(theirs.node_id));
  }
  return Status::ok();
}

std::string encode_ping(uint64_t stamp) {
  return encode_stamp(stamp, Kind::kPing);
}
std::string encode_pong(uint64_t stamp) {
  return encode_stamp(stamp, Kind::kPong);
}
Result<uint64_t> decode_ping(std::string_view payload) {
  return decode_stamp(payload, Kind::kPing);
}
Result<uint64_t> decode_pong(std::string_view payload) {
  return decode_stamp(payload, Kind::kPong);
}

Result<FrameKind> frame_kind(std::string_view payload) {
  ByteReader in(payload);
  SYNOD_TRY_ASSIGN(uint8_t version, in.u8());
  if (version != kWireVersion) {
    return Status(ErrorCode::kInvalidArgument, "wire version " + std::to_string(version) +
                                                   " (this member speaks " + std::to_string(kWireVersion) +
                                                   ")");
  }
  SYNOD_TRY_ASSIGN(uint8_t kind, in.u8());
  if (kind < static_cast<uint8_t>(Kind::kMessage) || kind > static_cast<uint8_t>(Kind::kPong))
    return Status(ErrorCode::kInvalidArgument, "unknown frame kind " + std::to_string(kind));
  return static_cast<FrameKind>(kind);
}

std::string frame(std::string_view payload) {
  ByteWriter out;
  out.put_fixed32(static_cast<uint32_t>(payload.size()));
  out.put_fixed32(crc32c(payload));
  out.put_bytes(payload);
  return std::move(out).take();
}

Result<std::optional<std::string>> FrameDecoder::next() {
  std::string_view pending = std::string_view(buffer_).substr(consumed_);
  if (pending.size() < kFrameHeaderBytes) return std::optional<std::string>();
  ByteReader in(pending);
  uint32_t length = in.fixed32().value();
  uint32_t crc = in.fixed32().value();
  if (length > max_payload_) {
    return Status(ErrorCode::kTooLarge, "a frame of " + std::to_string(length) + " bytes (the limit is " +
                                            std::to_string(max_payload_) + ")");
  }
  if (pending.size() < kFrameHeaderBytes + length) return std::optional<std::string>();
  if (crc32c(pending.substr(kFrameHeaderBytes, length)) != crc)
    return Status(ErrorCode::kCorruption, "a frame with a bad checksum");
  if (consumed_ == 0 && buffer_.size() == kFrameHeaderBytes + length) {
    std::string payload = std::move(buffer_);
    buffer_.clear();
    payload.erase(0, kFrameHeaderBytes);
    return std::optional<std::string>(std::move(payload));
  }
  std::string payload(pending.substr(kFrameHeaderBytes, length));
  consumed_ += kFrameHeaderBytes + length;
  if (consumed_ > (1U << 16U) && consumed_ * 2 > buffer_.size()) {
    buffer_.erase(0, consumed_);
    consumed_ = 0;
  }
  return std::optional<std::string>(std::move(payload));
}

}  // namespace synod::transport
