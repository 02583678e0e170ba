// Topic matching: RabbitMQ's word splitting and wildcard edge cases, the trie's bookkeeping,
// and a randomized comparison of the trie with a plain recursive matcher.

#include "broker/exchange_topic.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <span>
#include <string>
#include <vector>

namespace tern::broker {
namespace {

using words = std::vector<std::string_view>;

// The specification as a plain dynamic program: m[i][j] says whether pattern words i.. match
// key words j.. ("#" either matches nothing or swallows one word and stays).
bool reference_match(std::span<const std::string_view> p, std::span<const std::string_view> w) {
  const size_t cols = w.size() + 1;
  std::vector<char> m((p.size() + 1) * cols, 0);
  auto at = [&](size_t i, size_t j) -> char& { return m[i * cols + j]; };
  at(p.size(), w.size()) = 1;
  for (size_t i = p.size(); i-- > 0;) {
    for (size_t j = cols; j-- > 0;) {
      if (p[i] == "#")
        at(i, j) = at(i + 1, j) || (j < w.size() && at(i, j + 1));
      else
        at(i, j) = j < w.size() && (p[i] == "*" || p[i] == w[j]) && at(i + 1, j + 1);
    }
  }
  return at(0, 0);
}

bool reference_match(std::string_view pattern, std::string_view key) {
  auto p = split_topic_words(pattern);
  auto w = split_topic_words(key);
  return reference_match(p, w);
}

bool trie_match(std::string_view pattern, std::string_view key) {
  topic_trie<int> t;
  t.add(pattern, 1);
  std::vector<int> out;
  t.match(key, out);
  EXPECT_EQ(reference_match(pattern, key), !out.empty()) << pattern << " vs " << key;
  return !out.empty();
}

TEST(TopicSplit, EmptyKeyIsZeroWordsButTrailingDotIsAnEmptyWord) {
  EXPECT_EQ(split_topic_words(""), words{});
  EXPECT_EQ(split_topic_words("a"), words{"a"});
  EXPECT_EQ(split_topic_words("a."), (words{"a", ""}));
  EXPECT_EQ(split_topic_words("."), (words{"", ""}));
  EXPECT_EQ(split_topic_words(".a"), (words{"", "a"}));
  EXPECT_EQ(split_topic_words("a..b"), (words{"a", "", "b"}));
  EXPECT_EQ(split_topic_words("a.b.c"), (words{"a", "b", "c"}));
}

TEST(TopicMatch, HashAloneMatchesEverythingIncludingTheEmptyKey) {
  for (auto key : {"", "a", "a.b", ".", "a.", "#", "*"}) EXPECT_TRUE(trie_match("#", key)) << key;
}

TEST(TopicMatch, TrailingHashMatchesZeroWords) {
  EXPECT_TRUE(trie_match("a.#", "a"));
  EXPECT_TRUE(trie_match("a.#", "a.b"));
  EXPECT_TRUE(trie_match("a.#", "a.b.c"));
  EXPECT_TRUE(trie_match("a.#", "a."));
  EXPECT_FALSE(trie_match("a.#", "b"));
  EXPECT_FALSE(trie_match("a.#", "ab"));
  EXPECT_FALSE(trie_match("a.#", ""));
}

TEST(TopicMatch, LeadingAndMiddleHash) {
  EXPECT_TRUE(trie_match("#.a", "a"));
  EXPECT_TRUE(trie_match("#.a", "x.y.a"));
  EXPECT_FALSE(trie_match("#.a", "a.x"));
  EXPECT_TRUE(trie_match("a.#.b", "a.b"));
  EXPECT_TRUE(trie_match("a.#.b", "a.x.b"));
  EXPECT_TRUE(trie_match("a.#.b", "a.x.y.b"));
  EXPECT_TRUE(trie_match("a.#.b", "a.b.b"));
  EXPECT_FALSE(trie_match("a.#.b", "a.b.c"));
  EXPECT_FALSE(trie_match("a.#.b", "a"));
}

TEST(TopicMatch, StarIsExactlyOneWordPossiblyEmpty) {
  EXPECT_TRUE(trie_match("*", "a"));
  EXPECT_FALSE(trie_match("*", ""));  // "" is zero words
  EXPECT_FALSE(trie_match("*", "a.b"));
  EXPECT_TRUE(trie_match("*.*", "."));  // two empty words
  EXPECT_TRUE(trie_match("*.*", "a."));
  EXPECT_FALSE(trie_match("*.*", "a"));
  EXPECT_TRUE(trie_match("a.*", "a."));
  EXPECT_FALSE(trie_match("a.*", "a"));
}

TEST(TopicMatch, EmptyBindingKeyMatchesOnlyTheEmptyKey) {
  EXPECT_TRUE(trie_match("", ""));
  EXPECT_FALSE(trie_match("", "a"));
  EXPECT_FALSE(trie_match("", "."));
}

TEST(TopicMatch, EmptyWordsAreOrdinaryWords) {
  EXPECT_TRUE(trie_match("a..b", "a..b"));
  EXPECT_TRUE(trie_match("a.*.b", "a..b"));
  EXPECT_FALSE(trie_match("a..b", "a.b"));
  EXPECT_TRUE(trie_match(".", "."));
  EXPECT_FALSE(trie_match(".", ""));
}

TEST(TopicMatch, WildcardsOnlyAsWholeWords) {
  EXPECT_TRUE(trie_match("a*", "a*"));
  EXPECT_FALSE(trie_match("a*", "ab"));
  EXPECT_FALSE(trie_match("a#", "a.b"));
  // A key word "*" or "#" is literal, so only wildcards or that literal match it.
  EXPECT_TRUE(trie_match("*", "*"));
  EXPECT_TRUE(trie_match("#", "#"));
  EXPECT_FALSE(trie_match("a", "*"));
}

TEST(TopicMatch, RepeatedHashes) {
  EXPECT_TRUE(trie_match("#.#", ""));
  EXPECT_TRUE(trie_match("#.#", "a.b.c"));
  EXPECT_TRUE(trie_match("#.*", "a"));
  EXPECT_FALSE(trie_match("#.*", ""));
  EXPECT_TRUE(trie_match("*.#", "a.b"));
  EXPECT_FALSE(trie_match("*.#", ""));
  EXPECT_TRUE(trie_match("#.#.#.#.#.#.#.#.#.#.#.#.z", "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.z"));
  EXPECT_FALSE(trie_match("#.#.#.#.#.#.#.#.#.#.#.#.z", "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q"));
}

TEST(TopicTrie, ReportsEachValueOfEveryMatchingPattern) {
  topic_trie<int> t;
  t.add("a.*", 1);
  t.add("a.*", 2);
  t.add("#", 3);
  t.add("a.b", 4);
  t.add("b.*", 5);
  t.add("a.b", 1);  // value 1 under a second pattern: reported twice
  std::vector<int> out;
  t.match("a.b", out);
  std::sort(out.begin(), out.end());
  EXPECT_EQ(out, (std::vector<int>{1, 1, 2, 3, 4}));
  EXPECT_EQ(t.size(), 6u);
}

TEST(TopicTrie, RemoveFreesNodesAndReportsMissing) {
  topic_trie<int> t;
  t.add("a.b.c", 1);
  t.add("a.*.#", 2);
  t.add("a.b", 3);
  EXPECT_GT(t.node_count(), 0u);
  EXPECT_FALSE(t.remove("a.b.c", 2));  // wrong value
  EXPECT_FALSE(t.remove("a.x", 1));    // no such pattern
  EXPECT_FALSE(t.remove("a.b.c.d", 1));
  EXPECT_TRUE(t.remove("a.b.c", 1));
  EXPECT_FALSE(t.remove("a.b.c", 1));  // only once
  std::vector<int> out;
  t.match("a.b.c", out);
  EXPECT_EQ(out, std::vector<int>{2});
  EXPECT_TRUE(t.remove("a.*.#", 2));
  EXPECT_EQ(t.node_count(), 2u);  // a, a.b
  EXPECT_TRUE(t.remove("a.b", 3));
  EXPECT_EQ(t.node_count(), 0u);
  EXPECT_TRUE(t.empty());
}

std::string random_key(std::mt19937& rng, std::span<const char* const> alphabet, int max_words) {
  int n = std::uniform_int_distribution<int>(0, max_words)(rng);
  std::string s;
  for (int i = 0; i < n; ++i) {
    if (i) s += '.';
    s += alphabet[std::uniform_int_distribution<size_t>(0, alphabet.size() - 1)(rng)];
  }
  return s;
}

TEST(TopicTrie, RandomizedAgainstReferenceMatcher) {
  static constexpr const char* pattern_words[] = {"a", "b", "c", "", "*", "#", "#"};
  static constexpr const char* key_words[] = {"a", "b", "c", "", "*", "#"};
  for (uint32_t seed : {1u, 2u, 3u, 42u}) {
    std::mt19937 rng(seed);
    topic_trie<int> t;
    std::vector<std::string> patterns;
    for (int i = 0; i < 300; ++i) {
      patterns.push_back(random_key(rng, pattern_words, 5));
      t.add(patterns.back(), i);
    }
    std::vector<std::vector<std::string_view>> pattern_words_of;
    for (auto& p : patterns) pattern_words_of.push_back(split_topic_words(p));
    std::vector<bool> live(patterns.size(), true);
    auto check = [&] {
      for (int k = 0; k < 1000; ++k) {
        std::string key = random_key(rng, key_words, 6);
        std::vector<int> got;
        t.match(key, got);
        std::sort(got.begin(), got.end());
        auto key_words_of = split_topic_words(key);
        std::vector<int> want;
        for (size_t i = 0; i < patterns.size(); ++i)
          if (live[i] && reference_match(pattern_words_of[i], key_words_of))
            want.push_back(static_cast<int>(i));
        ASSERT_EQ(got, want) << "seed " << seed << " key '" << key << "'";
      }
    };
    check();
    // Remove a random half, then compare again: pruning must not lose other patterns.
    for (size_t i = 0; i < patterns.size(); ++i) {
      if (rng() % 2) {
        ASSERT_TRUE(t.remove(patterns[i], static_cast<int>(i)));
        live[i] = false;
      }
    }
    check();
    for (size_t i = 0; i < patterns.size(); ++i)
      if (live[i]) ASSERT_TRUE(t.remove(patterns[i], static_cast<int>(i)));
    EXPECT_EQ(t.node_count(), 0u);
  }
}

TEST(TopicTrie, ManyBindingsMatchOnlyTheirOwn) {
  // 50k distinct bindings: a route must not depend on a scan of all of them.
  topic_trie<int> t;
  constexpr int n = 50'000;
  for (int i = 0; i < n; ++i) t.add("orders." + std::to_string(i) + ".*", i);
  t.add("orders.#", -1);
  for (int round = 0; round < 5'000; ++round) {
    int i = (round * 7919) % n;
    std::vector<int> out;
    t.match("orders." + std::to_string(i) + ".created", out);
    std::sort(out.begin(), out.end());
    ASSERT_EQ(out, (std::vector<int>{-1, i}));
  }
}

}  // namespace
}  // namespace tern::broker
