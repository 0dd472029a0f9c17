// TcpTransport: peer messages over TCP, with Asio on one I/O thread.
//
// Each member listens for its peers and dials each of them: one connection per direction, so a
// connection only ever carries frames one way. A new connection starts with a hello (wire.h); the
// listener refuses a peer from another cluster or wire version, and closes, and counts, any connection
// that sends a malformed or oversized frame, or a message that claims to be from another member. Input
// from the network never crashes the process.
//
// Sending never blocks the caller: messages queue per peer, up to `max_queue_bytes`; past that new
// messages are dropped and counted (Raft treats them as lost: the leader retries). A queue is written in
// batches (many frames, one write). A lost connection is redialled with exponential backoff; what was
// being written when it broke is lost, what was queued behind it is sent on the new one.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "base/status.h"
#include "consensus/message.h"

namespace synod::transport {

struct TcpTransportOptions {
  uint64_t cluster_id = 0;
  NodeId self = kNoNode;
  std::string listen_host = "127.0.0.1";
  uint16_t listen_port = 0;  // 0: any free port (see TcpTransport::port())
  size_t max_frame_bytes = size_t{64} << 20U;
  size_t max_queue_bytes = size_t{16} << 20U;  // per peer
  size_t max_write_bytes = size_t{1} << 20U;   // frames coalesced into one write
  std::chrono::milliseconds reconnect_min{20};
  std::chrono::milliseconds reconnect_max{1000};
};

struct TransportCounters {
  std::atomic<uint64_t> sent{0};      // messages written to a socket
  std::atomic<uint64_t> received{0};  // messages handed to the handler
  std::atomic<uint64_t> dropped_queue_full{0};
  std::atomic<uint64_t> dropped_no_peer{0};  // sent to a member with no known address
  std::atomic<uint64_t> refused_hellos{0};
  std::atomic<uint64_t> malformed{0};  // connections closed for bad frames or messages
  std::atomic<uint64_t> connects{0};   // outbound connections established
};

class TcpTransport {
 public:
  using Handler = std::function<void(Message&&)>;

  // Binds the listening socket and starts the I/O thread. `handler` runs on that thread.
  static Result<std::unique_ptr<TcpTransport>> start(TcpTransportOptions options, Handler handler);
  ~TcpTransport();  // closes everything and joins the I/O thread
  TcpTransport(const TcpTransport&) = delete;
  TcpTransport& operator=(const TcpTransport&) = delete;

  uint16_t port() const { return port_; }
  // Where to reach a peer (numeric IP). Thread-safe; may be called before or after sends to it.
  void set_peer(NodeId id, const std::string& host, uint16_t port);
  // Queues `message` for message.to. Thread-safe, never blocks.
  void send(Message message);
  const TransportCounters& counters() const { return counters_; }

  struct Impl;

 private:
  TcpTransport() = default;

  std::unique_ptr<Impl> impl_;
  uint16_t port_ = 0;
  TransportCounters counters_;
  std::thread thread_;
};

}  // namespace synod::transport
