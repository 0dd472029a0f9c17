#include "transport/tcp_transport.h"

#include <array>
#include <deque>
#include <mutex>
#include <optional>
#include <sstream>

#include <asio.hpp>

namespace synod::transport {
namespace {

using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

// Pieces of a frame at most this big are copied into a write's batch; bigger ones are written in place.
constexpr size_t kCopyLimit = size_t{16} << 10U;
// The largest frame a dialling side reads back (a pong).
constexpr size_t kMaxReplyBytes = 64;
constexpr std::chrono::seconds kDropEventInterval{1};

uint64_t now_ns() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count());
}

std::string address_of(const tcp::endpoint& endpoint) {
  std::ostringstream out;
  out << endpoint;  // Asio brackets IPv6 addresses
  return out.str();
}

std::string reason_of(const std::error_code& error) {
  if (error == asio::error::eof) return "the peer closed the connection";
  return error.message();
}

bool power_of_two(uint64_t n) {
  return n != 0 && (n & (n - 1)) == 0;
}

// A peer's numbers: written on the I/O thread, read by peer_stats() on any thread.
struct PeerCells {
  std::atomic<bool> connected{false};
  std::atomic<bool> bulk_connected{false};
  std::atomic<int64_t> rtt_last_us{-1};
  std::atomic<int64_t> rtt_smoothed_us{-1};
  std::atomic<uint64_t> bytes_sent{0};
  std::atomic<uint64_t> bytes_received{0};
  std::atomic<uint64_t> messages_sent{0};
  std::atomic<uint64_t> messages_received{0};
  std::atomic<uint64_t> queue_bytes{0};
  std::atomic<uint64_t> bulk_queue_bytes{0};
  std::atomic<uint64_t> dropped{0};
};

// One outbound connection to a peer (regular or bulk) and its queue. Lives on the I/O thread only.
// `generation` changes whenever the socket is closed, so a completion from an older connection is
// recognised and ignored.
struct Link {
  Link(asio::io_context& io, Channel which, size_t max_queue)
      : channel(which), max_queue_bytes(max_queue), socket(io), timer(io) {}

  Channel channel;
  size_t max_queue_bytes;
  tcp::socket socket;
  asio::steady_timer timer;
  enum class State : uint8_t { kIdle, kConnecting, kConnected, kWaiting } state = State::kIdle;
  uint64_t generation = 0;
  std::deque<FramedMessage> queue;
  size_t queued_bytes = 0;
  bool writing = false;
  bool hello_sent = false;
  bool ping_due = false;
  // The write under way: small pieces coalesced in `batch`, big ones written from `in_flight` in place.
  std::string batch;
  std::vector<FramedMessage> in_flight;
  size_t in_flight_bytes = 0;
  std::chrono::milliseconds backoff{0};
  uint64_t failures = 0;  // connection attempts failed in a row
  Clock::time_point connected_at;
  uint64_t connected_at_ns = 0;
  std::string address;
  FrameDecoder replies{kMaxReplyBytes};
  std::array<char, 256> read_buffer{};
};

struct Peer {
  Peer(asio::io_context& io, NodeId peer_id, const TcpTransportOptions& options, std::shared_ptr<PeerCells> c)
      : id(peer_id),
        regular(io, Channel::kRegular, options.max_queue_bytes),
        bulk(io, Channel::kBulk, options.max_bulk_queue_bytes),
        cells(std::move(c)) {}

  Link& link(Channel channel) { return channel == Channel::kBulk ? bulk : regular; }

  NodeId id;
  std::string host;
  uint16_t port = 0;
  bool has_address = false;
  Link regular;
  Link bulk;
  std::shared_ptr<PeerCells> cells;
  double rtt_smoothed_us = -1;
  std::optional<Clock::time_point> last_drop_event;
  uint64_t drops_unreported = 0;
};

class Inbound;

}  // namespace

