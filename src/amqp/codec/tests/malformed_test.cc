// Hostile lengths: a length that claims more than the input holds must fail without
// allocating in proportion to the claim.

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <initializer_list>
#include <new>

#include "amqp/codec/content_header.h"
#include "amqp/codec/method.h"

// The largest single allocation since the last reset. Replacing the global operator new is
// legal in exactly one TU of the test binary: this one.
static std::atomic<size_t> largest_allocation{0};
void* operator new(size_t n) {
  size_t seen = largest_allocation.load(std::memory_order_relaxed);
  while (n > seen && !largest_allocation.compare_exchange_weak(seen, n)) {
  }
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }

namespace tern::amqp {
namespace {

bytes::buffer b(std::initializer_list<int> v) {
  bytes::buffer out;
  for (int x : v) out.push_back(uint8_t(x));
  return out;
}

TEST(AmqpMalformed, HugeLongStringInAMethodAllocatesNothing) {
  // connection.start-ok: empty properties, "PLAIN", then a response claiming 4 GiB.
  bytes::buffer in =
      b({0, 10, 0, 11, 0, 0, 0, 0, 5, 'P', 'L', 'A', 'I', 'N', 0xff, 0xff, 0xff, 0xf0, 'a', 'b'});
  largest_allocation = 0;
  auto m = decode_method(in);
  size_t largest = largest_allocation.load();
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code, reply_code::frame_error);
  EXPECT_LT(largest, 4096u);
}

TEST(AmqpMalformed, HugeTableLengthAllocatesNothing) {
  // queue.declare whose arguments table claims 4 GiB.
  bytes::buffer in = b({0, 50, 0, 10, 0, 0, 1, 'q', 0, 0xff, 0xff, 0xff, 0xff, 1, 'k', 'V'});
  largest_allocation = 0;
  auto m = decode_method(in);
  size_t largest = largest_allocation.load();
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code, reply_code::frame_error);
  EXPECT_LT(largest, 4096u);
}

TEST(AmqpMalformed, HugeValueLengthsInsideATableAllocateNothing) {
  for (int tag : {'S', 'x', 'A', 'F'}) {
    bytes::buffer in = b({0, 0, 0, 9, 1, 'k', tag, 0x7f, 0xff, 0xff, 0xff, 0, 0});
    largest_allocation = 0;
    bytes::byte_reader r(in);
    auto t = decode_field_table(r);
    size_t largest = largest_allocation.load();
    ASSERT_FALSE(t) << char(tag);
    EXPECT_LT(largest, 4096u) << char(tag);
  }
}

TEST(AmqpMalformed, HugeHeadersTableInPropertiesAllocatesNothing) {
  bytes::buffer in = b({0, 60, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0x20, 0x00, 0xff, 0xff, 0xff, 0xff});
  largest_allocation = 0;
  auto h = decode_content_header(in);
  size_t largest = largest_allocation.load();
  ASSERT_FALSE(h);
  EXPECT_EQ(h.error().code, reply_code::frame_error);
  EXPECT_LT(largest, 4096u);
}

}  // namespace
}  // namespace tern::amqp
