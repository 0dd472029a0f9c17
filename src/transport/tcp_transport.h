// TcpTransport: peer messages over TCP, with Asio on one I/O thread.
//
// Connections. Each member listens for its peers and dials each of them, so there is one set of
// connections per direction and a connection carries messages only one way (the one exception is the
// pong below). To each peer a member dials two connections, each with its own queue:
//   - the regular channel carries every message except snapshots: votes, appends, heartbeats, reads;
//   - the bulk channel carries kSnapshot messages only, so a snapshot of many MB being written never
//     holds up the heartbeats and appends behind it (a leader keeps its lease and its other followers
//     while one follower catches up). The listener accepts messages of any type on either.
// The two channels may reorder a snapshot against the messages around it; Raft allows any reordering.
// A connection starts with a hello (wire.h) naming the cluster, the member, the wire version and the
// channel. The listener refuses a hello from another cluster or wire version, one naming this member or
// no member (or, with refuse_unknown_peers, a member set_peer never named), and closes, and counts, any
// connection that sends a malformed or oversized frame or a message that claims to be from another
// member or for another. Input from the network never crashes the process.
//
// A slow or absent peer. Sending never blocks the caller: messages queue per peer and channel, up to
// `max_queue_bytes` (regular) and `max_bulk_queue_bytes` (bulk); past that new messages are dropped and
// counted (Raft treats them as lost: the leader retries). A queue is written in batches (many frames, one
// gather write); a snapshot is written straight from the shared Snapshot, never copied. A peer that reads
// slowly fills the socket, then its queue, and then loses messages; nothing else waits on it. A lost
// connection is redialled with exponential backoff (the host name re-resolved each time); what was being
// written when it broke is lost, what was queued behind it is sent on the new one.
//
// Round-trip time. Every `ping_interval`, a ping carrying our clock goes first in the next write on each
// connected regular channel; the listener answers it on the same socket with a pong echoing that clock, so
// a sample measures the network, both I/O loops and any write already under way, and needs no clock
// agreement between members. The last sample and a smoothed one (7/8 old + 1/8 new, as TCP's SRTT) are
// in peer_stats().
//
// Events. If `on_event` is set, it is called on the I/O thread (so it must not block) for what a server
// logs: connections made, failed and lost, hellos accepted and refused, malformed frames, and drops from a
// full queue (at most one such event per peer per second, with the count). The transport itself logs
// nothing.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/status.h"
#include "consensus/message.h"
#include "transport/wire.h"

namespace synod::transport {

struct TransportEvent {
  enum class Kind : uint8_t {
    kConnected,       // an outbound connection is up
    kConnectFailed,   // resolving or connecting failed (on the 1st, 2nd, 4th, 8th... failure in a row)
    kDisconnected,    // an outbound connection broke or was closed
    kHelloAccepted,   // an inbound connection introduced itself
    kHelloRefused,    // ... and was refused
    kMalformed,       // a connection was closed for a bad frame (inbound, or a bad reply to an outbound one)
    kQueueFullDrops,  // messages to a peer were dropped because its queue was full
  };
  Kind kind = Kind::kConnected;
  NodeId peer = kNoNode;  // kNoNode when not known (a connection closed before its hello)
  Channel channel = Channel::kRegular;
  std::string address;  // the remote host:port, when known
  std::string reason;   // why, for failures, refusals, malformed frames and disconnections
  uint64_t count = 0;   // kConnectFailed: failures in a row; kQueueFullDrops: drops since the last event

  static const char* kind_name(Kind kind);
  // One line for a log, e.g. "refused a connection from 127.0.0.1:5123: refused peer 2: it belongs to ...".
  std::string to_string() const;
};

struct TcpTransportOptions {
  uint64_t cluster_id = 0;
  NodeId self = kNoNode;
  std::string listen_host = "127.0.0.1";
  uint16_t listen_port = 0;                    // 0: any free port (see TcpTransport::port())
  size_t max_frame_bytes = size_t{64} << 20U;  // frames received on a regular connection
  size_t max_queue_bytes = size_t{16} << 20U;  // per peer, regular channel
  size_t max_write_bytes = size_t{1} << 20U;   // frames coalesced into one write
  std::chrono::milliseconds reconnect_min{20};
  std::chrono::milliseconds reconnect_max{1000};
  size_t max_bulk_frame_bytes = size_t{1} << 30U;  // frames received on a bulk connection (snapshots)
  size_t max_bulk_queue_bytes = size_t{1} << 30U;  // per peer, bulk channel (shares the Snapshot's memory)
  std::chrono::milliseconds ping_interval{500};    // 0: no pings, no RTT
  bool refuse_unknown_peers = false;               // refuse hellos from members set_peer never named
  // Called on the I/O thread; must not block or call back into the transport except the const getters.
  std::function<void(const TransportEvent&)> on_event;
};

struct TransportCounters {
  std::atomic<uint64_t> sent{0};      // messages written to a socket
  std::atomic<uint64_t> received{0};  // messages handed to the handler
  std::atomic<uint64_t> dropped_queue_full{0};
  std::atomic<uint64_t> dropped_no_peer{0};  // sent to a member with no known address
  std::atomic<uint64_t> refused_hellos{0};
  std::atomic<uint64_t> malformed{0};       // connections closed for bad frames or messages
  std::atomic<uint64_t> connects{0};        // outbound connections established
  std::atomic<uint64_t> bytes_sent{0};      // everything written to peer sockets (frames, hellos, pings)
  std::atomic<uint64_t> bytes_received{0};  // everything read from peer sockets
};

struct PeerStats {
  NodeId id = kNoNode;
  bool connected = false;                             // the regular outbound connection is up
  bool bulk_connected = false;                        // the bulk one
  std::optional<std::chrono::microseconds> rtt_last;  // none before the first pong
  std::optional<std::chrono::microseconds> rtt_smoothed;
  uint64_t bytes_sent = 0;  // to this peer on any socket (frames, hellos, pings, pongs)
  uint64_t bytes_received = 0;
  uint64_t messages_sent = 0;  // messages written to its sockets
  uint64_t messages_received = 0;
  uint64_t queue_bytes = 0;       // framed messages queued or being written on the regular channel
  uint64_t bulk_queue_bytes = 0;  // ... on the bulk channel
  uint64_t dropped = 0;           // dropped because a queue was full
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
  // Where to reach a peer: an IP address or a host name, resolved on the I/O thread at each (re)connect.
  // Thread-safe; may be called before or after sends to it. A changed address closes the connections
  // to the old one.
  void set_peer(NodeId id, const std::string& host, uint16_t port);
  // Queues `message` for message.to (kSnapshot on the bulk channel). Thread-safe, never blocks.
  void send(Message message);
  const TransportCounters& counters() const { return counters_; }
  // Every peer named by set_peer or heard from, by id. Thread-safe (the I/O thread included).
  std::vector<PeerStats> peer_stats() const;

  struct Impl;

 private:
  TcpTransport() = default;

  std::unique_ptr<Impl> impl_;
  uint16_t port_ = 0;
  TransportCounters counters_;
  std::thread thread_;
};

}  // namespace synod::transport
