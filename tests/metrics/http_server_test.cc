// The HTTP server over loopback, driven by raw sockets so that the tests can send what no real client
// would: /metrics served with keep-alive, HEAD and pipelining; wrong methods, garbage, huge heads and huge
// bodies answered and closed; silent and trickling clients timed out; connections over the cap refused;
// and the server still serving after all of that.
#include "metrics/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "metrics/metrics.h"

namespace synod::metrics {
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

struct Reply {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
};

// A blocking loopback client whose reads give up after 5 s, so a server that fails to answer fails the
// test instead of hanging it.
class Client {
 public:
  explicit Client(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval limit{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    ::inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  }
  ~Client() { ::close(fd_); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool connected() const { return connected_; }

  bool send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // The next response; nullopt if the connection ends or stays silent first.
  std::optional<Reply> read_reply(bool head_only = false) {
    size_t end = 0;
    while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!fill()) return std::nullopt;
    }
    Reply reply;
    std::string head = buffer_.substr(0, end + 2);
    buffer_.erase(0, end + 4);
    if (!head.starts_with("HTTP/1.1 ")) return std::nullopt;
    reply.status = std::stoi(head.substr(9, 3));
    for (size_t line = head.find("\r\n") + 2; line < head.size();) {
      size_t eol = head.find("\r\n", line);
      std::string field = head.substr(line, eol - line);
      size_t colon = field.find(':');
      std::string name = field.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      reply.headers[name] = field.substr(colon + 2);
      line = eol + 2;
    }
    size_t length = head_only ? 0 : std::stoul(reply.headers["content-length"]);
    while (buffer_.size() < length) {
      if (!fill()) return std::nullopt;
    }
    reply.body = buffer_.substr(0, length);
    buffer_.erase(0, length);
    return reply;
  }

  std::optional<Reply> get(std::string_view path, std::string_view extra_headers = "") {
    std::string request = "GET " + std::string(path) + " HTTP/1.1\r\nHost: test\r\n";
    request += extra_headers;
    request += "\r\n";
    if (!send(request)) return std::nullopt;
    return read_reply();
  }

  // Whether the server has closed the connection (end of stream or a reset), reading past anything
  // still in flight; false if it stays open for 5 s.
  bool closed() {
    while (fill()) {
    }
    return closed_;
  }

 private:
  bool fill() {
    char chunk[4096];
    ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n > 0) {
      buffer_.append(chunk, static_cast<size_t>(n));
      return true;
    }
    closed_ = n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
    return false;
  }

  int fd_ = -1;
  bool connected_ = false;
  bool closed_ = false;
  std::string buffer_;
};

class HttpServerTest : public ::testing::Test {
 protected:
  void start(HttpServerOptions options = {}) {
    registry_.counter("synod_test_total", "A test counter.", {{"peer", "2"}}).inc(5);
    registry_.histogram("synod_test_seconds", "A test histogram.", duration_buckets()).observe(0.003);
    auto handler = [this](std::string_view method, std::string_view path) -> HttpResponse {
      EXPECT_EQ(method, "GET");
      if (path == "/metrics") return {200, std::string(kExpositionContentType), registry_.render()};
      if (path == "/throw") throw std::runtime_error("a handler bug");
      if (path == "/no-content") return {204, "text/plain", ""};
      if (path == "/split-header") return {200, "text/plain\r\nX-Injected: 1", "x"};
      return {404, "text/plain; charset=utf-8", "not found\n"};
    };
    Result<std::unique_ptr<HttpServer>> started = HttpServer::start("127.0.0.1", 0, handler, options);
    ASSERT_TRUE(started.is_ok()) << started.status().to_string();
    server_ = std::move(started).value();
    ASSERT_NE(server_->port(), 0);
  }

  void expect_serving() {
    Client client(server_->port());
    std::optional<Reply> reply = client.get("/metrics");
    ASSERT_TRUE(reply.has_value());
    EXPECT_EQ(reply->status, 200);
  }

  Registry registry_;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(HttpServerTest, ServesMetrics) {
  start();
  Client client(server_->port());
  std::optional<Reply> reply = client.get("/metrics");
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->status, 200);
  EXPECT_TRUE(reply->headers["content-type"].starts_with("text/plain; version=0.0.4"));
  EXPECT_EQ(reply->headers["connection"], "keep-alive");
  EXPECT_EQ(reply->body, registry_.render());
  EXPECT_NE(reply->body.find("synod_test_total{peer=\"2\"} 5\n"), std::string::npos);
  EXPECT_EQ(server_->counters().requests, 1U);
}

TEST_F(HttpServerTest, UnknownPathIs404) {
  start();
  Client client(server_->port());
  std::optional<Reply> reply = client.get("/nope?x=1");
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->status, 404);
  EXPECT_EQ(reply->body, "not found\n");
}