struct TcpTransport::Impl {
  Impl(TcpTransportOptions opts, Handler on_message, TransportCounters& counters_ref)
      : options(std::move(opts)),
        handler(std::move(on_message)),
        counters(counters_ref),
        acceptor(io),
        accept_timer(io),
        ping_timer(io),
        resolver(io) {}

  void event(TransportEvent::Kind kind, NodeId peer, Channel channel, std::string address, std::string reason,
             uint64_t count = 0) {
    if (!options.on_event || stopping) return;
    TransportEvent e;
    e.kind = kind;
    e.peer = peer;
    e.channel = channel;
    e.address = std::move(address);
    e.reason = std::move(reason);
    e.count = count;
    options.on_event(e);
  }

  std::shared_ptr<PeerCells> cells_for(NodeId id) {
    std::lock_guard<std::mutex> lock(stats_mutex);
    std::shared_ptr<PeerCells>& cells = stats[id];
    if (!cells) cells = std::make_shared<PeerCells>();
    return cells;
  }

  Peer* find_peer(NodeId id) {
    auto it = peers.find(id);
    return it == peers.end() ? nullptr : it->second.get();
  }

  void accept();
  void start_pings();
  void set_peer(NodeId id, const std::string& host, uint16_t port);
  void enqueue(NodeId id, FramedMessage framed, Channel channel);
  void report_drop(Peer& peer, Link& link);
  void publish_queue(Peer& peer, Link& link);
  void connect(Peer& peer, Link& link);
  void connect_to(Peer& peer, Link& link, uint64_t generation, const std::vector<tcp::endpoint>& endpoints);
  void connect_failed(Peer& peer, Link& link, const std::string& reason);
  void lost(Peer& peer, Link& link, const std::string& reason);
  void close_link(Peer& peer, Link& link);
  void redial_later(Peer& peer, Link& link);
  void write(Peer& peer, Link& link);
  void read_replies(Peer& peer, Link& link, uint64_t generation);
  bool take_reply(Peer& peer, Link& link, const std::string& payload);
  void shutdown();

  TcpTransportOptions options;
  Handler handler;
  TransportCounters& counters;
  mutable std::mutex stats_mutex;
  std::map<NodeId, std::shared_ptr<PeerCells>> stats;  // guarded by stats_mutex
  bool stopping = false;
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
  tcp::acceptor acceptor;
  asio::steady_timer accept_timer;
  asio::steady_timer ping_timer;
  tcp::resolver resolver;
  std::map<NodeId, std::unique_ptr<Peer>> peers;
};

namespace {

// One accepted connection: a hello, then messages (and pings, answered on the same socket), one way.
class Inbound : public std::enable_shared_from_this<Inbound> {
 public:
  Inbound(TcpTransport::Impl& impl, tcp::socket socket)
      : impl_(impl), socket_(std::move(socket)), decoder_(impl.options.max_frame_bytes) {
    std::error_code error;
    tcp::endpoint remote = socket_.remote_endpoint(error);
    if (!error) address_ = address_of(remote);
  }

  void start() { read(); }

 private:
  void read() {
    auto self = shared_from_this();
    socket_.async_read_some(asio::buffer(buffer_), [self](std::error_code error, size_t bytes) {
      if (error) return;  // closed: the peer redials
      self->count_received(bytes);
      self->decoder_.feed(std::string_view(self->buffer_.data(), bytes));
      if (self->drain()) self->read();
    });
  }

  void count_received(size_t bytes) {
    impl_.counters.bytes_received += bytes;
    if (cells_) {
      cells_->bytes_received += bytes;
    } else {
      unattributed_ += bytes;
    }
  }

