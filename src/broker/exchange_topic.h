#pragma once
// Topic-exchange matching, with RabbitMQ's semantics: routing keys and binding keys are
// split into words at every '.', a binding word "*" matches exactly one word and "#" zero or
// more; any other word matches itself only.
//
// Splitting (RabbitMQ's split_topic_key): "" is zero words, while "a." is ["a", ""] and "."
// is ["", ""]; empty words are ordinary words. Hence:
//
//   binding "#"      matches every key, "" included
//   binding "a.#"    matches "a", "a.b", "a.b.c"        ("#" may match zero words)
//   binding "#.a"    matches "a", "x.a";  "a.#.b" matches "a.b" and "a.x.y.b"
//   binding "*"      matches "a" and "" never (zero words); "*.*" matches "."
//   binding ""       matches the key "" only
//
// topic_trie indexes the binding keys of one exchange as a trie over words (RabbitMQ's
// approach), so a route costs O(words in the key x trie nodes active at once) instead of a
// loop over every binding. Matching runs the trie as an NFA: the set of nodes reachable after
// each word, where a node entered by a "#" edge can also consume a word and stay, and a "#"
// child is reachable without consuming one. Each node is visited at most once per word, so
// patterns such as "#.#.#" cannot make it exponential.
//
// Owned by its exchange (routing_table), not thread safe.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace tern::broker {

// The words of a routing or binding key; views into `key`.
std::vector<std::string_view> split_topic_words(std::string_view key);

// T: a small copyable value compared with ==, e.g. a pointer to a binding.
template <class T>
class topic_trie {
 public:
  topic_trie() = default;
  // Children point at their parent, the root included: not copyable nor movable.
  topic_trie(const topic_trie&) = delete;
  topic_trie& operator=(const topic_trie&) = delete;

  // Adds `value` under `pattern` (a binding key). The same value may be added under several
  // patterns, or twice under one (match() then reports it twice).
  void add(std::string_view pattern, T value) {
    node* n = &_root;
    for (auto w : split_topic_words(pattern)) n = child(n, w, /*create=*/true);
    n->values.push_back(std::move(value));
    ++_size;
  }

  // Removes one occurrence of `value` under `pattern`; false if there was none. Nodes left
  // without values or children are freed.
  bool remove(std::string_view pattern, const T& value) {
    node* n = &_root;
    for (auto w : split_topic_words(pattern)) {
      n = child(n, w, /*create=*/false);
      if (!n) return false;
    }
    auto it = std::find(n->values.begin(), n->values.end(), value);
    if (it == n->values.end()) return false;
    *it = std::move(n->values.back());
    n->values.pop_back();
    --_size;
    prune(n);
    return true;
  }

  // Appends to `out` the values of every pattern that matches `key`, in no particular order.
  void match(std::string_view key, std::vector<T>& out) const {
    std::vector<const node*> cur, next;
    closure(&_root, cur);
    for (auto w : split_topic_words(key)) {
      next.clear();
      for (const node* n : cur) {
        if (n->kind == edge::hash) closure(n, next);  // "#" swallows this word too
        if (auto it = n->words.find(w); it != n->words.end()) closure(it->second.get(), next);
        if (n->star) closure(n->star.get(), next);
      }
      std::sort(next.begin(), next.end());
      next.erase(std::unique(next.begin(), next.end()), next.end());
      cur.swap(next);
      if (cur.empty()) return;
    }
    for (const node* n : cur) out.insert(out.end(), n->values.begin(), n->values.end());
  }

  size_t size() const { return _size; }
  bool empty() const { return _size == 0; }
  // Nodes besides the root; for tests of pruning.
  size_t node_count() const { return count(&_root) - 1; }

 private:
  enum class edge : uint8_t { root, word, star, hash };
  struct node {
    node* parent = nullptr;
    edge kind = edge::root;
    std::string word;  // the edge's label when kind == word
    std::map<std::string, std::unique_ptr<node>, std::less<>> words;
    std::unique_ptr<node> star, hash;
    std::vector<T> values;

    bool unused() const { return values.empty() && words.empty() && !star && !hash; }
  };

  static node* child(node* n, std::string_view w, bool create) {
    std::unique_ptr<node>* slot;
    edge kind;
    if (w == "*") {
      slot = &n->star, kind = edge::star;
    } else if (w == "#") {
      slot = &n->hash, kind = edge::hash;
    } else {
      auto it = n->words.find(w);
      if (it == n->words.end()) {
        if (!create) return nullptr;
        it = n->words.emplace(std::string(w), nullptr).first;
      }
      slot = &it->second, kind = edge::word;
    }
    if (!*slot) {
      if (!create) return nullptr;
      *slot = std::make_unique<node>();
      (*slot)->parent = n;
      (*slot)->kind = kind;
      if (kind == edge::word) (*slot)->word = std::string(w);
    }
    return slot->get();
  }

  static void prune(node* n) {
    while (n->parent && n->unused()) {
      node* p = n->parent;
      switch (n->kind) {
        case edge::star:
          p->star.reset();
          break;
        case edge::hash:
          p->hash.reset();
          break;
        case edge::word:
          p->words.erase(p->words.find(n->word));
          break;
        case edge::root:
          return;
      }
      n = p;
    }
  }

  // n and the chain of "#" children below it, which match zero words.
  static void closure(const node* n, std::vector<const node*>& out) {
    for (; n; n = n->hash.get()) out.push_back(n);
  }

  static size_t count(const node* n) {
    size_t c = 1;
    for (auto& [w, ch] : n->words) c += count(ch.get());
    if (n->star) c += count(n->star.get());
    if (n->hash) c += count(n->hash.get());
    return c;
  }

  node _root;
  size_t _size = 0;
};

}  // namespace tern::broker
