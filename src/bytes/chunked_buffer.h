#pragma once
// A response being built: a sequence of owned byte runs and file ranges. Codecs write their
// fields into the owned runs and append file ranges for record data that already sits in a
// segment file, so a Kafka fetch sends log bytes to the socket without copying them through
// user space (sendfile) — see shared/DESIGN.md, "Storage".
//
//   chunked_buffer out;
//   byte_writer w = out.writer();   // writes go to the current owned run
//   w.i32(len);
//   out.append_file({owner, fd, pos, len});   // starts a new owned run after it
//
// A file_range keeps the open file alive through `owner` until the bytes are sent, so a
// segment deleted by retention in the meantime is still readable.

#include <cstdint>
#include <memory>
#include <variant>
#include <vector>

#include "bytes/buffer.h"

namespace tern::bytes {

struct file_range {
  std::shared_ptr<const void> owner;  // keeps `fd` open while the range is queued
  int fd = -1;
  uint64_t offset = 0;
  uint32_t length = 0;
};

class chunked_buffer {
 public:
  using chunk = std::variant<buffer, file_range>;

  chunked_buffer() { _chunks.emplace_back(buffer{}); }

  // The owned run at the end, to write into (a new one when the last chunk is a file range).
  buffer& tail() {
    if (!std::holds_alternative<buffer>(_chunks.back())) _chunks.emplace_back(buffer{});
    return std::get<buffer>(_chunks.back());
  }
  byte_writer writer() { return byte_writer(tail()); }

  void append_file(file_range r) {
    _size_files += r.length;
    _chunks.emplace_back(std::move(r));
  }
  void append_bytes(byte_view b) {
    auto& t = tail();
    t.insert(t.end(), b.begin(), b.end());
  }

  // The first owned run: callers reserve the frame's length prefix there and patch it last.
  buffer& head() { return std::get<buffer>(_chunks.front()); }

  size_t size() const {
    size_t n = _size_files;
    for (auto& c : _chunks)
      if (auto* b = std::get_if<buffer>(&c)) n += b->size();
    return n;
  }
  std::vector<chunk>& chunks() { return _chunks; }
  const std::vector<chunk>& chunks() const { return _chunks; }

  // Copies everything into one buffer, reading file ranges with pread (tests, TLS paths).
  // Returns false if a file range could not be read completely.
  bool flatten(buffer& out) const;

 private:
  std::vector<chunk> _chunks;
  size_t _size_files = 0;
};

}  // namespace tern::bytes
