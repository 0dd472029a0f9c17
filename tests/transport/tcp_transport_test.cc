// The TCP peer transport on loopback: messages flow both ways in order, a peer that goes away and
// comes back gets what was queued, and a peer from another cluster, random bytes, an oversized frame
// or a message under a false name are refused and counted while the member keeps working.
#include "transport/tcp_transport.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

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

// A member's transport and what it received.
struct Endpoint {
  std::mutex mutex;
  std::vector<Message> received;
  std::unique_ptr<TcpTransport> transport;

  void start(uint64_t cluster, NodeId self, uint16_t port = 0) {
    TcpTransportOptions options;
    options.cluster_id = cluster;
    options.self = self;
    options.listen_port = port;
    options.max_frame_bytes = 1 << 20;
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

}  // namespace
}  // namespace synod::transport
