// Parsing request heads: what is accepted, how keep-alive and the body's length are decided, and the
// status each kind of malformed head is answered with.
#include "metrics/http_request.h"

#include <limits>
#include <string>

#include <gtest/gtest.h>

namespace synod::metrics {
namespace {

constexpr size_t npos = std::string_view::npos;

HttpParseResult parse(std::string_view head) {
  return parse_request_head(head);
}
int status(std::string_view head) {
  return parse(head).error_status;
}

TEST(HttpRequest, FindsTheEndOfTheHead) {
  EXPECT_EQ(find_head_end("GET / HTTP/1.1\r\n"), npos);
  EXPECT_EQ(find_head_end("GET / HTTP/1.1\r\nHost: a\r\n\r"), npos);
  EXPECT_EQ(find_head_end("GET / HTTP/1.1\r\n\r\nrest"), 18U);
  EXPECT_EQ(find_head_end("GET / HTTP/1.1\n\nrest"), 16U);
  EXPECT_EQ(find_head_end("GET / HTTP/1.1\r\nHost: a\n\r\n"), 26U);
  EXPECT_EQ(leading_blank_bytes("\r\n\r\nGET"), 4U);
  EXPECT_EQ(leading_blank_bytes("GET"), 0U);
}

TEST(HttpRequest, ParsesAGet) {
  HttpParseResult r = parse("GET /metrics?x=1 HTTP/1.1\r\nHost: localhost:2379\r\nAccept: */*\r\n\r\n");
  ASSERT_EQ(r.error_status, 0);
  EXPECT_EQ(r.head.method, "GET");
  EXPECT_EQ(r.head.path, "/metrics");
  EXPECT_TRUE(r.head.keep_alive);
  EXPECT_EQ(r.head.content_length, 0U);
}

TEST(HttpRequest, AcceptsAbsoluteFormTargets) {
  EXPECT_EQ(parse("GET http://host:1/metrics?a HTTP/1.1\r\n\r\n").head.path, "/metrics");
  EXPECT_EQ(parse("GET HTTPS://host HTTP/1.1\r\n\r\n").head.path, "/");
  EXPECT_EQ(parse("GET http://host?x HTTP/1.1\r\n\r\n").head.path, "/");
}

TEST(HttpRequest, KeepAliveFollowsVersionAndConnectionHeader) {
  EXPECT_TRUE(parse("GET / HTTP/1.1\r\n\r\n").head.keep_alive);
  EXPECT_FALSE(parse("GET / HTTP/1.1\r\nConnection: Close\r\n\r\n").head.keep_alive);
  EXPECT_FALSE(parse("GET / HTTP/1.1\r\nconnection: foo, close\r\n\r\n").head.keep_alive);
  EXPECT_FALSE(parse("GET / HTTP/1.0\r\n\r\n").head.keep_alive);
  EXPECT_TRUE(parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").head.keep_alive);
  EXPECT_FALSE(parse("GET / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n").head.keep_alive);
}

TEST(HttpRequest, ContentLength) {
  EXPECT_EQ(parse("POST / HTTP/1.1\r\nContent-Length: 12\r\n\r\n").head.content_length, 12U);
  EXPECT_EQ(parse("POST / HTTP/1.1\r\nContent-Length: 5\r\ncontent-length: 5\r\n\r\n").head.content_length,
            5U);
  EXPECT_EQ(parse("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n").head.content_length,
            std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(status("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"), 400);
  EXPECT_EQ(status("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n"), 400);
  EXPECT_EQ(status("POST / HTTP/1.1\r\nContent-Length: 1, 1\r\n\r\n"), 400);
  EXPECT_EQ(status("POST / HTTP/1.1\r\nContent-Length:\r\n\r\n"), 400);
  EXPECT_EQ(status("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"), 501);
}

TEST(HttpRequest, MalformedRequestLines) {
  for (std::string_view head : {
           "\r\n\r\n",
           "GET\r\n\r\n",
           "GET /\r\n\r\n",
           "GET  / HTTP/1.1\r\n\r\n",
           "GET / HTTP/1.1 \r\n\r\n",
           "GET / http/1.1\r\n\r\n",
           "GET / HTTP/1.10\r\n\r\n",
           "GET metrics HTTP/1.1\r\n\r\n",
           "GET * HTTP/1.1\r\n\r\n",
           "G(T / HTTP/1.1\r\n\r\n",
           "GET /a\x01 HTTP/1.1\r\n\r\n",
           "GET /\xff HTTP/1.1\r\n\r\n",
           "GET / HTTP/1.1\rX\r\n\r\n",
       }) {
    EXPECT_EQ(status(head), 400) << head;
  }
  EXPECT_EQ(status("GET / HTTP/2.0\r\n\r\n"), 505);
  EXPECT_EQ(status("GET / HTTP/0.9\r\n\r\n"), 505);
}

TEST(HttpRequest, MalformedHeaders) {
  for (std::string_view head : {
           "GET / HTTP/1.1\r\nHost : a\r\n\r\n",
           "GET / HTTP/1.1\r\nNoColon\r\n\r\n",
           "GET / HTTP/1.1\r\n: empty name\r\n\r\n",
           "GET / HTTP/1.1\r\nA: 1\r\n folded\r\n\r\n",
           "GET / HTTP/1.1\r\nA: 1\r2\r\n\r\n",
           "GET / HTTP/1.1\r\nA: \x7f\r\n\r\n",
       }) {
    EXPECT_EQ(status(head), 400) << head;
  }
  std::string nul = std::string("GET / HTTP/1.1\r\nA: x") + '\0' + "y\r\n\r\n";
  EXPECT_EQ(status(nul), 400);
  EXPECT_EQ(status("GET / HTTP/1.1\r\nA:\tvalue with spaces \t\r\nB:\r\n\r\n"), 0);
}

TEST(HttpRequest, OtherMethodsParseForTheServerToRefuse) {
  HttpParseResult r = parse("DELETE /x HTTP/1.1\r\n\r\n");
  EXPECT_EQ(r.error_status, 0);
  EXPECT_EQ(r.head.method, "DELETE");
}

}  // namespace
}  // namespace synod::metrics