  // Handles every complete frame; false once the connection must close.
  bool drain() {
    while (true) {
      Result<std::optional<std::string>> next = decoder_.next();
      if (!next.is_ok()) return close_malformed(next.status().message());
      if (!next.value()) return true;
      const std::string& payload = *next.value();
      if (!peer_) {
        if (!take_hello(payload)) return false;
        continue;
      }
      Result<FrameKind> kind = frame_kind(payload);
      if (!kind.is_ok()) return close_malformed(kind.status().message());
      switch (kind.value()) {
        case FrameKind::kMessage:
          if (!take_message(payload)) return false;
          break;
        case FrameKind::kPing: {
          Result<uint64_t> stamp = decode_ping(payload);
          if (!stamp.is_ok()) return close_malformed(stamp.status().message());
          pending_pong_ = stamp.value();  // only the latest is answered
          write_pong();
          break;
        }
        case FrameKind::kHello:
        case FrameKind::kPong: return close_malformed("an unexpected hello or pong after the hello");
      }
    }
  }

  bool take_hello(const std::string& payload) {
    Result<Hello> hello = decode_hello(payload);
    if (!hello.is_ok()) return close_malformed(hello.status().message());
    const Hello& theirs = hello.value();
    Status checked = check_hello(theirs, impl_.options.cluster_id, std::nullopt);
    if (checked.is_ok() && theirs.node_id == impl_.options.self) {
      checked = Status(ErrorCode::kInvalidArgument,
                       "refused peer " + std::to_string(theirs.node_id) + ": that is this member's own id");
    }
    if (checked.is_ok() && impl_.options.refuse_unknown_peers) {
      Peer* known = impl_.find_peer(theirs.node_id);
      if (known == nullptr || !known->has_address) {
        checked = Status(ErrorCode::kInvalidArgument,
                         "refused peer " + std::to_string(theirs.node_id) + ": not a member this one knows");
      }
    }
    if (!checked.is_ok()) {
      ++impl_.counters.refused_hellos;
      impl_.event(TransportEvent::Kind::kHelloRefused, theirs.node_id, theirs.channel, address_,
                  checked.message());
      close();
      return false;
    }
    peer_ = theirs.node_id;
    channel_ = theirs.channel;
    if (channel_ == Channel::kBulk) decoder_.set_max_payload(impl_.options.max_bulk_frame_bytes);
    cells_ = impl_.cells_for(*peer_);
    cells_->bytes_received += unattributed_;
    impl_.event(TransportEvent::Kind::kHelloAccepted, *peer_, channel_, address_, "");
    return true;
  }

  bool take_message(const std::string& payload) {
    Result<Message> message = decode_message(payload);
    if (!message.is_ok()) return close_malformed(message.status().message());
    if (message.value().from != *peer_ || message.value().to != impl_.options.self) {
      return close_malformed("a message from member " + std::to_string(message.value().from) + " to member " +
                             std::to_string(message.value().to) + " on a connection from member " +
                             std::to_string(*peer_) + " to member " + std::to_string(impl_.options.self));
    }
    ++impl_.counters.received;
    ++cells_->messages_received;
    impl_.handler(std::move(message).value());
    return true;
  }

  void write_pong() {
    if (writing_ || !pending_pong_ || !socket_.is_open()) return;
    pong_ = frame(encode_pong(*pending_pong_));
    pending_pong_.reset();
    writing_ = true;
    auto self = shared_from_this();
    asio::async_write(socket_, asio::buffer(pong_), [self](std::error_code error, size_t bytes) {
      self->writing_ = false;
      self->impl_.counters.bytes_sent += bytes;
      if (self->cells_) self->cells_->bytes_sent += bytes;
      if (!error) self->write_pong();  // on error the read side notices and closes
    });
  }

  bool close_malformed(const std::string& reason) {
    ++impl_.counters.malformed;
    impl_.event(TransportEvent::Kind::kMalformed, peer_.value_or(kNoNode), channel_, address_, reason);
    return close();
  }
  bool close() {
    std::error_code ignored;
    socket_.close(ignored);
    return false;
  }

