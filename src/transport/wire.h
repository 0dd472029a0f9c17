// The peer wire format: how a Message travels between members, framed and checksummed, and the hello
// each side sends first on a new connection.
//
// Frame:   fixed32 length | fixed32 CRC32C of the payload | payload (`length` bytes)
// Payload: u8 wire version | u8 kind (message or hello) | fields
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

inline constexpr uint8_t kWireVersion = 1;
inline constexpr size_t kFrameHeaderBytes = 8;

// The first frame on every peer connection, from each side.
struct Hello {
  uint8_t wire_version = kWireVersion;
  uint64_t cluster_id = 0;
  NodeId node_id = kNoNode;
  bool operator==(const Hello&) const = default;
};

std::string encode_message(const Message& message);
Result<Message> decode_message(std::string_view payload);

std::string encode_hello(const Hello& hello);
Result<Hello> decode_hello(std::string_view payload);
// Whether a peer's hello may be accepted by this member: same wire version and cluster, and (if
// `expected_peer` is set) the member we meant to reach. The error says which and what was seen.
Status check_hello(const Hello& theirs, uint64_t cluster_id, std::optional<NodeId> expected_peer);

// Wraps a payload in a frame.
std::string frame(std::string_view payload);

// Cuts a byte stream into frame payloads. Feed it whatever the socket gave; take complete payloads.
class FrameDecoder {
 public:
  explicit FrameDecoder(size_t max_payload_bytes) : max_payload_(max_payload_bytes) {}

  void feed(std::string_view bytes) { buffer_.append(bytes); }
  // The next complete payload, nullopt if more bytes are needed, or an error (oversized frame, bad
  // checksum) after which the stream cannot be trusted and the connection must close.
  Result<std::optional<std::string>> next();
  size_t buffered() const { return buffer_.size() - consumed_; }

 private:
  size_t max_payload_;
  std::string buffer_;
  size_t consumed_ = 0;
};

}  // namespace synod::transport
