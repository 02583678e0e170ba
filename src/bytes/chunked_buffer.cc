#include "bytes/chunked_buffer.h"

#include <unistd.h>

namespace tern::bytes {

bool chunked_buffer::flatten(buffer& out) const {
  for (auto& c : _chunks) {
    if (auto* b = std::get_if<buffer>(&c)) {
      out.insert(out.end(), b->begin(), b->end());
      continue;
    }
    auto& r = std::get<file_range>(c);
    size_t at = out.size();
    out.resize(at + r.length);
    size_t done = 0;
    while (done < r.length) {
      ssize_t n = ::pread(r.fd, out.data() + at + done, r.length - done, off_t(r.offset + done));
      if (n <= 0) return false;
      done += size_t(n);
    }
  }
  return true;
}

}  // namespace tern::bytes
