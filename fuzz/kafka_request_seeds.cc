// Writes the seed corpus of kafka_request_fuzz: for every described API, a sample request
// (kafka/codec/sample.h) framed with its header, at the lowest version, the first flexible
// one and the highest. Regenerate after changing the descriptions:
//   cmake --build build-fuzz --target kafka_request_seeds
//   build-fuzz/fuzz/kafka_request_seeds fuzz/corpus/kafka_request

#include <cstdio>
#include <set>
#include <string>

#include "kafka/codec/apis.h"
#include "kafka/codec/sample.h"

using namespace tern;
using namespace tern::kafka;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  std::string dir = argv[1];
  int written = 0;
  bool failed = false;
  for_each_api([&](auto tag) {
    using api = typename decltype(tag)::type;
    const api_info& info = api::info;
    std::set<int16_t> versions = {info.min_version, info.max_version};
    if (info.first_flexible <= info.max_version) versions.insert(info.first_flexible);
    for (int16_t v : versions) {
      request_header h{api::key, v, 1000 + v, "seed"};
      bytes::chunked_buffer out;
      encode_request_header(h, out);
      encode_request(make_sample<typename api::request>(v), v, out);
      bytes::buffer frame;
      (void)out.flatten(frame);
      std::string path = dir + "/" + std::string(info.name) + "_v" + std::to_string(v);
      std::FILE* f = std::fopen(path.c_str(), "wb");
      if (!f || std::fwrite(frame.data(), 1, frame.size(), f) != frame.size()) failed = true;
      if (f) std::fclose(f);
      ++written;
    }
  });
  std::printf("wrote %d seeds to %s\n", written, dir.c_str());
  return failed ? 1 : 0;
}
