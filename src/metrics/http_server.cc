#include "metrics/http_server.h"

#include <algorithm>
#include <array>
#include <unordered_map>
#include <vector>

#include <asio.hpp>

#include "metrics/http_request.h"

namespace synod::metrics {
namespace {

using asio::ip::tcp;

// After a response that closes, what the client may still send is read and dropped, up to this much, so
// that closing does not reset the connection before the client has read the response.
constexpr size_t kMaxLingerBytes = size_t{256} << 10U;

std::string_view reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 413: return "Content Too Large";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "";  // the reason phrase is optional (RFC 9112 4)
  }
}

HttpResponse error_response(int status) {
  return HttpResponse{status, "text/plain; charset=utf-8", std::string(reason(status)) + "\n"};
}

// What the handler returns goes out as is, so it must not break the response's framing: no status without
// a body (1xx, 204, 304), no line breaks smuggled into a header.
bool well_formed(const HttpResponse& response) {
  bool status_ok =
      response.status >= 200 && response.status <= 599 && response.status != 204 && response.status != 304;
  return status_ok && std::none_of(response.content_type.begin(), response.content_type.end(),
                                   [](char c) { return static_cast<unsigned char>(c) < 0x20U; });
}

std::string format_response(const HttpResponse& response, bool keep_alive, bool head_only,
                            std::string_view extra_headers = {}) {
  std::string out;
  out.reserve(128 + (head_only ? 0 : response.body.size()));
  out += "HTTP/1.1 ";
  out += std::to_string(response.status);
  out += ' ';
  out += reason(response.status);
  out += "\r\nContent-Type: ";
  out += response.content_type;
  out += "\r\nContent-Length: ";
  out += std::to_string(response.body.size());
  out += keep_alive ? "\r\nConnection: keep-alive\r\n" : "\r\nConnection: close\r\n";
  out += extra_headers;
  out += "\r\n";
  if (!head_only) out += response.body;
  return out;
}

class Connection;

}  // namespace

struct HttpServer::Impl {
  Impl(HttpServerOptions opts, Handler on_request, HttpServerCounters& counters_ref)
      : options(opts),
        handler(std::move(on_request)),
        counters(counters_ref),
        acceptor(io),
        accept_retry(io) {}

  void accept();
  void refuse(tcp::socket& socket);
  void stop();

  HttpServerOptions options;
  Handler handler;
  HttpServerCounters& counters;
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
  tcp::acceptor acceptor;
  asio::steady_timer accept_retry;
  // The open connections, so that stop() can close them; each removes itself when it closes.
  std::unordered_map<Connection*, std::shared_ptr<Connection>> connections;
  bool stopping = false;
};

namespace {

// One accepted connection: requests read and answered one at a time, on the I/O thread only.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, HttpServer::Impl& server)
      : socket_(std::move(socket)), timer_(server.io), server_(server) {}

  void start() {
    arm_timer();
    next();
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    auto self = shared_from_this();  // erasing it from the server must not destroy it mid-call
    std::error_code ignored;
    timer_.cancel();
    socket_.close(ignored);
    server_.connections.erase(this);
  }

 private:
  // Serves whatever complete request is buffered, else reads more.
  void next() {
    // Drop the rest of the previous request's body first.
    auto dropped = static_cast<size_t>(std::min<uint64_t>(discard_, buffer_.size()));
    buffer_.erase(0, dropped);
    discard_ -= dropped;
    if (discard_ > 0) return read();

    buffer_.erase(0, leading_blank_bytes(buffer_));
    const size_t max_head = server_.options.max_head_bytes;
    size_t end = find_head_end(buffer_);
    if (end == std::string::npos) return buffer_.size() >= max_head ? reject(431) : read();
    if (end > max_head) return reject(431);
    HttpParseResult parsed = parse_request_head(std::string_view(buffer_).substr(0, end));
    buffer_.erase(0, end);
    if (parsed.error_status != 0) return reject(parsed.error_status);
    const HttpRequestHead& head = parsed.head;
    if (head.content_length > server_.options.max_body_bytes) return reject(413);
    discard_ = head.content_length;

    bool head_only = head.method == "HEAD";
    if (head.method != "GET" && !head_only) {
      ++server_.counters.rejected;
      return send(format_response(error_response(405), head.keep_alive, false, "Allow: GET, HEAD\r\n"),
                  head.keep_alive);
    }
    HttpResponse response = call_handler(head.path);
    ++server_.counters.requests;
    send(format_response(response, head.keep_alive, head_only), head.keep_alive);
  }

  HttpResponse call_handler(std::string_view path) {
    // An exception escaping here would end the I/O thread's run() and with it the whole server.
    try {
      HttpResponse response = server_.handler("GET", path);
      if (well_formed(response)) return response;
    } catch (...) {
    }
    return error_response(500);
  }

  void reject(int status) {
    ++server_.counters.rejected;
    send(format_response(error_response(status), false, false), false);
  }

  void read() {
    socket_.async_read_some(asio::buffer(chunk_),
                            [self = shared_from_this()](std::error_code error, size_t n) {
                              if (self->closed_) return;
                              if (error) return self->close();  // including EOF: the client is done
                              self->buffer_.append(self->chunk_.data(), n);
                              self->next();
                            });
  }

