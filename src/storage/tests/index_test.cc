#include "storage/index.h"

#include <gtest/gtest.h>

namespace tern::storage {
namespace {
using bytes::buffer;

TEST(OffsetIndex, FloorAndLookup) {
  offset_index idx;
  EXPECT_EQ(idx.lookup(5), 0u);
  idx.append(0, 0);
  idx.append(10, 4096);
  idx.append(25, 9000);
  EXPECT_EQ(idx.lookup(0), 0u);
  EXPECT_EQ(idx.lookup(9), 0u);
  EXPECT_EQ(idx.lookup(10), 4096u);
  EXPECT_EQ(idx.lookup(24), 4096u);
  EXPECT_EQ(idx.lookup(1000), 9000u);
  EXPECT_EQ(idx.floor(25)->relative_offset, 25u);
}

TEST(OffsetIndex, SerializeParseRoundTrip) {
  offset_index idx;
  idx.append(0, 0);
  idx.append(3, 100);
  buffer b = idx.serialize();
  EXPECT_EQ(b.size(), 16u);
  auto back = offset_index::parse(b, 200);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->size(), 2u);
  EXPECT_EQ(back->back().position, 100u);
}

TEST(OffsetIndex, ParseRejectsBadSizeOutOfOrderAndPastFile) {
  offset_index idx;
  idx.append(0, 0);
  idx.append(3, 100);
  buffer b = idx.serialize();
  EXPECT_FALSE(offset_index::parse(bytes::byte_view(b).first(12), 200));  // bad size
  EXPECT_FALSE(offset_index::parse(b, 100));                              // points past file
  buffer swapped(b.begin() + 8, b.end());
  swapped.insert(swapped.end(), b.begin(), b.begin() + 8);
  EXPECT_FALSE(offset_index::parse(swapped, 200));  // out of order
  EXPECT_TRUE(offset_index::parse({}, 0));          // empty is fine
}

TEST(TimeIndex, SameTimestampMovesLastEntryForward) {
  time_index t;
  t.append(100, 5);
  t.append(100, 9);
  t.append(90, 12);  // older: ignored
  t.append(200, 12);
  t.append(300, 12);  // offset does not increase: ignored
  ASSERT_EQ(t.entries().size(), 2u);
  EXPECT_EQ(t.entries()[0].relative_offset, 9u);
  EXPECT_EQ(t.back().timestamp, 200);
}

TEST(TimeIndex, LastBeforeIsStrict) {
  time_index t;
  t.append(100, 5);
  t.append(200, 9);
  EXPECT_FALSE(t.last_before(100));
  EXPECT_EQ(t.last_before(101)->relative_offset, 5u);
  EXPECT_EQ(t.last_before(200)->relative_offset, 5u);
  EXPECT_EQ(t.last_before(1000)->relative_offset, 9u);
}

TEST(TimeIndex, ParseRejectsGarbage) {
  time_index t;
  t.append(100, 5);
  t.append(200, 9);
  buffer b = t.serialize();
  EXPECT_TRUE(time_index::parse(b, 9));
  EXPECT_FALSE(time_index::parse(b, 8));  // offset beyond the segment
  EXPECT_FALSE(time_index::parse(bytes::byte_view(b).first(13), 9));
  buffer swapped(b.begin() + 12, b.end());
  swapped.insert(swapped.end(), b.begin(), b.begin() + 12);
  EXPECT_FALSE(time_index::parse(swapped, 9));
}

}  // namespace
}  // namespace tern::storage
