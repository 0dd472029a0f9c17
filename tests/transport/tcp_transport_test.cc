// The TCP peer transport on loopback: messages flow both ways in order, a peer that goes away and
// comes back gets what was queued, and a peer from another cluster, random bytes, an oversized frame
// or a message under a false name are refused and counted while the member keeps working. A snapshot
// travels on its own connection, so heartbeats pass it while it is being written (checked against a
// hand-made peer that stops reading any connection a big frame starts on); round-trip times and per-peer
// traffic are measured; events report connections, refusals, malformed frames and (rate-limited) drops;
// peers may be named by host name.
#include "transport/tcp_transport.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "base/random.h"
#include "transport/wire.h"

namespace synod::transport {
namespace {

using namespace std::chrono_literals;

bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds limit = 10s) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(2ms);
  }
  return done();
}

// A member's transport, what it received and the events it reported.
struct Endpoint {
  std::mutex mutex;
  std::vector<Message> received;
  std::vector<TransportEvent> events;
  std::unique_ptr<TcpTransport> transport;

  void start(uint64_t cluster, NodeId self, uint16_t port = 0,
             const std::function<void(TcpTransportOptions&)>& tweak = {}) {
    TcpTransportOptions options;
    options.cluster_id = cluster;
    options.self = self;
    options.listen_port = port;
    options.max_frame_bytes = 1 << 20;
    options.on_event = [this](const TransportEvent& event) {
      std::lock_guard<std::mutex> lock(mutex);
      events.push_back(event);
    };
    if (tweak) tweak(options);
    Result<std::unique_ptr<TcpTransport>> started = TcpTransport::start(options, [this](Message&& m) {
      std::lock_guard<std::mutex> lock(mutex);
      received.push_back(std::move(m));
    });
    ASSERT_TRUE(started.is_ok()) << started.status().to_string();
    transport = std::move(started).value();
  }
  size_t count() {
    std::lock_guard<std::mutex> lock(mutex);
    return received.size();
  }
  uint64_t last_commit() {
    std::lock_guard<std::mutex> lock(mutex);
    return received.empty() ? 0 : received.back().commit;
  }
  std::vector<TransportEvent> events_of(TransportEvent::Kind kind) {
    std::lock_guard<std::mutex> lock(mutex);
    std::vector<TransportEvent> found;
    for (const TransportEvent& event : events)
      if (event.kind == kind) found.push_back(event);
    return found;
  }
  // The first event of `kind` whose reason contains `text`, if any.
  std::optional<TransportEvent> event_with(TransportEvent::Kind kind, const std::string& text) {
    for (const TransportEvent& event : events_of(kind))
      if (event.reason.find(text) != std::string::npos) return event;
    return std::nullopt;
  }
  std::optional<PeerStats> stats(NodeId id) {
    for (const PeerStats& stats : transport->peer_stats())
      if (stats.id == id) return stats;
    return std::nullopt;
  }
};

Message heartbeat(NodeId from, NodeId to, uint64_t n) {
  Message message;
  message.type = MessageType::kHeartbeat;
  message.from = from;
  message.to = to;
  message.term = 1;
  message.commit = n;
  return message;
}

// Connects a raw socket to the transport's port and writes `bytes`.
void raw_send(uint16_t port, const std::string& bytes) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  ASSERT_EQ(::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL), static_cast<ssize_t>(bytes.size()));
  std::this_thread::sleep_for(50ms);
  ::close(fd);
}

TEST(TcpTransport, messagesFlowBothWaysInOrder) {
  Endpoint a;
  Endpoint b;
  a.start(1, 1);
  b.start(1, 2);
  a.transport->set_peer(2, "127.0.0.1", b.transport->port());
  b.transport->set_peer(1, "127.0.0.1", a.transport->port());
  for (uint64_t i = 1; i <= 500; ++i) {
    a.transport->send(heartbeat(1, 2, i));
    b.transport->send(heartbeat(2, 1, i));
  }
  ASSERT_TRUE(wait_until([&] { return a.count() == 500 && b.count() == 500; }));
  for (uint64_t i = 0; i < 500; ++i) {
    EXPECT_EQ(b.received[i].commit, i + 1);
    EXPECT_EQ(b.received[i].from, 1U);
    EXPECT_EQ(a.received[i].commit, i + 1);
  }
  EXPECT_GE(a.transport->counters().sent.load(), 500U);
}