TEST_F(HttpServerTest, HeadSendsTheHeadersOfGetWithoutTheBody) {
  start();
  Client client(server_->port());
  ASSERT_TRUE(client.send("HEAD /metrics HTTP/1.1\r\n\r\n"));
  std::optional<Reply> head = client.read_reply(/*head_only=*/true);
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->headers["content-length"], std::to_string(registry_.render().size()));
  // Had a body followed, this would read it as the next response.
  std::optional<Reply> get = client.get("/metrics");
  ASSERT_TRUE(get.has_value());
  EXPECT_EQ(get->status, 200);
  EXPECT_EQ(get->body, registry_.render());
}

TEST_F(HttpServerTest, OtherMethodsAre405AndTheirBodiesSkipped) {
  start();
  Client client(server_->port());
  ASSERT_TRUE(client.send("POST /metrics HTTP/1.1\r\nContent-Length: 11\r\n\r\nhello world"));
  std::optional<Reply> reply = client.read_reply();
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->status, 405);
  EXPECT_EQ(reply->headers["allow"], "GET, HEAD");
  // The body was dropped, not read as a request: the connection still serves.
  std::optional<Reply> next = client.get("/metrics");
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->status, 200);
  EXPECT_EQ(server_->counters().rejected, 1U);
}

TEST_F(HttpServerTest, GarbageIs400AndClosed) {
  start();
  Client client(server_->port());
  static constexpr char kGarbage[] = "\x16\x03\x01\x02\x00 not http at all\r\n\r\n";  // a TLS hello, say
  ASSERT_TRUE(client.send(std::string_view(kGarbage, sizeof(kGarbage) - 1)));
  std::optional<Reply> reply = client.read_reply();
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->status, 400);
  EXPECT_EQ(reply->headers["connection"], "close");
  EXPECT_TRUE(client.closed());
  expect_serving();
}

TEST_F(HttpServerTest, HugeHeadIs431AndClosed) {
  start();
  Client client(server_->port());
  ASSERT_TRUE(client.send("GET /metrics HTTP/1.1\r\nX-Big: " + std::string(16 << 10, 'a') + "\r\n\r\n"));
  std::optional<Reply> reply = client.read_reply();
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->status, 431);
  EXPECT_TRUE(client.closed());

  // Just under the limit is fine.
  Client under(server_->port());
  std::optional<Reply> ok = under.get("/metrics", "X-Big: " + std::string(7 << 10, 'a') + "\r\n");
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(ok->status, 200);
}

TEST_F(HttpServerTest, HugeBodyIs413AndClosed) {
  start();
  Client client(server_->port());
  ASSERT_TRUE(client.send("GET /metrics HTTP/1.1\r\nContent-Length: 100000000\r\n\r\nxyz"));
  std::optional<Reply> reply = client.read_reply();
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->status, 413);
  EXPECT_TRUE(client.closed());
}

TEST_F(HttpServerTest, KeepAliveServesManyRequestsUntilConnectionClose) {
  start();
  Client client(server_->port());
  for (int i = 0; i < 2; ++i) {
    std::optional<Reply> reply = client.get("/metrics");
    ASSERT_TRUE(reply.has_value()) << i;
    EXPECT_EQ(reply->status, 200);
  }
  // Pipelined: two requests in one write, answered in order.
  ASSERT_TRUE(client.send("GET /a HTTP/1.1\r\n\r\nGET /metrics HTTP/1.1\r\n\r\n"));
  std::optional<Reply> first = client.read_reply();
  std::optional<Reply> second = client.read_reply();
  ASSERT_TRUE(first.has_value() && second.has_value());
  EXPECT_EQ(first->status, 404);
  EXPECT_EQ(second->status, 200);

  std::optional<Reply> last = client.get("/metrics", "Connection: close\r\n");
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(last->headers["connection"], "close");
  EXPECT_EQ(last->body, registry_.render());
  EXPECT_TRUE(client.closed());
  EXPECT_EQ(server_->counters().requests, 5U);
}

