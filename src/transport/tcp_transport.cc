#include "transport/tcp_transport.h"

#include <deque>
#include <optional>

#include <asio.hpp>

#include "transport/wire.h"

namespace synod::transport {
namespace {

using asio::ip::tcp;

// One accepted connection: a hello, then messages, one way (to us).
class Inbound : public std::enable_shared_from_this<Inbound> {
 public:
  Inbound(tcp::socket socket, const TcpTransportOptions& options, TransportCounters& counters,
          const TcpTransport::Handler& handler)
      : socket_(std::move(socket)),
        options_(options),
        counters_(counters),
        handler_(handler),
        decoder_(options.max_frame_bytes) {}

  void start() { read(); }

 private:
  void read() {
    auto self = shared_from_this();
    socket_.async_read_some(asio::buffer(buffer_), [self](std::error_code error, size_t bytes) {
      if (error) return;  // closed: the peer redials
      self->decoder_.feed(std::string_view(self->buffer_.data(), bytes));
      if (self->drain()) self->read();
    });
  }

  // Handles every complete frame; false once the connection must close.
  bool drain() {
    while (true) {
      Result<std::optional<std::string>> next = decoder_.next();
      if (!next.is_ok()) return close_malformed();
      if (!next.value()) return true;
      const std::string& payload = *next.value();
      if (!peer_) {
        Result<Hello> hello = decode_hello(payload);
        if (!hello.is_ok()) return close_malformed();
        if (!check_hello(hello.value(), options_.cluster_id, std::nullopt).is_ok()) {
          ++counters_.refused_hellos;
          return close();
        }
        peer_ = hello.value().node_id;
        continue;
      }
      Result<Message> message = decode_message(payload);
      if (!message.is_ok() || message.value().from != *peer_ || message.value().to != options_.self) {
        return close_malformed();
      }
      ++counters_.received;
      handler_(std::move(message).value());
    }
  }

  bool close_malformed() {
    ++counters_.malformed;
    return close();
  }
  bool close() {
    std::error_code ignored;
    socket_.close(ignored);
    return false;
  }

  tcp::socket socket_;
  const TcpTransportOptions& options_;
  TransportCounters& counters_;
  const TcpTransport::Handler& handler_;
  FrameDecoder decoder_;
  std::optional<NodeId> peer_;
  std::array<char, 64 * 1024> buffer_{};
};

}  // namespace

// One peer we send to: its queue and its outbound connection. Lives on the I/O thread only.
struct Outbound {
  explicit Outbound(asio::io_context& io) : socket(io), timer(io) {}
  tcp::endpoint endpoint;
  bool has_endpoint = false;
  tcp::socket socket;
  asio::steady_timer timer;
  enum class State : uint8_t { kIdle, kConnecting, kConnected, kWaiting } state = State::kIdle;
  std::deque<std::string> queue;  // framed messages
  size_t queued_bytes = 0;
  bool writing = false;
  bool hello_sent = false;
  std::string in_flight;
  size_t in_flight_frames = 0;
  std::chrono::milliseconds backoff{0};
};

struct TcpTransport::Impl {
  Impl(TcpTransportOptions opts, Handler on_message, TransportCounters& counters_ref)
      : options(std::move(opts)), handler(std::move(on_message)), counters(counters_ref), acceptor(io) {}

  void accept() {
    acceptor.async_accept([this](std::error_code error, tcp::socket socket) {
      if (error) {
        if (error == asio::error::operation_aborted) return;
      } else {
        std::error_code ignored;
        socket.set_option(tcp::no_delay(true), ignored);
        std::make_shared<Inbound>(std::move(socket), options, counters, handler)->start();
      }
      accept();
    });
  }

  Outbound& peer(NodeId id) {
    auto it = peers.find(id);
    if (it == peers.end()) it = peers.emplace(id, std::make_unique<Outbound>(io)).first;
    return *it->second;
  }