TEST(TcpTransport, aPeerThatComesBackGetsWhatWasQueued) {
  Endpoint a;
  a.start(1, 1);
  auto b = std::make_unique<Endpoint>();
  b->start(1, 2);
  uint16_t port = b->transport->port();
  a.transport->set_peer(2, "127.0.0.1", port);
  a.transport->send(heartbeat(1, 2, 1));
  ASSERT_TRUE(wait_until([&] { return b->count() == 1; }));
  b.reset();  // the peer goes away
  for (uint64_t i = 2; i <= 5; ++i) a.transport->send(heartbeat(1, 2, i));
  std::this_thread::sleep_for(100ms);
  auto again = std::make_unique<Endpoint>();
  again->start(1, 2, port);  // and comes back on the same port
  a.transport->send(heartbeat(1, 2, 6));
  ASSERT_TRUE(wait_until([&] { return again->last_commit() == 6; })) << "received " << again->count();
  EXPECT_GE(a.transport->counters().connects.load(), 2U);
}

TEST(TcpTransport, aPeerFromAnotherClusterIsRefused) {
  Endpoint a;
  Endpoint stranger;
  a.start(1, 1);
  stranger.start(2, 2);
  stranger.transport->set_peer(1, "127.0.0.1", a.transport->port());
  stranger.transport->send(heartbeat(2, 1, 1));
  ASSERT_TRUE(wait_until([&] { return a.transport->counters().refused_hellos.load() >= 1; }));
  EXPECT_EQ(a.count(), 0U);
}

TEST(TcpTransport, garbageOversizedFramesAndFalseNamesAreRefusedAndTheMemberGoesOn) {
  Endpoint a;
  Endpoint b;
  a.start(1, 1);
  b.start(1, 2);
  uint16_t port = a.transport->port();
  Random random(3);
  std::string noise(4096, '\0');
  for (char& c : noise) c = static_cast<char>(random.uniform(256));
  raw_send(port, noise);
  std::string hello = frame(encode_hello(Hello{kWireVersion, 1, 2}));
  std::string oversized = hello + std::string("\xff\xff\xff\x7f\x00\x00\x00\x00", 8);
  raw_send(port, oversized);
  raw_send(port, hello + frame(encode_message(heartbeat(3, 1, 9))));  // says it is member 3
  raw_send(port, hello + frame("\x01\x01not a message"));
  ASSERT_TRUE(wait_until([&] { return a.transport->counters().malformed.load() >= 4; }))
      << a.transport->counters().malformed.load();
  EXPECT_EQ(a.count(), 0U);

  b.transport->set_peer(1, "127.0.0.1", port);
  b.transport->send(heartbeat(2, 1, 42));
  ASSERT_TRUE(wait_until([&] { return a.count() == 1; }));
  EXPECT_EQ(a.received[0].commit, 42U);
}

TEST(TcpTransport, aFullQueueDropsAndCountsInsteadOfBlocking) {
  TcpTransportOptions options;
  options.cluster_id = 1;
  options.self = 1;
  options.max_queue_bytes = 4096;
  std::unique_ptr<TcpTransport> a = TcpTransport::start(options, [](Message&&) {}).value();
  a->set_peer(2, "127.0.0.1", 1);  // nobody listens there
  Message big = heartbeat(1, 2, 1);
  big.context = std::string(1000, 'x');
  for (int i = 0; i < 50; ++i) a->send(big);
  ASSERT_TRUE(wait_until([&] { return a->counters().dropped_queue_full.load() >= 40; }))
      << a->counters().dropped_queue_full.load();
  a->send(heartbeat(1, 9, 1));
  ASSERT_TRUE(wait_until([&] { return a->counters().dropped_no_peer.load() == 1; }));
}

// A peer speaking the wire by hand over POSIX sockets, a thread per connection. It records the messages
// it gets with the channel each came on, and stops reading a connection on which a frame longer than
// `hold_over` bytes starts until release() (its receive buffers are small, so the sender's write of such
// a frame cannot finish while it is held). `reply`, if set, is written back after each hello.
class FakePeer {
 public:
  struct Seen {
    Channel channel;
    Message message;
  };

