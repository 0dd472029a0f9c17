// Parsing an HTTP/1.x request head (RFC 9112), just enough for HttpServer: the request line, and the
// headers that decide framing and keep-alive. Input is untrusted network data: anything malformed is an
// error status to answer with, never a crash.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace synod::metrics {

struct HttpRequestHead {
  std::string method;
  std::string path;  // the request-target's path: no query, no scheme or authority
  bool keep_alive = true;
  uint64_t content_length = 0;  // UINT64_MAX when it does not fit
};

struct HttpParseResult {
  int error_status = 0;  // 0: `head` is valid; else the status to answer with before closing
  HttpRequestHead head;
};

// Bytes before the request line that RFC 9112 (2.2) says a server should skip: stray CRLFs a client may
// send after a previous request's body.
size_t leading_blank_bytes(std::string_view buffer);

// The length of the head at the start of `buffer` (through the empty line that ends it), or
// std::string_view::npos while that empty line has not arrived. Accepts bare LF line ends as well as CRLF.
size_t find_head_end(std::string_view buffer);

// Parses a complete head as delimited by find_head_end().
HttpParseResult parse_request_head(std::string_view head);

}  // namespace synod::metrics