  void enqueue(NodeId id, std::string framed) {
    Outbound& out = peer(id);
    if (!out.has_endpoint) {
      ++counters.dropped_no_peer;
      return;
    }
    if (out.queued_bytes + framed.size() > options.max_queue_bytes) {
      ++counters.dropped_queue_full;
      return;
    }
    out.queued_bytes += framed.size();
    out.queue.push_back(std::move(framed));
    pump(id);
  }

  void pump(NodeId id) {
    Outbound& out = peer(id);
    switch (out.state) {
      case Outbound::State::kIdle: connect(id); return;
      case Outbound::State::kConnected: write(id); return;
      default: return;  // connecting, or waiting to redial
    }
  }

  void connect(NodeId id) {
    Outbound& out = peer(id);
    out.state = Outbound::State::kConnecting;
    out.socket = tcp::socket(io);
    out.socket.async_connect(out.endpoint, [this, id](std::error_code error) {
      Outbound& o = peer(id);
      if (error) return redial_later(id);
      std::error_code ignored;
      o.socket.set_option(tcp::no_delay(true), ignored);
      o.state = Outbound::State::kConnected;
      o.hello_sent = false;
      o.backoff = std::chrono::milliseconds(0);
      ++counters.connects;
      write(id);
    });
  }

  void redial_later(NodeId id) {
    Outbound& out = peer(id);
    std::error_code ignored;
    out.socket.close(ignored);
    out.writing = false;
    out.state = Outbound::State::kWaiting;
    out.backoff = std::min(options.reconnect_max, std::max(options.reconnect_min, out.backoff * 2));
    out.timer.expires_after(out.backoff);
    out.timer.async_wait([this, id](std::error_code error) {
      if (error) return;
      Outbound& o = peer(id);
      o.state = Outbound::State::kIdle;
      if (!o.queue.empty()) connect(id);
    });
  }

  void write(NodeId id) {
    Outbound& out = peer(id);
    if (out.writing || (out.queue.empty() && out.hello_sent)) return;
    out.in_flight.clear();
    out.in_flight_frames = 0;
    if (!out.hello_sent)
      out.in_flight = frame(encode_hello(Hello{kWireVersion, options.cluster_id, options.self}));
    while (!out.queue.empty() && out.in_flight.size() < options.max_write_bytes) {
      out.in_flight += out.queue.front();
      out.queued_bytes -= out.queue.front().size();
      out.queue.pop_front();
      ++out.in_flight_frames;
    }
    out.writing = true;
    asio::async_write(out.socket, asio::buffer(out.in_flight), [this, id](std::error_code error, size_t) {
      Outbound& o = peer(id);
      o.writing = false;
      if (error) return redial_later(id);  // what was in flight is lost; Raft resends
      o.hello_sent = true;
      counters.sent += o.in_flight_frames;
      write(id);
    });
  }

  TcpTransportOptions options;
  Handler handler;
  TransportCounters& counters;
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
  tcp::acceptor acceptor;
  std::map<NodeId, std::unique_ptr<Outbound>> peers;
};

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
  transport->thread_ = std::thread([&impl] { impl.io.run(); });
  return transport;
}

TcpTransport::~TcpTransport() {
  if (!impl_) return;
  asio::post(impl_->io, [impl = impl_.get()] {
    std::error_code ignored;
    impl->acceptor.close(ignored);
    for (auto& [id, out] : impl->peers) {
      out->timer.cancel();
      out->socket.close(ignored);
    }
    impl->work.reset();
    impl->io.stop();
  });
  if (thread_.joinable()) thread_.join();
}

void TcpTransport::set_peer(NodeId id, const std::string& host, uint16_t port) {
  std::error_code error;
  asio::ip::address address = asio::ip::make_address(host, error);
  if (error) return;
  asio::post(impl_->io, [impl = impl_.get(), id, endpoint = tcp::endpoint(address, port)] {
    Outbound& out = impl->peer(id);
    out.endpoint = endpoint;
    out.has_endpoint = true;
  });
}

void TcpTransport::send(Message message) {
  NodeId to = message.to;
  asio::post(impl_->io, [impl = impl_.get(), to, framed = frame(encode_message(message))]() mutable {
    impl->enqueue(to, std::move(framed));
  });
}

}  // namespace synod::transport