  explicit FakePeer(size_t hold_over, std::string reply = "")
      : hold_over_(hold_over), reply_(std::move(reply)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int small = 64 << 10;  // inherited by accepted sockets; fixes their receive buffer
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    EXPECT_EQ(::listen(listen_fd_, 16), 0);
    socklen_t length = sizeof(address);
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  ~FakePeer() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
      for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);
    }
    changed_.notify_all();
    ::shutdown(listen_fd_, SHUT_RDWR);
    acceptor_.join();
    for (std::thread& thread : threads_) thread.join();
    for (int fd : fds_) ::close(fd);
    ::close(listen_fd_);
  }
  FakePeer(const FakePeer&) = delete;
  FakePeer& operator=(const FakePeer&) = delete;

  uint16_t port() const { return port_; }
  void release() {
    std::lock_guard<std::mutex> lock(mutex_);
    released_ = true;
    changed_.notify_all();
  }
  size_t held() {
    std::lock_guard<std::mutex> lock(mutex_);
    return held_;
  }
  std::vector<Seen> seen() {
    std::lock_guard<std::mutex> lock(mutex_);
    return seen_;
  }
  size_t seen_of(MessageType type) {
    std::vector<Seen> all = seen();
    return std::count_if(all.begin(), all.end(), [type](const Seen& s) { return s.message.type == type; });
  }

 private:
  void accept_loop() {
    while (true) {
      int fd = ::accept(listen_fd_, nullptr, nullptr);
      std::lock_guard<std::mutex> lock(mutex_);
      if (fd < 0 || stopping_) {
        if (fd >= 0) ::close(fd);
        return;
      }
      fds_.push_back(fd);
      threads_.emplace_back([this, fd] { serve(fd); });
    }
  }

  void serve(int fd) {
    std::string buffer;
    size_t at = 0;
    std::optional<Channel> channel;
    bool waited = false;
    std::vector<char> chunk(64 << 10);
    while (true) {
      ssize_t got = ::recv(fd, chunk.data(), chunk.size(), 0);
      if (got <= 0) return;
      buffer.append(chunk.data(), static_cast<size_t>(got));
      while (buffer.size() - at >= kFrameHeaderBytes) {
        uint32_t length = 0;
        for (size_t i = 0; i < 4; ++i)
          length |= static_cast<uint32_t>(static_cast<uint8_t>(buffer[at + i])) << (8U * i);
        if (length > hold_over_ && !waited) {
          waited = true;
          std::unique_lock<std::mutex> lock(mutex_);
          ++held_;
          changed_.wait(lock, [this] { return released_ || stopping_; });
          --held_;
          if (stopping_) return;
        }
        if (buffer.size() - at < kFrameHeaderBytes + length) break;
        std::string_view payload = std::string_view(buffer).substr(at + kFrameHeaderBytes, length);
        at += kFrameHeaderBytes + length;
        waited = false;
        if (!channel) {
          Result<Hello> hello = decode_hello(payload);
          if (!hello.is_ok()) return;
          channel = hello.value().channel;
          if (!reply_.empty()) (void)::send(fd, reply_.data(), reply_.size(), MSG_NOSIGNAL);
          continue;
        }
        Result<Message> message = decode_message(payload);
        if (!message.is_ok()) continue;  // a ping, say
        std::lock_guard<std::mutex> lock(mutex_);
        seen_.push_back(Seen{*channel, std::move(message).value()});
      }
      if (at > (1U << 20U)) {
        buffer.erase(0, at);
        at = 0;
      }
    }
  }

  size_t hold_over_;
  std::string reply_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::thread acceptor_;
  std::mutex mutex_;
  std::condition_variable changed_;
  bool stopping_ = false;
  bool released_ = false;
  size_t held_ = 0;
  std::vector<int> fds_;
  std::vector<std::thread> threads_;
  std::vector<Seen> seen_;
};

