// Headers-exchange matching: the four x-match modes, x- arguments, presence tests, value
// equality across numeric types, and x-match validation.

#include "broker/exchange_headers.h"

#include <gtest/gtest.h>

namespace tern::broker {
namespace {

bool matches(const header_table& binding_args, const header_table& message) {
  x_match mode;
  auto st = parse_x_match(binding_args, mode);
  EXPECT_TRUE(st) << st.message();
  return headers_match(mode, binding_args, header_index(message));
}

TEST(HeadersXMatch, ParsesTheFourModesAndDefaultsToAll) {
  x_match m;
  ASSERT_TRUE(parse_x_match({}, m));
  EXPECT_EQ(m, x_match::all);
  ASSERT_TRUE(parse_x_match({{"x-match", "any"}}, m));
  EXPECT_EQ(m, x_match::any);
  ASSERT_TRUE(parse_x_match({{"x-match", "all"}}, m));
  EXPECT_EQ(m, x_match::all);
  ASSERT_TRUE(parse_x_match({{"x-match", "all-with-x"}}, m));
  EXPECT_EQ(m, x_match::all_with_x);
  ASSERT_TRUE(parse_x_match({{"x-match", "any-with-x"}}, m));
  EXPECT_EQ(m, x_match::any_with_x);
}

TEST(HeadersXMatch, RejectsOtherValuesAndTypes) {
  x_match m;
  auto st = parse_x_match({{"x-match", "some"}}, m);
  EXPECT_EQ(st.code(), routing_errc::precondition_failed);
  EXPECT_EQ(st.message(),
            "Invalid x-match field value some; expected all, any, all-with-x, or any-with-x");
  st = parse_x_match({{"x-match", 1}}, m);
  EXPECT_EQ(st.code(), routing_errc::precondition_failed);
  EXPECT_EQ(st.message(), "Invalid x-match field type int (value 1); expected longstr");
}

TEST(HeadersMatch, AllRequiresEveryField) {
  header_table b{{"x-match", "all"}, {"format", "pdf"}, {"type", "report"}};
  EXPECT_TRUE(matches(b, {{"type", "report"}, {"format", "pdf"}, {"extra", 1}}));
  EXPECT_FALSE(matches(b, {{"format", "pdf"}}));
  EXPECT_FALSE(matches(b, {{"format", "pdf"}, {"type", "log"}}));
  EXPECT_FALSE(matches(b, {}));
}

TEST(HeadersMatch, MissingXMatchMeansAll) {
  header_table b{{"format", "pdf"}, {"type", "report"}};
  EXPECT_TRUE(matches(b, {{"type", "report"}, {"format", "pdf"}}));
  EXPECT_FALSE(matches(b, {{"format", "pdf"}}));
}

TEST(HeadersMatch, AnyNeedsOneField) {
  header_table b{{"x-match", "any"}, {"format", "pdf"}, {"type", "report"}};
  EXPECT_TRUE(matches(b, {{"format", "pdf"}}));
  EXPECT_TRUE(matches(b, {{"type", "report"}, {"format", "zip"}}));
  EXPECT_FALSE(matches(b, {{"format", "zip"}}));
  EXPECT_FALSE(matches(b, {}));
}

TEST(HeadersMatch, XPrefixedArgumentsAreIgnoredByAllAndAny) {
  header_table all{{"x-match", "all"}, {"x-custom", "v"}, {"a", 1}};
  EXPECT_TRUE(matches(all, {{"a", 1}}));
  header_table any{{"x-match", "any"}, {"x-custom", "v"}};
  EXPECT_FALSE(matches(any, {{"x-custom", "v"}}));
}

TEST(HeadersMatch, WithXVariantsCompareXArgumentsButNeverXMatch) {
  header_table all{{"x-match", "all-with-x"}, {"x-custom", "v"}, {"a", 1}};
  EXPECT_TRUE(matches(all, {{"a", 1}, {"x-custom", "v"}}));
  EXPECT_FALSE(matches(all, {{"a", 1}}));
  header_table any{{"x-match", "any-with-x"}, {"x-custom", "v"}};
  EXPECT_TRUE(matches(any, {{"x-custom", "v"}}));
  EXPECT_FALSE(matches(any, {{"x-match", "any-with-x"}}));
}

TEST(HeadersMatch, AllWithNothingToCompareMatchesEverythingAnyMatchesNothing) {
  EXPECT_TRUE(matches({}, {}));
  EXPECT_TRUE(matches({{"x-match", "all"}, {"x-only", 1}}, {{"whatever", 1}}));
  EXPECT_FALSE(matches({{"x-match", "any"}}, {{"whatever", 1}}));
}

TEST(HeadersMatch, VoidBindingValueIsAPresenceTest) {
  header_table b{{"x-match", "all"}, {"trace", header_value{}}};
  EXPECT_TRUE(matches(b, {{"trace", "anything"}}));
  EXPECT_TRUE(matches(b, {{"trace", header_value{}}}));
  EXPECT_FALSE(matches(b, {{"other", 1}}));
}

TEST(HeadersMatch, NumbersCompareByValueWhateverTheirType) {
  header_table b{{"n", int8_t{5}}};
  EXPECT_TRUE(matches(b, {{"n", int64_t{5}}}));
  EXPECT_TRUE(matches(b, {{"n", 5.0}}));
  EXPECT_FALSE(matches(b, {{"n", 5.5}}));
  EXPECT_FALSE(matches(b, {{"n", "5"}}));
  EXPECT_TRUE(matches({{"d", 2.0}}, {{"d", 2}}));
  // Only exact conversions: 2^63 does not equal INT64_MAX.
  EXPECT_FALSE(matches({{"d", 9223372036854775808.0}}, {{"d", INT64_MAX}}));
}

TEST(HeadersMatch, BooleansAndStringsAreDistinct) {
  EXPECT_TRUE(matches({{"f", true}}, {{"f", true}}));
  EXPECT_FALSE(matches({{"f", true}}, {{"f", "true"}}));
  EXPECT_FALSE(matches({{"f", true}}, {{"f", 1}}));
}

TEST(HeadersMatch, NestedArraysAndTablesCompareElementwise) {
  header_table b{{"a", header_array{1, "x"}}, {"t", header_table{{"k", 2}}}};
  EXPECT_TRUE(matches(b, {{"a", header_array{1.0, "x"}}, {"t", header_table{{"k", 2}}}}));
  EXPECT_FALSE(matches(b, {{"a", header_array{1, "x", 2}}, {"t", header_table{{"k", 2}}}}));
  EXPECT_FALSE(matches(b, {{"a", header_array{1, "x"}}, {"t", header_table{{"j", 2}}}}));
}

TEST(HeadersMatch, RepeatedMessageHeaderFirstOccurrenceCounts) {
  EXPECT_TRUE(matches({{"k", 1}}, {{"k", 1}, {"k", 2}}));
  EXPECT_FALSE(matches({{"k", 2}}, {{"k", 1}, {"k", 2}}));
}

}  // namespace
}  // namespace tern::broker
