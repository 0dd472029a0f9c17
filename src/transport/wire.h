// The peer wire format: how a Message travels between members, framed and checksummed, and the hello
// each side sends first on a new connection.
//
// Frame:   fixed32 length | fixed32 CRC32C of the payload | payload (`length` bytes)
// Payload: u8 wire version | u8 kind (FrameKind) | fields
//
// Wire version 2 (version 1 had no channel in the hello and no ping/pong): the hello names the channel
// the connection is (regular or bulk, see tcp_transport.h), and a ping (carrying the sender's clock) may
// follow the hello on a regular connection; the listener answers it with a pong echoing that clock on the
// same socket, the only bytes that ever travel against a connection's direction. Members of different
// wire versions refuse each other's hellos, with a reason naming both versions.
//
// Messages are encoded field by field with varints (entries and the snapshot included), so the format
// does not depend on struct layout, and a newer member can add fields behind a new wire version.
// Decoding checks every length against what is left, so a malformed or hostile frame gives an error,
// never a crash or an unbounded allocation. A frame longer than the receiver's limit, or one whose
// checksum fails, closes that connection (the caller counts it).
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "consensus/message.h"

namespace synod::transport {

inline constexpr uint8_t kWireVersion = 2;
inline constexpr size_t kFrameHeaderBytes = 8;

enum class FrameKind : uint8_t { kMessage = 1, kHello = 2, kPing = 3, kPong = 4 };

// Which of a member's two outbound connections to a peer a connection is: kRegular carries every message
// but snapshots, kBulk carries snapshots (tcp_transport.h).
enum class Channel : uint8_t { kRegular = 0, kBulk = 1 };
const char* channel_name(Channel channel);

// The first frame on every peer connection, from the dialling side.
struct Hello {
  uint8_t wire_version = kWireVersion;
  uint64_t cluster_id = 0;
  NodeId node_id = kNoNode;
  Channel channel = Channel::kRegular;
  bool operator==(const Hello&) const = default;
};

std::string encode_message(const Message& message);
Result<Message> decode_message(std::string_view payload);

// A message framed for the wire without copying its snapshot: the frame is `head` followed by the
// snapshot's data (empty without a snapshot), which `snapshot` keeps alive. Writing both pieces with one
// gather write sends a snapshot of any size straight from the shared, immutable Snapshot.
struct FramedMessage {
  std::string head;
  SnapshotPtr snapshot;
  std::string_view tail() const { return snapshot ? std::string_view(snapshot->data) : std::string_view(); }
  size_t size() const { return head.size() + tail().size(); }
};
FramedMessage frame_message(const Message& message);

std::string encode_hello(const Hello& hello);
// Decodes the hello of this wire version, and enough of another version's (its version, cluster and
// member) for check_hello to say why it is refused.
Result<Hello> decode_hello(std::string_view payload);
// Whether a peer's hello may be accepted by this member: same wire version and cluster, a member id, and
// (if `expected_peer` is set) the member we meant to reach. The error says which and what was seen.
Status check_hello(const Hello& theirs, uint64_t cluster_id, std::optional<NodeId> expected_peer);

// Ping and pong carry an opaque 64-bit stamp (the pinging side's clock), echoed by the pong.
std::string encode_ping(uint64_t stamp);
std::string encode_pong(uint64_t stamp);
Result<uint64_t> decode_ping(std::string_view payload);
Result<uint64_t> decode_pong(std::string_view payload);

// The kind of a payload of this wire version; an error for another version or an unknown kind.
Result<FrameKind> frame_kind(std::string_view payload);

// Wraps a payload in a frame.
std::string frame(std::string_view payload);

// Cuts a byte stream into frame payloads. Feed it whatever the socket gave; take complete payloads.
class FrameDecoder {
 public:
  explicit FrameDecoder(size_t max_payload_bytes) : max_payload_(max_payload_bytes) {}

  // The limit for frames not yet returned (a connection may raise it once it knows what it carries).
  void set_max_payload(size_t max_payload_bytes) { max_payload_ = max_payload_bytes; }
  void feed(std::string_view bytes) { buffer_.append(bytes); }
  // The next complete payload, nullopt if more bytes are needed, or an error (oversized frame, bad
  // checksum) after which the stream cannot be trusted and the connection must close. A frame that is
  // all that is buffered (a large snapshot, typically) is moved out, not copied.
  Result<std::optional<std::string>> next();
  size_t buffered() const { return buffer_.size() - consumed_; }

 private:
  size_t max_payload_;
  std::string buffer_;
  size_t consumed_ = 0;
};

}  // namespace synod::transport