TEST_F(HttpServerTest, Http10ClosesUnlessAskedToKeepAlive) {
  start();
  Client keep(server_->port());
  ASSERT_TRUE(keep.send("GET /metrics HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  std::optional<Reply> kept = keep.read_reply();
  ASSERT_TRUE(kept.has_value());
  EXPECT_EQ(kept->headers["connection"], "keep-alive");

  Client client(server_->port());
  ASSERT_TRUE(client.send("GET /metrics HTTP/1.0\r\n\r\n"));
  std::optional<Reply> reply = client.read_reply();
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(reply->headers["connection"], "close");
  EXPECT_TRUE(client.closed());
}

TEST_F(HttpServerTest, AFaultyHandlerGets500AndTheServerCarriesOn) {
  start();
  Client client(server_->port());
  for (const char* path : {"/throw", "/no-content", "/split-header"}) {
    std::optional<Reply> reply = client.get(path);
    ASSERT_TRUE(reply.has_value()) << path;
    EXPECT_EQ(reply->status, 500) << path;
    EXPECT_EQ(reply->headers.count("x-injected"), 0U);
  }
  std::optional<Reply> reply = client.get("/metrics");
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->status, 200);
}

TEST_F(HttpServerTest, ASilentClientIsClosedAfterTheTimeout) {
  HttpServerOptions options;
  options.timeout = 200ms;
  start(options);
  auto begin = std::chrono::steady_clock::now();
  Client client(server_->port());
  ASSERT_TRUE(client.connected());
  EXPECT_TRUE(client.closed());
  auto waited = std::chrono::steady_clock::now() - begin;
  EXPECT_GE(waited, 150ms);
  EXPECT_LT(waited, 4s);
  EXPECT_TRUE(wait_until([&] { return server_->counters().timeouts == 1; }));
}

TEST_F(HttpServerTest, ATricklingClientDoesNotExtendTheTimeout) {
  HttpServerOptions options;
  options.timeout = 300ms;
  start(options);
  Client client(server_->port());
  auto begin = std::chrono::steady_clock::now();
  ASSERT_TRUE(client.send("GET /metrics HTTP/1.1\r\nX-Slow: "));
  while (std::chrono::steady_clock::now() - begin < 2s && client.send("a")) std::this_thread::sleep_for(20ms);
  EXPECT_TRUE(client.closed());
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 2s);
  EXPECT_TRUE(wait_until([&] { return server_->counters().timeouts == 1; }));
  expect_serving();
}

TEST_F(HttpServerTest, ConnectionsOverTheCapAreRefused) {
  HttpServerOptions options;
  options.max_connections = 4;
  start(options);
  std::vector<std::unique_ptr<Client>> admitted;
  for (int i = 0; i < 4; ++i) {
    admitted.push_back(std::make_unique<Client>(server_->port()));
    ASSERT_TRUE(admitted.back()->get("/metrics").has_value()) << i;
  }
  constexpr int kOver = 50;
  std::vector<std::unique_ptr<Client>> refused;
  for (int i = 0; i < kOver; ++i) {
    refused.push_back(std::make_unique<Client>(server_->port()));
    refused.back()->send("GET /metrics HTTP/1.1\r\n\r\n");  // may fail: the server may have closed it
  }
  for (auto& client : refused) EXPECT_TRUE(client->closed());
  EXPECT_EQ(server_->counters().refused, static_cast<uint64_t>(kOver));

  // Those admitted still work; once they go, new connections are admitted again.
  for (auto& client : admitted) {
    std::optional<Reply> reply = client->get("/metrics");
    ASSERT_TRUE(reply.has_value());
    EXPECT_EQ(reply->status, 200);
  }
  admitted.clear();
  EXPECT_TRUE(wait_until([&] {
    Client client(server_->port());
    std::optional<Reply> reply = client.get("/metrics");
    return reply.has_value() && reply->status == 200;
  }));
}

TEST_F(HttpServerTest, ARefusedClientMaySeeA503) {
  HttpServerOptions options;
  options.max_connections = 0;
  start(options);
  Client client(server_->port());
  std::optional<Reply> reply = client.read_reply();
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->status, 503);
  EXPECT_TRUE(client.closed());
}

TEST_F(HttpServerTest, RandomBytesNeverBreakTheServer) {
  HttpServerOptions options;
  options.timeout = 500ms;
  start(options);
  std::mt19937 random(12345);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<int> length(0, 3000);
  const std::string prefixes[] = {"", "GET ", "GET / HTTP/1.1\r\n",
                                  "POST / HTTP/1.1\r\nContent-Length: 3\r\n"};
  for (int i = 0; i < 100; ++i) {
    Client client(server_->port());
    std::string junk = prefixes[i % 4];
    for (int n = length(random); n > 0; --n) junk += static_cast<char>(byte(random));
    if (i % 2 == 0) junk += "\r\n\r\n";
    client.send(junk);
  }
  expect_serving();
}

TEST_F(HttpServerTest, StopsWithConnectionsOpen) {
  start();
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 5; ++i) {
    clients.push_back(std::make_unique<Client>(server_->port()));
    if (i % 2 == 0) clients.back()->send("GET /metrics HTTP/1.1\r\nHost:");
  }
  server_.reset();
  for (auto& client : clients) EXPECT_TRUE(client->closed());
}

TEST(HttpServerStart, ABadAddressIsAnError) {
  auto handler = [](std::string_view, std::string_view) { return HttpResponse{}; };
  EXPECT_EQ(HttpServer::start("not an address", 0, handler).status().code(), ErrorCode::kInvalidArgument);
  Result<std::unique_ptr<HttpServer>> first = HttpServer::start("127.0.0.1", 0, handler);
  ASSERT_TRUE(first.is_ok());
  EXPECT_EQ(HttpServer::start("127.0.0.1", first.value()->port(), handler).status().code(),
            ErrorCode::kIoError);
}

}  // namespace
}  // namespace synod::metrics