  void send(std::string response, bool keep_alive) {
    out_ = std::move(response);
    keep_alive_ = keep_alive;
    arm_timer();
    asio::async_write(socket_, asio::buffer(out_),
                      [self = shared_from_this()](std::error_code error, size_t) {
                        if (self->closed_) return;
                        if (error) return self->close();
                        if (!self->keep_alive_) return self->linger();
                        self->arm_timer();
                        self->next();
                      });
  }

  void linger() {
    lingering_ = true;
    std::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
    arm_timer();
    drain();
  }

  void drain() {
    socket_.async_read_some(asio::buffer(chunk_),
                            [self = shared_from_this()](std::error_code error, size_t n) {
                              if (self->closed_) return;
                              self->lingered_ += n;
                              if (error || self->lingered_ > kMaxLingerBytes) return self->close();
                              self->drain();
                            });
  }

  // One deadline at a time, for a whole request or a whole response: a client that trickles bytes does
  // not extend it.
  void arm_timer() {
    timer_.expires_after(server_.options.timeout);
    timer_.async_wait([self = shared_from_this()](std::error_code error) {
      // A wait that completed just before being re-armed must not close the connection.
      if (error || self->closed_ || self->timer_.expiry() > std::chrono::steady_clock::now()) return;
      if (!self->lingering_) ++self->server_.counters.timeouts;
      self->close();
    });
  }

  tcp::socket socket_;
  asio::steady_timer timer_;
  HttpServer::Impl& server_;
  std::string buffer_;    // received, not yet consumed
  uint64_t discard_ = 0;  // body bytes still to drop
  std::string out_;       // the response being written
  bool keep_alive_ = true;
  bool lingering_ = false;
  bool closed_ = false;
  size_t lingered_ = 0;
  std::array<char, 4096> chunk_{};
};

}  // namespace

void HttpServer::Impl::accept() {
  acceptor.async_accept([this](std::error_code error, tcp::socket socket) {
    if (stopping || error == asio::error::operation_aborted) return;
    if (error) {
      // Out of descriptors or memory: retrying at once would spin until some connection closes.
      bool exhausted = error == asio::error::no_descriptors || error == asio::error::no_buffer_space ||
                       error == asio::error::no_memory;
      if (!exhausted) return accept();
      accept_retry.expires_after(std::chrono::milliseconds(50));
      accept_retry.async_wait([this](std::error_code e) {
        if (!e && !stopping) accept();
      });
      return;
    }
    if (connections.size() >= options.max_connections) {
      refuse(socket);
    } else {
      std::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      auto connection = std::make_shared<Connection>(std::move(socket), *this);
      connections.emplace(connection.get(), connection);
      connection->start();
    }
    accept();
  });
}

void HttpServer::Impl::refuse(tcp::socket& socket) {
  static const std::string kRefusal = format_response(error_response(503), false, false);
  ++counters.refused;
  // Best effort and never blocking: a fresh socket's send buffer takes this whole.
  std::error_code ignored;
  socket.non_blocking(true, ignored);
  socket.write_some(asio::buffer(kRefusal), ignored);
  socket.shutdown(tcp::socket::shutdown_send, ignored);
  socket.close(ignored);
}

void HttpServer::Impl::stop() {
  stopping = true;
  std::error_code ignored;
  acceptor.close(ignored);
  accept_retry.cancel();
  std::vector<std::shared_ptr<Connection>> open;
  open.reserve(connections.size());
  for (const auto& [raw, connection] : connections) open.push_back(connection);
  for (const auto& connection : open) connection->close();
  // With nothing left to wait for, run() returns once the aborted operations' handlers have run.
  work.reset();
}

Result<std::unique_ptr<HttpServer>> HttpServer::start(const std::string& host, uint16_t port, Handler handler,
                                                      HttpServerOptions options) {
  std::unique_ptr<HttpServer> server(new HttpServer());
  server->impl_ = std::make_unique<Impl>(options, std::move(handler), server->counters_);
  Impl& impl = *server->impl_;
  std::error_code error;
  asio::ip::address address = asio::ip::make_address(host, error);
  if (error) return Status(ErrorCode::kInvalidArgument, "listen address " + host + ": " + error.message());
  tcp::endpoint endpoint(address, port);
  impl.acceptor.open(endpoint.protocol(), error);
  if (!error) impl.acceptor.set_option(tcp::acceptor::reuse_address(true), error);
  if (!error) impl.acceptor.bind(endpoint, error);
  if (!error) impl.acceptor.listen(asio::socket_base::max_listen_connections, error);
  if (error) {
    return Status(ErrorCode::kIoError,
                  "cannot listen on " + host + ":" + std::to_string(port) + ": " + error.message());
  }
  server->port_ = impl.acceptor.local_endpoint(error).port();
  impl.accept();
  server->thread_ = std::thread([&impl] { impl.io.run(); });
  return server;
}

HttpServer::~HttpServer() {
  if (!impl_) return;
  asio::post(impl_->io, [impl = impl_.get()] { impl->stop(); });
  if (thread_.joinable()) thread_.join();
}

}  // namespace synod::metrics
