#include <gtest/gtest.h>

#include "http/codec/parser.h"
#include "http/codec/uri.h"
#include "http/codec/writer.h"

namespace tern::http {
namespace {

TEST(Writer, ResponseRoundTripsThroughTheResponseParser) {
  response r;
  r.status = 404;
  r.headers.add("Content-Type", "application/json");
  r.headers.add("X-Evil", "a\r\nSet-Cookie: b");
  r.body = R"({"error":"not_found"})";
  std::string text = write_response(r, false);
  EXPECT_NE(text.find("HTTP/1.1 404 Not Found\r\n"), std::string::npos);
  EXPECT_NE(text.find("Connection: close\r\n"), std::string::npos);
  EXPECT_EQ(text.find("\r\nSet-Cookie"), std::string::npos);
  response_parser p;
  EXPECT_EQ(p.feed(text), text.size());
  ASSERT_TRUE(p.complete());
  EXPECT_EQ(p.get().status, 404);
  EXPECT_EQ(p.get().body, r.body);
  EXPECT_FALSE(p.keep_alive());
}

TEST(Writer, NoContentHasNoLength) {
  response r;
  r.status = 204;
  r.body = "ignored";
  EXPECT_EQ(write_response(r, true), "HTTP/1.1 204 No Content\r\n\r\n");
}

TEST(Writer, RequestRoundTripsThroughTheRequestParser) {
  std::string text = write_request("PUT", "/api/vhosts/a%2Fb", "127.0.0.1:8080", {}, "");
  request_parser p;
  EXPECT_EQ(p.feed(text), text.size());
  ASSERT_TRUE(p.complete());
  auto r = p.take();
  EXPECT_EQ(r.method, "PUT");
  EXPECT_EQ(r.path, "/api/vhosts/a%2Fb");
  EXPECT_EQ(*r.headers.find("content-length"), "0");
}

TEST(Uri, PercentDecode) {
  EXPECT_EQ(percent_decode("%2F"), "/");
  EXPECT_EQ(percent_decode("a%20b+c"), "a b+c");
  EXPECT_EQ(percent_decode("a%20b+c", true), "a b c");
  EXPECT_EQ(percent_decode("%2f%41"), "/A");
  EXPECT_FALSE(percent_decode("%"));
  EXPECT_FALSE(percent_decode("%2"));
  EXPECT_FALSE(percent_decode("%zz"));
  EXPECT_FALSE(percent_decode("ab%"));
}

TEST(Uri, PercentEncodeRoundTrips) {
  std::string all;
  for (int c = 0; c < 256; ++c) all += char(c);
  EXPECT_EQ(percent_decode(percent_encode(all)), all);
  EXPECT_EQ(percent_encode("/"), "%2F");
  EXPECT_EQ(percent_encode("my-queue_1.x~"), "my-queue_1.x~");
}

TEST(Uri, SplitPathDecodesEachSegmentAfterSplitting) {
  auto s = split_path("/api/queues/%2F/a%2Fb");
  ASSERT_TRUE(s);
  EXPECT_EQ(*s, (std::vector<std::string>{"api", "queues", "/", "a/b"}));
  EXPECT_FALSE(split_path("api"));
  EXPECT_FALSE(split_path("/a/%G0"));
  EXPECT_EQ(*split_path("/"), std::vector<std::string>{""});
}

TEST(Uri, ParseQuery) {
  auto q = parse_query("if-unused=true&&if-empty&x=a%26b+c");
  ASSERT_TRUE(q);
  ASSERT_EQ(q->size(), 3u);
  EXPECT_EQ((*q)[0], std::make_pair(std::string("if-unused"), std::string("true")));
  EXPECT_EQ((*q)[1], std::make_pair(std::string("if-empty"), std::string("")));
  EXPECT_EQ((*q)[2], std::make_pair(std::string("x"), std::string("a&b c")));
  EXPECT_FALSE(parse_query("a=%"));
}

}  // namespace
}  // namespace tern::http