Message snapshot_message(NodeId from, NodeId to, size_t bytes) {
  Message message;
  message.type = MessageType::kSnapshot;
  message.from = from;
  message.to = to;
  message.term = 1;
  std::string data(bytes, '\0');
  for (size_t i = 0; i < bytes; ++i) data[i] = static_cast<char>('a' + i % 23);
  message.snapshot =
      std::make_shared<const Snapshot>(Snapshot{SnapshotMeta{500, 1, ConfState{{1, 2}}}, data});
  return message;
}

TEST(TcpTransport, heartbeatsPassASnapshotThatIsStillBeingWritten) {
  FakePeer peer(/*hold_over=*/1 << 20);
  Endpoint a;
  a.start(1, 1, 0, [](TcpTransportOptions& options) { options.ping_interval = 0ms; });
  a.transport->set_peer(2, "127.0.0.1", peer.port());
  Message snapshot = snapshot_message(1, 2, 24 << 20);
  a.transport->send(snapshot);
  for (uint64_t i = 1; i <= 20; ++i) a.transport->send(heartbeat(1, 2, i));

  // Were the heartbeats queued behind the snapshot on one connection, they could not arrive while the
  // peer holds the connection the snapshot started on.
  ASSERT_TRUE(wait_until([&] { return peer.seen_of(MessageType::kHeartbeat) == 20 && peer.held() == 1; }))
      << peer.seen_of(MessageType::kHeartbeat) << " heartbeats, " << peer.held() << " held";
  EXPECT_EQ(peer.seen_of(MessageType::kSnapshot), 0U);
  std::optional<PeerStats> writing = a.stats(2);
  ASSERT_TRUE(writing);
  EXPECT_TRUE(writing->connected);
  EXPECT_TRUE(writing->bulk_connected);
  EXPECT_GT(writing->bulk_queue_bytes, 0U) << "the snapshot is still being written";
  EXPECT_EQ(writing->messages_sent, 20U);

  peer.release();
  ASSERT_TRUE(wait_until([&] { return peer.seen_of(MessageType::kSnapshot) == 1; }));
  for (const FakePeer::Seen& seen : peer.seen()) {
    EXPECT_EQ(seen.channel, seen.message.type == MessageType::kSnapshot ? Channel::kBulk : Channel::kRegular);
    if (seen.message.type == MessageType::kSnapshot) {
      ASSERT_NE(seen.message.snapshot, nullptr);
      EXPECT_TRUE(*seen.message.snapshot == *snapshot.snapshot);
    }
  }
  ASSERT_TRUE(wait_until([&] { return a.stats(2)->messages_sent == 21; }));
  EXPECT_EQ(a.stats(2)->bulk_queue_bytes, 0U);
  EXPECT_GE(a.stats(2)->bytes_sent, 24U << 20U);
}

TEST(TcpTransport, aLargeSnapshotArrivesWholeBetweenMembers) {
  Endpoint a;
  Endpoint b;
  a.start(1, 1);
  b.start(1, 2);  // its regular frames are limited to 1 MB; the bulk ones are not
  a.transport->set_peer(2, "127.0.0.1", b.transport->port());
  Message snapshot = snapshot_message(1, 2, 8 << 20);
  a.transport->send(heartbeat(1, 2, 1));
  a.transport->send(snapshot);
  a.transport->send(heartbeat(1, 2, 2));
  ASSERT_TRUE(wait_until([&] { return b.count() == 3; })) << b.count();
  std::lock_guard<std::mutex> lock(b.mutex);
  auto it = std::find_if(b.received.begin(), b.received.end(),
                         [](const Message& m) { return m.type == MessageType::kSnapshot; });
  ASSERT_NE(it, b.received.end());
  ASSERT_NE(it->snapshot, nullptr);
  EXPECT_TRUE(*it->snapshot == *snapshot.snapshot);
  EXPECT_EQ(b.transport->counters().malformed.load(), 0U);
}

