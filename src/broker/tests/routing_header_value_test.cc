// header_value: construction, strict and matching equality, canonical bytes (binding
// identity), and its JSON form (round trip, non-UTF-8 bytes, non-finite doubles, corruption).

#include "broker/routing_header_value.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include <nlohmann/json.hpp>

namespace tern::broker {
namespace {

TEST(RoutingHeaderValue, ConstructorsPickTheExpectedAlternative) {
  EXPECT_NE(header_value("text").as_string(), nullptr);  // not bool
  EXPECT_NE(header_value(std::string_view("v")).as_string(), nullptr);
  EXPECT_NE(header_value(true).as_bool(), nullptr);
  EXPECT_EQ(*header_value(int16_t{-3}).as_int(), -3);
  EXPECT_EQ(*header_value(uint32_t{4'000'000'000}).as_int(), 4'000'000'000);
  EXPECT_NE(header_value(1.5).as_double(), nullptr);
  EXPECT_TRUE(header_value().is_void());
  EXPECT_EQ(type_name(header_value(header_table{})), "table");
  EXPECT_EQ(type_name(header_value(header_array{})), "array");
}

TEST(RoutingHeaderValue, StrictEqualityKeepsTypesApart) {
  EXPECT_EQ(header_value(1), header_value(int64_t{1}));
  EXPECT_NE(header_value(1), header_value(1.0));
  EXPECT_NE(header_value("1"), header_value(1));
  EXPECT_TRUE(header_values_match(header_value(1), header_value(1.0)));
  EXPECT_EQ(header_value(header_table{{"a", header_array{1, "x"}}}),
            header_value(header_table{{"a", header_array{1, "x"}}}));
}

TEST(RoutingHeaderValue, SortedByNameIsStable) {
  header_table t{{"b", 1}, {"a", 2}, {"b", 0}, {"a", 1}};
  EXPECT_EQ(sorted_by_name(t), (header_table{{"a", 2}, {"a", 1}, {"b", 1}, {"b", 0}}));
}

TEST(RoutingHeaderValue, CanonicalBytesAreInjective) {
  std::vector<header_table> distinct = {
      {},
      {{"a", header_value{}}},
      {{"a", 1}},
      {{"a", 1.0}},
      {{"a", "1"}},
      {{"a", true}},
      {{"a", header_array{}}},
      {{"a", header_table{}}},
      {{"a", header_array{1}}},
      {{"a", header_table{{"", 1}}}},
      {{"a", ""}, {"", "a"}},
      {{"a", "\x01"}},
      {{std::string("a\0\1", 3), 1}},
      {{"a", 1}, {"a", 1}},
  };
  for (size_t i = 0; i < distinct.size(); ++i)
    for (size_t j = 0; j < distinct.size(); ++j)
      EXPECT_EQ(i == j, canonical_bytes(distinct[i]) == canonical_bytes(distinct[j]))
          << i << "," << j;
}

TEST(RoutingHeaderValue, Utf8Validation) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("plain"));
  EXPECT_TRUE(is_valid_utf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
  EXPECT_FALSE(is_valid_utf8("\xff"));
  EXPECT_FALSE(is_valid_utf8("\xc3"));              // truncated
  EXPECT_FALSE(is_valid_utf8("\xc0\xaf"));          // overlong
  EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));  // above U+10FFFF
}

TEST(RoutingHeaderValue, JsonRoundTripOfEveryType) {
  header_table t{
      {"void", header_value{}},
      {"bool", false},
      {"int", INT64_MIN},
      {"double", 1.0},
      {"tiny", 5e-324},
      {"nan", std::nan("")},
      {"inf", std::numeric_limits<double>::infinity()},
      {"-inf", -std::numeric_limits<double>::infinity()},
      {"string", "caf\xc3\xa9"},
      {"bytes", std::string("\xff\x00\x01", 3)},
      {std::string("\xfe name", 6), 1},
      {"array", header_array{1, "x", header_array{}, header_table{{"k", 2.5}}}},
      {"table", header_table{{"a", header_table{{"b", true}}}}},
      {"dup", 1},
      {"dup", 2},
  };
  auto j = header_table_to_json(t);
  std::string text = j.dump();  // must not throw on the non-UTF-8 bytes
  header_table back;
  ASSERT_TRUE(header_table_from_json(nlohmann::json::parse(text), back));
  ASSERT_EQ(back.size(), t.size());
  for (size_t i = 0; i < t.size(); ++i) {
    EXPECT_EQ(back[i].first, t[i].first);
    if (auto d = t[i].second.as_double(); d && std::isnan(*d)) {
      ASSERT_NE(back[i].second.as_double(), nullptr);
      EXPECT_TRUE(std::isnan(*back[i].second.as_double()));
    } else {
      EXPECT_EQ(back[i].second, t[i].second) << t[i].first;
    }
  }
}

TEST(RoutingHeaderValue, JsonRejectsWhatToJsonNeverWrites) {
  header_table out;
  for (const char* text : {
           R"({"a": 1})",                      // a table is a list
           R"([["a"]])",                       // not a pair
           R"([[1, 2]])",                      // name not a string
           R"([["a", {"what": 1}]])",          // unknown object
           R"([["a", {"hex": "abc"}]])",       // odd hex
           R"([["a", {"hex": "zz"}]])",        // not hex
           R"([["a", {"double": "big"}]])",    // unknown special double
           R"([["a", {"array": 1}]])",         // array not a list
           R"([["a", {"table": {}}]])",        // table not a list
           R"([["a", 9223372036854775808]])",  // beyond int64
           R"([["a", {"hex": "00", "x": 1}]])",
       }) {
    auto st = header_table_from_json(nlohmann::json::parse(text), out);
    EXPECT_EQ(st.code(), routing_errc::corrupt_metadata) << text;
  }
}

TEST(RoutingHeaderValue, JsonNestingIsBounded) {
  header_value v = 1;
  for (int i = 0; i < 200; ++i) v = header_array{std::move(v)};
  header_table t{{"deep", std::move(v)}};
  header_table out;
  auto st = header_table_from_json(header_table_to_json(t), out);
  EXPECT_EQ(st.code(), routing_errc::corrupt_metadata);
  EXPECT_TRUE(header_table_from_json(header_table_to_json(t), out, 500));
}

}  // namespace
}  // namespace tern::broker