  TcpTransport::Impl& impl_;
  tcp::socket socket_;
  FrameDecoder decoder_;
  std::string address_;
  std::optional<NodeId> peer_;
  Channel channel_ = Channel::kRegular;
  std::shared_ptr<PeerCells> cells_;
  uint64_t unattributed_ = 0;  // bytes read before the hello named the peer
  std::optional<uint64_t> pending_pong_;
  bool writing_ = false;
  std::string pong_;
  std::array<char, size_t{64} << 10U> buffer_{};
};

}  // namespace

void TcpTransport::Impl::accept() {
  acceptor.async_accept([this](std::error_code error, tcp::socket socket) {
    if (error == asio::error::operation_aborted) return;
    if (error) {
      // Out of descriptors, say: try again shortly rather than spin.
      accept_timer.expires_after(std::chrono::milliseconds(50));
      accept_timer.async_wait([this](std::error_code timer_error) {
        if (!timer_error) accept();
      });
      return;
    }
    std::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    std::make_shared<Inbound>(*this, std::move(socket))->start();
    accept();
  });
}

void TcpTransport::Impl::start_pings() {
  if (options.ping_interval.count() <= 0) return;
  ping_timer.expires_after(options.ping_interval);
  ping_timer.async_wait([this](std::error_code error) {
    if (error) return;
    for (auto& [id, peer] : peers) {
      if (peer->regular.state != Link::State::kConnected) continue;
      peer->regular.ping_due = true;
      write(*peer, peer->regular);
    }
    start_pings();
  });
}

void TcpTransport::Impl::set_peer(NodeId id, const std::string& host, uint16_t port) {
  auto it = peers.find(id);
  if (it == peers.end()) it = peers.emplace(id, std::make_unique<Peer>(io, id, options, cells_for(id))).first;
  Peer& peer = *it->second;
  bool moved = peer.has_address && (peer.host != host || peer.port != port);
  peer.host = host;
  peer.port = port;
  peer.has_address = true;
  if (!moved) return;
  for (Link* link : {&peer.regular, &peer.bulk}) {
    if (link->state == Link::State::kConnecting || link->state == Link::State::kConnected) {
      if (link->state == Link::State::kConnected) {
        event(TransportEvent::Kind::kDisconnected, id, link->channel, link->address,
              "the member's address changed to " + host + ":" + std::to_string(port));
      }
      close_link(peer, *link);
      link->backoff = std::chrono::milliseconds(0);
      link->state = Link::State::kIdle;
      if (!link->queue.empty()) connect(peer, *link);
    }
  }
}

void TcpTransport::Impl::enqueue(NodeId id, FramedMessage framed, Channel channel) {
  Peer* peer = find_peer(id);
  if (peer == nullptr || !peer->has_address) {
    ++counters.dropped_no_peer;
    return;
  }
  Link& link = peer->link(channel);
  if (link.queued_bytes + framed.size() > link.max_queue_bytes) {
    ++counters.dropped_queue_full;
    ++peer->cells->dropped;
    report_drop(*peer, link);
    return;
  }
  link.queued_bytes += framed.size();
  link.queue.push_back(std::move(framed));
  publish_queue(*peer, link);
  switch (link.state) {
    case Link::State::kIdle: connect(*peer, link); return;
    case Link::State::kConnected: write(*peer, link); return;
    default: return;  // connecting, or waiting to redial
  }
}

void TcpTransport::Impl::report_drop(Peer& peer, Link& link) {
  ++peer.drops_unreported;
  Clock::time_point now = Clock::now();
  if (peer.last_drop_event && now - *peer.last_drop_event < kDropEventInterval) return;
  peer.last_drop_event = now;
  event(TransportEvent::Kind::kQueueFullDrops, peer.id, link.channel,
        peer.host + ":" + std::to_string(peer.port),
        "its " + std::string(channel_name(link.channel)) + " queue is full (" +
            std::to_string(link.queued_bytes + link.in_flight_bytes) + " bytes)",
        peer.drops_unreported);
  peer.drops_unreported = 0;
}