TEST(TcpTransport, roundTripTimesAreMeasuredAndTrafficIsCountedPerPeer) {
  Endpoint a;
  Endpoint b;
  auto fast_pings = [](TcpTransportOptions& options) { options.ping_interval = 10ms; };
  a.start(1, 1, 0, fast_pings);
  b.start(1, 2, 0, fast_pings);
  a.transport->set_peer(2, "127.0.0.1", b.transport->port());
  b.transport->set_peer(1, "127.0.0.1", a.transport->port());
  for (uint64_t i = 1; i <= 10; ++i) a.transport->send(heartbeat(1, 2, i));
  b.transport->send(heartbeat(2, 1, 1));
  ASSERT_TRUE(wait_until([&] { return b.count() == 10 && a.count() == 1; }));
  ASSERT_TRUE(wait_until([&] { return a.stats(2)->rtt_last && a.stats(2)->rtt_smoothed; }));
  PeerStats to_b = *a.stats(2);
  EXPECT_TRUE(to_b.connected);
  EXPECT_FALSE(to_b.bulk_connected) << "no snapshot was sent";
  EXPECT_GE(to_b.rtt_last->count(), 0);
  EXPECT_LT(*to_b.rtt_last, std::chrono::microseconds(1s));
  EXPECT_LT(*to_b.rtt_smoothed, std::chrono::microseconds(1s));
  EXPECT_EQ(to_b.messages_sent, 10U);
  EXPECT_EQ(to_b.messages_received, 1U);
  EXPECT_EQ(b.stats(1)->messages_received, 10U);
  EXPECT_EQ(to_b.queue_bytes, 0U);
  EXPECT_EQ(to_b.dropped, 0U);
  // Every byte one side wrote the other read, counted both per peer and in total (pings go on, so wait
  // for a moment between them).
  ASSERT_TRUE(wait_until([&] {
    return a.stats(2)->bytes_sent == b.stats(1)->bytes_received &&
           b.stats(1)->bytes_sent == a.stats(2)->bytes_received;
  }));
  EXPECT_GT(a.stats(2)->bytes_sent, 0U);
  EXPECT_GE(a.transport->counters().bytes_sent.load(), a.stats(2)->bytes_sent);
  EXPECT_GE(b.transport->counters().bytes_received.load(), b.stats(1)->bytes_received);

  b.transport.reset();  // the dialling side notices the close without writing
  ASSERT_TRUE(wait_until([&] { return !a.stats(2)->connected; }));
  EXPECT_TRUE(a.event_with(TransportEvent::Kind::kDisconnected, ""));
}

TEST(TcpTransport, eventsReportConnectionsAndTheirLoss) {
  Endpoint a;
  auto b = std::make_unique<Endpoint>();
  a.start(1, 1);
  b->start(1, 2);
  uint16_t port = b->transport->port();
  a.transport->set_peer(2, "127.0.0.1", port);
  a.transport->send(heartbeat(1, 2, 1));
  ASSERT_TRUE(wait_until([&] { return b->count() == 1; }));
  std::vector<TransportEvent> connected = a.events_of(TransportEvent::Kind::kConnected);
  ASSERT_EQ(connected.size(), 1U);
  EXPECT_EQ(connected[0].peer, 2U);
  EXPECT_EQ(connected[0].channel, Channel::kRegular);
  EXPECT_EQ(connected[0].address, "127.0.0.1:" + std::to_string(port));
  EXPECT_NE(connected[0].to_string().find("member 2"), std::string::npos) << connected[0].to_string();
  std::vector<TransportEvent> accepted = b->events_of(TransportEvent::Kind::kHelloAccepted);
  ASSERT_EQ(accepted.size(), 1U);
  EXPECT_EQ(accepted[0].peer, 1U);

  b.reset();
  ASSERT_TRUE(wait_until([&] { return !a.events_of(TransportEvent::Kind::kDisconnected).empty(); }));
  TransportEvent lost = a.events_of(TransportEvent::Kind::kDisconnected)[0];
  EXPECT_EQ(lost.peer, 2U);
  EXPECT_FALSE(lost.reason.empty());
  a.transport->send(heartbeat(1, 2, 2));  // nobody listens now
  ASSERT_TRUE(wait_until([&] { return !a.events_of(TransportEvent::Kind::kConnectFailed).empty(); }));
  TransportEvent failed = a.events_of(TransportEvent::Kind::kConnectFailed)[0];
  EXPECT_EQ(failed.count, 1U);
  EXPECT_NE(failed.to_string().find("cannot reach member 2"), std::string::npos) << failed.to_string();
}

