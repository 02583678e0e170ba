#include "broker/exchange_topic.h"

namespace tern::broker {

std::vector<std::string_view> split_topic_words(std::string_view key) {
  std::vector<std::string_view> words;
  if (key.empty()) return words;
  size_t start = 0;
  for (;;) {
    auto dot = key.find('.', start);
    if (dot == std::string_view::npos) {
      words.push_back(key.substr(start));
      return words;
    }
    words.push_back(key.substr(start, dot - start));
    start = dot + 1;
  }
}

}  // namespace tern::broker
