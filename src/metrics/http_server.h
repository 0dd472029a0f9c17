// HttpServer: a minimal HTTP/1.1 server for `/metrics` and health checks, with Asio on its own I/O thread.
//
// Only GET and HEAD are served (anything else is 405); request bodies are read and dropped, or refused
// with 413 past `max_body_bytes`. Everything from the network is untrusted, so each resource it can hold is
// bounded: the request head (431 past `max_head_bytes`), the time to send a request or take a response
// (`timeout`, then the connection is closed), and the number of connections (past `max_connections` a new
// one gets a 503 and is closed). A malformed request gets a 400 and the connection is closed.
// Connections are kept alive (HTTP/1.1 default, HTTP/1.0 with `Connection: keep-alive`) until
// `Connection: close`.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "base/status.h"

namespace synod::metrics {

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

struct HttpServerOptions {
  size_t max_head_bytes = size_t{8} << 10U;
  size_t max_body_bytes = size_t{64} << 10U;
  size_t max_connections = 64;
  // To receive a whole request (from the end of the previous response), and to send a whole response.
  std::chrono::milliseconds timeout{10'000};
};

struct HttpServerCounters {
  std::atomic<uint64_t> requests{0};  // answered by the handler
  std::atomic<uint64_t> rejected{0};  // requests answered with 4xx/5xx by the server itself
  std::atomic<uint64_t> timeouts{0};  // connections closed for taking too long
  std::atomic<uint64_t> refused{0};   // connections over max_connections
};

class HttpServer {
 public:
  // Runs on the I/O thread, so it must be quick and must not block. `path` has no query string. HEAD
  // requests reach it as "GET" (the server drops the body); other methods never reach it.
  using Handler = std::function<HttpResponse(std::string_view method, std::string_view path)>;

  // Listens on `host` (a numeric address) and `port` (0: any free port, see port()).
  static Result<std::unique_ptr<HttpServer>> start(const std::string& host, uint16_t port, Handler handler,
                                                   HttpServerOptions options = {});
  ~HttpServer();  // closes every connection and joins the I/O thread
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  uint16_t port() const { return port_; }
  const HttpServerCounters& counters() const { return counters_; }

  struct Impl;

 private:
  HttpServer() = default;

  std::unique_ptr<Impl> impl_;
  uint16_t port_ = 0;
  HttpServerCounters counters_;
  std::thread thread_;
};

}  // namespace synod::metrics