void TcpTransport::Impl::publish_queue(Peer& peer, Link& link) {
  std::atomic<uint64_t>& cell =
      link.channel == Channel::kBulk ? peer.cells->bulk_queue_bytes : peer.cells->queue_bytes;
  cell = link.queued_bytes + link.in_flight_bytes;
}

void TcpTransport::Impl::connect(Peer& peer, Link& link) {
  link.state = Link::State::kConnecting;
  uint64_t generation = ++link.generation;
  std::error_code error;
  asio::ip::address address = asio::ip::make_address(peer.host, error);
  if (!error) {
    connect_to(peer, link, generation, {tcp::endpoint(address, peer.port)});
    return;
  }
  // A host name: resolved again at every connection, so a member that moves is found.
  resolver.async_resolve(peer.host, std::to_string(peer.port), tcp::resolver::numeric_service,
                         [this, p = &peer, l = &link, generation](
                             std::error_code resolve_error, const tcp::resolver::results_type& results) {
                           if (generation != l->generation) return;
                           if (!resolve_error && results.empty()) resolve_error = asio::error::host_not_found;
                           if (resolve_error)
                             return connect_failed(
                                 *p, *l, "cannot resolve " + p->host + ": " + resolve_error.message());
                           std::vector<tcp::endpoint> endpoints;
                           for (const auto& entry : results) endpoints.push_back(entry.endpoint());
                           connect_to(*p, *l, generation, endpoints);
                         });
}

void TcpTransport::Impl::connect_to(Peer& peer, Link& link, uint64_t generation,
                                    const std::vector<tcp::endpoint>& endpoints) {
  link.socket = tcp::socket(io);
  asio::async_connect(
      link.socket, endpoints,
      [this, p = &peer, l = &link, generation](std::error_code error, const tcp::endpoint& endpoint) {
        if (generation != l->generation) return;
        if (error) return connect_failed(*p, *l, "cannot connect: " + error.message());
        std::error_code ignored;
        l->socket.set_option(tcp::no_delay(true), ignored);
        l->state = Link::State::kConnected;
        l->hello_sent = false;
        l->failures = 0;
        l->connected_at = Clock::now();
        l->connected_at_ns = now_ns();
        l->address = address_of(endpoint);
        l->replies = FrameDecoder(kMaxReplyBytes);
        (l->channel == Channel::kBulk ? p->cells->bulk_connected : p->cells->connected) = true;
        ++counters.connects;
        event(TransportEvent::Kind::kConnected, p->id, l->channel, l->address, "");
        read_replies(*p, *l, generation);
        write(*p, *l);
      });
}

void TcpTransport::Impl::connect_failed(Peer& peer, Link& link, const std::string& reason) {
  ++link.failures;
  if (power_of_two(link.failures)) {
    event(TransportEvent::Kind::kConnectFailed, peer.id, link.channel,
          peer.host + ":" + std::to_string(peer.port), reason, link.failures);
  }
  close_link(peer, link);
  redial_later(peer, link);
}

void TcpTransport::Impl::lost(Peer& peer, Link& link, const std::string& reason) {
  event(TransportEvent::Kind::kDisconnected, peer.id, link.channel, link.address, reason);
  // A connection that was up for a while broke: redial promptly. One that broke at once (a listener
  // refusing our hello, say) keeps backing off.
  if (Clock::now() - link.connected_at >= options.reconnect_max) link.backoff = std::chrono::milliseconds(0);
  close_link(peer, link);
  redial_later(peer, link);
}

// Closes the socket and forgets the write under way (Raft resends what it needs).
void TcpTransport::Impl::close_link(Peer& peer, Link& link) {
  ++link.generation;
  std::error_code ignored;
  link.socket.close(ignored);
  link.timer.cancel();
  link.writing = false;
  link.ping_due = false;
  link.in_flight.clear();
  link.in_flight_bytes = 0;
  link.batch.clear();
  (link.channel == Channel::kBulk ? peer.cells->bulk_connected : peer.cells->connected) = false;
  publish_queue(peer, link);
}