TEST(TcpTransport, refusedHellosSayWhy) {
  Endpoint a;
  a.start(7, 1, 0, [](TcpTransportOptions& options) { options.refuse_unknown_peers = true; });
  a.transport->set_peer(2, "127.0.0.1", 1);
  uint16_t port = a.transport->port();
  raw_send(port, frame(encode_hello(Hello{kWireVersion, 9, 2})));
  raw_send(port, frame(std::string("\x01\x02\x07\x02", 4)));  // a wire version 1 member
  raw_send(port, frame(encode_hello(Hello{kWireVersion, 7, 5})));
  raw_send(port, frame(encode_hello(Hello{kWireVersion, 7, 1})));
  ASSERT_TRUE(wait_until([&] { return a.transport->counters().refused_hellos.load() == 4; }));
  using Kind = TransportEvent::Kind;
  std::optional<TransportEvent> cluster =
      a.event_with(Kind::kHelloRefused, "cluster 9, this member to cluster 7");
  ASSERT_TRUE(cluster);
  EXPECT_EQ(cluster->peer, 2U);
  EXPECT_FALSE(cluster->address.empty());
  EXPECT_NE(cluster->to_string().find("cluster 9"), std::string::npos);
  EXPECT_TRUE(a.event_with(Kind::kHelloRefused, "wire version 1, this member 2"));
  EXPECT_TRUE(a.event_with(Kind::kHelloRefused, "refused peer 5: not a member this one knows"));
  EXPECT_TRUE(a.event_with(Kind::kHelloRefused, "this member's own id"));
  EXPECT_EQ(a.transport->counters().malformed.load(), 0U);

  raw_send(port, frame(encode_hello(Hello{kWireVersion, 7, 2})) + frame(encode_message(heartbeat(2, 1, 5))));
  ASSERT_TRUE(wait_until([&] { return a.count() == 1; }));
  EXPECT_EQ(a.events_of(Kind::kHelloAccepted).size(), 1U);
}

TEST(TcpTransport, malformedFramesCloseTheConnectionAreCountedAndReported) {
  Endpoint a;
  Endpoint b;
  a.start(1, 1, 0, [](TcpTransportOptions& options) { options.max_bulk_frame_bytes = 2 << 20; });
  b.start(1, 2);
  uint16_t port = a.transport->port();
  std::string hello = frame(encode_hello(Hello{kWireVersion, 1, 2}));
  std::string bulk_hello = frame(encode_hello(Hello{kWireVersion, 1, 2, Channel::kBulk}));
  std::vector<std::string> attempts = {
      std::string(100, '\xee'),                                         // not a frame
      frame("\x02\x07hello?"),                                          // not a hello
      hello + hello,                                                    // a second hello
      hello + frame(encode_pong(1)),                                    // a pong from the dialler
      hello + frame(std::string{static_cast<char>(kWireVersion), 9}),   // an unknown kind
      hello + frame(encode_ping(1).substr(0, 5)),                       // a truncated ping
      hello + frame(encode_message(heartbeat(2, 3, 1))),                // for another member
      hello + std::string("\x00\x00\x20\x00\x00\x00\x00\x00", 8),       // 2 MB: over the 1 MB limit
      bulk_hello + std::string("\x00\x00\x40\x00\x00\x00\x00\x00", 8),  // 4 MB: over the bulk limit
  };
  for (const std::string& attempt : attempts) raw_send(port, attempt);
  ASSERT_TRUE(wait_until([&] { return a.transport->counters().malformed.load() == attempts.size(); }))
      << a.transport->counters().malformed.load();
  std::vector<TransportEvent> reported = a.events_of(TransportEvent::Kind::kMalformed);
  ASSERT_EQ(reported.size(), attempts.size());
  EXPECT_EQ(reported[0].peer, kNoNode);
  for (const TransportEvent& event : reported) EXPECT_FALSE(event.reason.empty()) << event.to_string();
  EXPECT_TRUE(a.event_with(TransportEvent::Kind::kMalformed, "limit is 2097152"));
  EXPECT_EQ(a.count(), 0U);

  b.transport->set_peer(1, "127.0.0.1", port);
  b.transport->send(heartbeat(2, 1, 42));
  ASSERT_TRUE(wait_until([&] { return a.count() == 1; }));
}

