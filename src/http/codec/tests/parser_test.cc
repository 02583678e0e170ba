#include "http/codec/parser.h"

#include <gtest/gtest.h>

#include <string>

namespace tern::http {
namespace {

// Feeds `text` in pieces of `step` bytes (0: all at once), as a socket might deliver it.
// Returns the bytes consumed.
size_t feed_in_steps(request_parser& p, std::string_view text, size_t step = 0) {
  size_t used = 0;
  while (used < text.size() && !p.complete() && !p.failed()) {
    size_t n = step == 0 ? text.size() - used : std::min(step, text.size() - used);
    size_t took = p.feed(text.substr(used, n));
    used += took;
    if (took < n) break;
  }
  return used;
}

TEST(RequestParser, SimpleGet) {
  request_parser p;
  std::string text = "GET /api/queues?x=1 HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n\r\n";
  EXPECT_EQ(p.feed(text), text.size());
  ASSERT_TRUE(p.complete());
  auto r = p.take();
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.target, "/api/queues?x=1");
  EXPECT_EQ(r.path, "/api/queues");
  EXPECT_EQ(r.query, "x=1");
  EXPECT_EQ(r.version_minor, 1);
  EXPECT_TRUE(r.keep_alive);
  ASSERT_NE(r.headers.find("ACCEPT"), nullptr);
  EXPECT_EQ(*r.headers.find("accept"), "*/*");
  EXPECT_TRUE(r.body.empty());
  EXPECT_FALSE(p.started());  // ready for the next one
}

TEST(RequestParser, ByteAtATimeWithBody) {
  std::string text = "PUT /api/vhosts/v HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello";
  request_parser p;
  EXPECT_EQ(feed_in_steps(p, text, 1), text.size());
  ASSERT_TRUE(p.complete());
  EXPECT_EQ(p.take().body, "hello");
}

TEST(RequestParser, PipelinedRequestsLeaveTheRest) {
  std::string one = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n";
  std::string two = "DELETE /b HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nok";
  std::string both = one + two;
  request_parser p;
  size_t used = p.feed(both);
  EXPECT_EQ(used, one.size());
  ASSERT_TRUE(p.complete());
  EXPECT_EQ(p.take().path, "/a");
  EXPECT_EQ(p.feed(std::string_view(both).substr(used)), two.size());
  ASSERT_TRUE(p.complete());
  auto r = p.take();
  EXPECT_EQ(r.method, "DELETE");
  EXPECT_EQ(r.body, "ok");
}

TEST(RequestParser, BareLfAndLeadingEmptyLinesAccepted) {
  request_parser p;
  std::string text = "\r\n\nGET / HTTP/1.1\nHost: x\n\n";
  EXPECT_EQ(p.feed(text), text.size());
  ASSERT_TRUE(p.complete());
  EXPECT_EQ(p.take().path, "/");
}

TEST(RequestParser, KeepAliveRules) {
  auto parse = [](std::string text) {
    request_parser p;
    p.feed(text);
    EXPECT_TRUE(p.complete()) << text;
    return p.take();
  };
  EXPECT_FALSE(parse("GET / HTTP/1.1\r\nHost: x\r\nConnection: Close\r\n\r\n").keep_alive);
  EXPECT_FALSE(parse("GET / HTTP/1.0\r\n\r\n").keep_alive);
  EXPECT_TRUE(parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").keep_alive);
  EXPECT_TRUE(parse("GET / HTTP/1.1\r\nHost: x\r\nConnection: upgrade, x\r\n\r\n").keep_alive);
}

TEST(RequestParser, AbsoluteFormTargetGivesThePath) {
  request_parser p;
  p.feed("GET http://localhost:8080/api/vhosts?a=b HTTP/1.1\r\nHost: localhost\r\n\r\n");
  ASSERT_TRUE(p.complete());
  auto r = p.take();
  EXPECT_EQ(r.path, "/api/vhosts");
  EXPECT_EQ(r.query, "a=b");
}

TEST(RequestParser, ExpectContinueIsVisibleBeforeTheBody) {
  request_parser p;
  p.feed("PUT /x HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n");
  ASSERT_TRUE(p.reading_body());
  EXPECT_TRUE(p.peek().expects_continue);
  p.feed("abc");
  EXPECT_TRUE(p.complete());
}

struct bad_case {
  const char* name;
  std::string text;
  int status;
};

class RequestParserRefuses : public ::testing::TestWithParam<bad_case> {};

TEST_P(RequestParserRefuses, WithStatus) {
  request_parser p;
  feed_in_steps(p, GetParam().text);
  ASSERT_TRUE(p.failed()) << GetParam().name;
  EXPECT_EQ(p.error().status, GetParam().status) << p.error().reason;
  EXPECT_FALSE(p.error().reason.empty());
}

INSTANTIATE_TEST_SUITE_P(
    Cases, RequestParserRefuses,
    ::testing::Values(
        bad_case{"NoVersion", "GET /\r\n\r\n", 400},
        bad_case{"ExtraSpace", "GET  / HTTP/1.1\r\nHost: x\r\n\r\n", 400},
        bad_case{"LowercaseVersion", "GET / http/1.1\r\nHost: x\r\n\r\n", 400},
        bad_case{"Http2", "GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505},
        bad_case{"BadMethodChar", "G(T / HTTP/1.1\r\nHost: x\r\n\r\n", 400},
        bad_case{"TargetNotAPath", "GET api HTTP/1.1\r\nHost: x\r\n\r\n", 400},
        bad_case{"ControlInTarget", std::string("GET /a\x01 HTTP/1.1\r\nHost: x\r\n\r\n"), 400},
        bad_case{"MissingHost", "GET / HTTP/1.1\r\n\r\n", 400},
        bad_case{"TwoHosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
        bad_case{"SpaceBeforeColon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400},
        bad_case{"NoColon", "GET / HTTP/1.1\r\nHost: a\r\nJunk\r\n\r\n", 400},
        bad_case{"ObsFold", "GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n 2\r\n\r\n", 400},
        bad_case{"NulInValue",
                 std::string("GET / HTTP/1.1\r\nHost: a\r\nX: a") + '\0' + "b\r\n\r\n", 400},
        bad_case{"BareCrInValue", "GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n", 400},
        bad_case{"ChunkedBody",
                 "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 501},
        bad_case{"NegativeLength", "PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 400},
        bad_case{"ConflictingLengths",
                 "PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
                 400},
        bad_case{"LengthList", "PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 1, 2\r\n\r\n", 400},
        bad_case{"BodyTooLarge", "PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 1048577\r\n\r\n",
                 413},
        bad_case{"HugeLength",
                 "PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n",
                 413},
        bad_case{"HeadersTooLarge",
                 "GET / HTTP/1.1\r\nHost: a\r\nX: " + std::string(17000, 'a') + "\r\n\r\n", 431},
        bad_case{"RequestLineTooLong", "GET /" + std::string(17000, 'a') + " HTTP/1.1\r\n\r\n",
                 414},
        bad_case{"EndlessEmptyLines", std::string(20000, '\n'), 414}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(RequestParser, TooManyHeaders) {
  std::string text = "GET / HTTP/1.1\r\nHost: a\r\n";
  for (int i = 0; i < 100; ++i) text += "X" + std::to_string(i) + ": v\r\n";
  request_parser p;
  p.feed(text + "\r\n");
  ASSERT_TRUE(p.failed());
  EXPECT_EQ(p.error().status, 431);
}

TEST(RequestParser, SameLengthRepeatedIsAccepted) {
  request_parser p;
  p.feed("PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\ncontent-length: 2, 2\r\n\r\nhi");
  ASSERT_TRUE(p.complete());
  EXPECT_EQ(p.take().body, "hi");
}

TEST(RequestParser, HeadExactlyAtTheLimitIsAccepted) {
  parser_limits limits;
  limits.max_head_bytes = 64;
  std::string head = "GET / HTTP/1.1\r\nHost: a\r\nX: ";
  head += std::string(64 - head.size() - 4, 'v') + "\r\n\r\n";
  ASSERT_EQ(head.size(), 64u);
  request_parser p(limits);
  EXPECT_EQ(p.feed(head), head.size());
  EXPECT_TRUE(p.complete());
  request_parser q(limits);
  q.feed(head.substr(0, 30) + "v" + head.substr(30));
  EXPECT_TRUE(q.failed());
  EXPECT_EQ(q.error().status, 431);
}

TEST(ResponseParser, ContentLengthBody) {
  response_parser p;
  std::string text = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: x\r\n\r\n[]";
  for (char c : text) p.feed(std::string_view(&c, 1));
  ASSERT_TRUE(p.complete());
  EXPECT_EQ(p.get().status, 200);
  EXPECT_EQ(p.get().body, "[]");
  EXPECT_TRUE(p.keep_alive());
}

TEST(ResponseParser, SkipsContinueAndReadsToClose) {
  response_parser p;
  p.feed("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 404 Not Found\r\n\r\nmissing");
  EXPECT_FALSE(p.complete());
  p.finish();
  ASSERT_TRUE(p.complete());
  EXPECT_EQ(p.get().status, 404);
  EXPECT_EQ(p.get().body, "missing");
  EXPECT_FALSE(p.keep_alive());
}

TEST(ResponseParser, NoContentHasNoBody) {
  response_parser p;
  p.feed("HTTP/1.1 204 No Content\r\n\r\n");
  EXPECT_TRUE(p.complete());
}

TEST(ResponseParser, RefusesGarbageAndTruncation) {
  response_parser a;
  a.feed("SSH-2.0-OpenSSH\r\n\r\n");
  EXPECT_TRUE(a.failed());
  response_parser b;
  b.feed("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
  b.finish();
  EXPECT_TRUE(b.failed());
  response_parser c;
  c.feed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
  EXPECT_TRUE(c.failed());
}

}  // namespace
}  // namespace tern::http