void TcpTransport::Impl::redial_later(Peer& peer, Link& link) {
  link.state = Link::State::kWaiting;
  link.backoff = std::min(options.reconnect_max, std::max(options.reconnect_min, link.backoff * 2));
  link.timer.expires_after(link.backoff);
  uint64_t generation = link.generation;
  link.timer.async_wait([this, p = &peer, l = &link, generation](std::error_code error) {
    if (error || generation != l->generation || l->state != Link::State::kWaiting) return;
    l->state = Link::State::kIdle;
    if (!l->queue.empty()) connect(*p, *l);
  });
}

void TcpTransport::Impl::write(Peer& peer, Link& link) {
  if (link.state != Link::State::kConnected || link.writing) return;
  if (link.hello_sent && link.queue.empty() && !link.ping_due) return;
  std::string control;  // the hello, first on a connection, then a ping if one is due
  if (!link.hello_sent)
    control = frame(encode_hello(Hello{kWireVersion, options.cluster_id, options.self, link.channel}));
  if (link.ping_due) {
    control += frame(encode_ping(now_ns()));
    link.ping_due = false;
  }
  link.batch.clear();
  link.in_flight.clear();
  // What to write, in order: a run of the batch, or a frame's head or tail in place.
  struct Piece {
    enum class From : uint8_t { kBatch, kHead, kTail } from;
    size_t at;  // offset in the batch, or index in in_flight
    size_t size;
  };
  std::vector<Piece> pieces;
  auto batch_append = [&](std::string_view bytes) {
    if (pieces.empty() || pieces.back().from != Piece::From::kBatch)
      pieces.push_back({Piece::From::kBatch, link.batch.size(), 0});
    link.batch.append(bytes);
    pieces.back().size += bytes.size();
  };
  if (!control.empty()) batch_append(control);
  size_t bytes = link.batch.size();
  // A bulk write is one snapshot; a regular one as many frames as fit in max_write_bytes.
  while (!link.queue.empty() &&
         (link.in_flight.empty() || (link.channel == Channel::kRegular && bytes < options.max_write_bytes))) {
    FramedMessage framed = std::move(link.queue.front());
    link.queue.pop_front();
    link.queued_bytes -= framed.size();
    bytes += framed.size();
    size_t index = link.in_flight.size();
    if (framed.head.size() <= kCopyLimit) {
      batch_append(framed.head);
    } else {
      pieces.push_back({Piece::From::kHead, index, framed.head.size()});
    }
    if (!framed.tail().empty()) pieces.push_back({Piece::From::kTail, index, framed.tail().size()});
    link.in_flight.push_back(std::move(framed));
  }
  link.in_flight_bytes = bytes;
  publish_queue(peer, link);
  std::vector<asio::const_buffer> buffers;
  buffers.reserve(pieces.size());
  for (const Piece& piece : pieces) {
    switch (piece.from) {
      case Piece::From::kBatch: buffers.emplace_back(link.batch.data() + piece.at, piece.size); break;
      case Piece::From::kHead: buffers.emplace_back(link.in_flight[piece.at].head.data(), piece.size); break;
      case Piece::From::kTail:
        buffers.emplace_back(link.in_flight[piece.at].tail().data(), piece.size);
        break;
    }
  }
  link.writing = true;
  uint64_t generation = link.generation;
  asio::async_write(link.socket, buffers,
                    [this, p = &peer, l = &link, generation](std::error_code error, size_t written) {
                      counters.bytes_sent += written;
                      p->cells->bytes_sent += written;
                      if (generation != l->generation) return;
                      l->writing = false;
                      if (error) return lost(*p, *l, "write failed: " + reason_of(error));
                      l->hello_sent = true;
                      counters.sent += l->in_flight.size();
                      p->cells->messages_sent += l->in_flight.size();
                      l->in_flight.clear();  // lets go of the snapshots
                      l->in_flight_bytes = 0;
                      publish_queue(*p, *l);
                      write(*p, *l);
                    });
}