TEST(TcpTransport, aBadReplyToTheDiallerClosesItsConnection) {
  FakePeer peer(SIZE_MAX, "this is no pong at all");
  Endpoint a;
  a.start(1, 1);
  a.transport->set_peer(2, "127.0.0.1", peer.port());
  a.transport->send(heartbeat(1, 2, 1));
  ASSERT_TRUE(wait_until([&] { return a.transport->counters().malformed.load() >= 1; }));
  ASSERT_TRUE(wait_until([&] { return !a.events_of(TransportEvent::Kind::kDisconnected).empty(); }));
  EXPECT_EQ(a.events_of(TransportEvent::Kind::kMalformed).at(0).peer, 2U);
  EXPECT_NE(a.events_of(TransportEvent::Kind::kDisconnected).at(0).reason.find("malformed reply"),
            std::string::npos);
}

TEST(TcpTransport, dropsFromAFullQueueAreReportedAtMostOncePerSecond) {
  Endpoint a;
  a.start(1, 1, 0, [](TcpTransportOptions& options) { options.max_queue_bytes = 4096; });
  a.transport->set_peer(2, "127.0.0.1", 1);  // nobody listens there
  Message big = heartbeat(1, 2, 1);
  big.context = std::string(1000, 'x');
  for (int i = 0; i < 50; ++i) a.transport->send(big);
  ASSERT_TRUE(wait_until([&] { return a.transport->counters().dropped_queue_full.load() >= 40; }));
  std::vector<TransportEvent> drops = a.events_of(TransportEvent::Kind::kQueueFullDrops);
  ASSERT_EQ(drops.size(), 1U);
  EXPECT_EQ(drops[0].count, 1U);
  EXPECT_EQ(drops[0].peer, 2U);
  std::this_thread::sleep_for(1100ms);
  a.transport->send(big);
  ASSERT_TRUE(wait_until([&] { return a.events_of(TransportEvent::Kind::kQueueFullDrops).size() == 2; }));
  drops = a.events_of(TransportEvent::Kind::kQueueFullDrops);
  EXPECT_EQ(drops[0].count + drops[1].count, a.transport->counters().dropped_queue_full.load());
  EXPECT_EQ(a.stats(2)->dropped, a.transport->counters().dropped_queue_full.load());
  EXPECT_GT(a.stats(2)->queue_bytes, 0U);
  // Failed connection attempts are reported on the 1st, 2nd, 4th, 8th... in a row.
  std::vector<TransportEvent> failures = a.events_of(TransportEvent::Kind::kConnectFailed);
  ASSERT_GE(failures.size(), 2U);
  for (size_t i = 0; i < failures.size(); ++i) EXPECT_EQ(failures[i].count, uint64_t{1} << i);
}

TEST(TcpTransport, peersMayBeNamedByHostNameAndMove) {
  Endpoint a;
  Endpoint b;
  Endpoint moved;
  a.start(1, 1);
  b.start(1, 2);
  moved.start(1, 2);
  a.transport->set_peer(2, "localhost", b.transport->port());
  a.transport->send(heartbeat(1, 2, 1));
  ASSERT_TRUE(wait_until([&] { return b.count() == 1; }));

  a.transport->set_peer(2, "localhost", moved.transport->port());
  a.transport->send(heartbeat(1, 2, 2));
  ASSERT_TRUE(wait_until([&] { return moved.count() == 1; }));
  EXPECT_EQ(moved.last_commit(), 2U);
  EXPECT_TRUE(a.event_with(TransportEvent::Kind::kDisconnected, "address changed"));

  a.transport->set_peer(3, "no-such-host.invalid", 4000);
  a.transport->send(heartbeat(1, 3, 1));
  ASSERT_TRUE(wait_until(
      [&] { return a.event_with(TransportEvent::Kind::kConnectFailed, "resolve").has_value(); }, 30s));
  EXPECT_EQ(a.event_with(TransportEvent::Kind::kConnectFailed, "resolve")->peer, 3U);
}

}  // namespace
}  // namespace synod::transport