// The dialling side reads only pongs (and the close).
void TcpTransport::Impl::read_replies(Peer& peer, Link& link, uint64_t generation) {
  link.socket.async_read_some(asio::buffer(link.read_buffer), [this, p = &peer, l = &link, generation](
                                                                  std::error_code error, size_t bytes) {
    if (generation != l->generation) return;
    if (error) return lost(*p, *l, reason_of(error));
    counters.bytes_received += bytes;
    p->cells->bytes_received += bytes;
    l->replies.feed(std::string_view(l->read_buffer.data(), bytes));
    while (true) {
      Result<std::optional<std::string>> next = l->replies.next();
      if (next.is_ok() && !next.value()) break;
      if (!next.is_ok() || !take_reply(*p, *l, *next.value())) {
        std::string reason = next.is_ok() ? "a reply that is not a pong" : next.status().message();
        ++counters.malformed;
        event(TransportEvent::Kind::kMalformed, p->id, l->channel, l->address, reason);
        return lost(*p, *l, "malformed reply: " + reason);
      }
    }
    read_replies(*p, *l, generation);
  });
}

bool TcpTransport::Impl::take_reply(Peer& peer, Link& link, const std::string& payload) {
  Result<uint64_t> stamp = decode_pong(payload);
  if (!stamp.is_ok()) return false;
  uint64_t now = now_ns();
  // Only a stamp this connection could have sent makes a sample.
  if (stamp.value() < link.connected_at_ns || stamp.value() > now) return true;
  auto sample_us = static_cast<int64_t>((now - stamp.value()) / 1000);
  peer.rtt_smoothed_us =
      peer.rtt_smoothed_us < 0
          ? static_cast<double>(sample_us)
          : peer.rtt_smoothed_us + (static_cast<double>(sample_us) - peer.rtt_smoothed_us) / 8;
  peer.cells->rtt_last_us = sample_us;
  peer.cells->rtt_smoothed_us = static_cast<int64_t>(peer.rtt_smoothed_us);
  return true;
}

void TcpTransport::Impl::shutdown() {
  stopping = true;
  std::error_code ignored;
  acceptor.close(ignored);
  accept_timer.cancel();
  ping_timer.cancel();
  resolver.cancel();
  for (auto& [id, peer] : peers) {
    for (Link* link : {&peer->regular, &peer->bulk}) {
      ++link->generation;
      link->timer.cancel();
      link->socket.close(ignored);
    }
  }
  work.reset();
  io.stop();
}

const char* TransportEvent::kind_name(Kind kind) {
  switch (kind) {
    case Kind::kConnected: return "connected";
    case Kind::kConnectFailed: return "connect failed";
    case Kind::kDisconnected: return "disconnected";
    case Kind::kHelloAccepted: return "hello accepted";
    case Kind::kHelloRefused: return "hello refused";
    case Kind::kMalformed: return "malformed frame";
    case Kind::kQueueFullDrops: return "queue full";
  }
  return "unknown";
}

std::string TransportEvent::to_string() const {
  std::ostringstream out;
  std::string member =
      peer == kNoNode ? std::string("an unidentified peer") : "member " + std::to_string(peer);
  std::string where = address.empty() ? std::string() : " at " + address;
  const char* via = channel_name(channel);
  switch (kind) {
    case Kind::kConnected: out << "connected to " << member << where << " (" << via << ")"; break;
    case Kind::kConnectFailed:
      out << "cannot reach " << member << where << " (" << via << ", " << count << " failure"
          << (count == 1 ? "" : "s") << " in a row): " << reason;
      break;
    case Kind::kDisconnected:
      out << "lost the " << via << " connection to " << member << where << ": " << reason;
      break;
    case Kind::kHelloAccepted: out << "accepted a " << via << " connection from " << member << where; break;
    case Kind::kHelloRefused:
      out << "refused a connection" << (address.empty() ? "" : " from " + address) << ": " << reason;
      break;
    case Kind::kMalformed:
      out << "closed the " << via << " connection with " << member << where << ": " << reason;
      break;
    case Kind::kQueueFullDrops:
      out << "dropped " << count << " message" << (count == 1 ? "" : "s") << " to " << member << ": "
          << reason;
      break;
  }
  return out.str();
}

Result<std::unique_ptr<TcpTransport>> TcpTransport::start(TcpTransportOptions options, Handler handler) {
  std::unique_ptr<TcpTransport> transport(new TcpTransport());
  transport->impl_ = std::make_unique<Impl>(std::move(options), std::move(handler), transport->counters_);
  Impl& impl = *transport->impl_;
  std::error_code error;
  asio::ip::address address = asio::ip::make_address(impl.options.listen_host, error);
  if (error)
    return Status(ErrorCode::kInvalidArgument,
                  "listen address " + impl.options.listen_host + ": " + error.message());
  tcp::endpoint endpoint(address, impl.options.listen_port);
  impl.acceptor.open(endpoint.protocol(), error);
  if (!error) impl.acceptor.set_option(tcp::acceptor::reuse_address(true), error);
  if (!error) impl.acceptor.bind(endpoint, error);
  if (!error) impl.acceptor.listen(asio::socket_base::max_listen_connections, error);
  if (error) {
    return Status(ErrorCode::kIoError, "cannot listen on " + impl.options.listen_host + ":" +
                                           std::to_string(impl.options.listen_port) + ": " + error.message());
  }
  transport->port_ = impl.acceptor.local_endpoint().port();
  impl.accept();
  impl.start_pings();
  transport->thread_ = std::thread([&impl] { impl.io.run(); });
  return transport;
}

TcpTransport::~TcpTransport() {
  if (!impl_) return;
  asio::post(impl_->io, [impl = impl_.get()] { impl->shutdown(); });
  if (thread_.joinable()) thread_.join();
}

void TcpTransport::set_peer(NodeId id, const std::string& host, uint16_t port) {
  asio::post(impl_->io, [impl = impl_.get(), id, host, port] { impl->set_peer(id, host, port); });
}

void TcpTransport::send(Message message) {
  NodeId to = message.to;
  Channel channel = message.type == MessageType::kSnapshot ? Channel::kBulk : Channel::kRegular;
  asio::post(impl_->io, [impl = impl_.get(), to, channel, framed = frame_message(message)]() mutable {
    impl->enqueue(to, std::move(framed), channel);
  });
}

std::vector<PeerStats> TcpTransport::peer_stats() const {
  std::vector<PeerStats> all;
  std::lock_guard<std::mutex> lock(impl_->stats_mutex);
  for (const auto& [id, cells] : impl_->stats) {
    PeerStats stats;
    stats.id = id;
    stats.connected = cells->connected;
    stats.bulk_connected = cells->bulk_connected;
    int64_t last = cells->rtt_last_us;
    int64_t smoothed = cells->rtt_smoothed_us;
    if (last >= 0) stats.rtt_last = std::chrono::microseconds(last);
    if (smoothed >= 0) stats.rtt_smoothed = std::chrono::microseconds(smoothed);
    stats.bytes_sent = cells->bytes_sent;
    stats.bytes_received = cells->bytes_received;
    stats.messages_sent = cells->messages_sent;
    stats.messages_received = cells->messages_received;
    stats.queue_bytes = cells->queue_bytes;
    stats.bulk_queue_bytes = cells->bulk_queue_bytes;
    stats.dropped = cells->dropped;
    all.push_back(stats);
  }
  return all;
}

}  // namespace synod::transport
