#pragma once
// Helpers for the storage tests: temporary directories, a poster that queues callbacks for
// the test thread to run, an injectable clock, and batch builders.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <string>

#include "bytes/chunked_buffer.h"
#include "storage/file.h"
#include "storage/flusher.h"
#include "storage/log.h"
#include "storage/record_batch.h"

namespace tern::storage::test {

// A fresh directory under $TMPDIR, removed with everything in it at the end of the test.
class temp_dir {
 public:
  temp_dir() {
    auto tmpl = (std::filesystem::temp_directory_path() / "tern-storage-XXXXXX").string();
    char* made = ::mkdtemp(tmpl.data());
    EXPECT_NE(made, nullptr);
    _path = tmpl;
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(_path, ec);
  }
  const std::filesystem::path& path() const { return _path; }
  std::filesystem::path operator/(const std::string& name) const { return _path / name; }

 private:
  std::filesystem::path _path;
};

// Stands in for a shard's event loop: callbacks posted from any thread wait in a queue until
// the test thread runs them.
class queue_poster {
 public:
  poster get() {
    return [this](std::function<void()> fn) {
      {
        std::lock_guard lock(_mutex);
        _queue.push_back(std::move(fn));
      }
      _cv.notify_all();
    };
  }
  // Runs what is queued now; returns how many ran.
  size_t drain() {
    size_t n = 0;
    while (true) {
      std::function<void()> fn;
      {
        std::lock_guard lock(_mutex);
        if (_queue.empty()) return n;
        fn = std::move(_queue.front());
        _queue.pop_front();
      }
      fn();
      ++n;
    }
  }
  // Runs callbacks (waiting for flusher threads) until `until()` holds; false on timeout.
  bool run_until(const std::function<bool()>& until,
                 std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!until()) {
      if (drain() > 0) continue;
      std::unique_lock lock(_mutex);
      if (!_cv.wait_until(lock, deadline, [this] { return !_queue.empty(); })) return until();
    }
    return true;
  }

 private:
  std::mutex _mutex;
  std::condition_variable _cv;
  std::deque<std::function<void()>> _queue;
};

// The injectable clock (clock_fn is a plain function pointer).
inline std::atomic<int64_t> g_now_ms{1'700'000'000'000};
inline int64_t fake_now() { return g_now_ms.load(); }

// A batch of `n` records of `value_size` bytes, timestamps ts, ts+1, ...
inline bytes::buffer make_batch(int n, size_t value_size = 100, int64_t ts = 1000,
                                bytes::compression codec = bytes::compression::none) {
  std::vector<record> recs;
  for (int i = 0; i < n; ++i) {
    record r;
    std::string key = "key-" + std::to_string(i);
    r.key = bytes::buffer(key.begin(), key.end());
    r.value = bytes::buffer(value_size, uint8_t('a' + i % 26));
    r.timestamp = ts + i;
    recs.push_back(std::move(r));
  }
  build_options o;
  o.compression = codec;
  return build_batch(recs, o);
}

// Copies the bytes of a read result.
inline bytes::buffer flatten(const log::read_result& r) {
  bytes::chunked_buffer cb;
  for (auto& fr : r.ranges) cb.append_file(fr);
  bytes::buffer out;
  EXPECT_TRUE(cb.flatten(out));
  return out;
}

// Every record in a read result, decoded.
inline std::vector<record_with_offset> records_of(const log::read_result& r) {
  bytes::buffer data = flatten(r);
  std::vector<record_with_offset> out;
  auto batches = split_batches(data);
  EXPECT_TRUE(batches) << batches.error().message();
  if (!batches) return out;
  for (auto b : *batches) {
    auto recs = decode_records(b, 64 << 20);
    EXPECT_TRUE(recs) << recs.error().message();
    if (!recs) continue;
    for (auto& r : *recs) out.push_back(std::move(r));
  }
  return out;
}

// Base offsets of the batches in a read result.
inline std::vector<int64_t> batch_offsets(const log::read_result& r) {
  bytes::buffer data = flatten(r);
  std::vector<int64_t> out;
  auto batches = split_batches(data);
  if (batches)
    for (auto b : *batches) out.push_back(parse_batch_header(b)->base_offset);
  return out;
}

// Calls log::flush and runs posted callbacks until it completes; returns its error.
inline std::error_code flush_and_wait(log& l, queue_poster& q) {
  bool done = false;
  std::error_code result;
  l.flush([&](std::error_code ec) {
    done = true;
    result = ec;
  });
  EXPECT_TRUE(q.run_until([&] { return done; }));
  return result;
}

// Raw file surgery, to play the part of a crash or a bad disk.
inline uint64_t file_size(const std::filesystem::path& p) { return std::filesystem::file_size(p); }
inline void flip_byte(const std::filesystem::path& p, uint64_t pos) {
  std::fstream f(p, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(std::streamoff(pos));
  char c = 0;
  f.read(&c, 1);
  c = char(c ^ 0x40);
  f.seekp(std::streamoff(pos));
  f.write(&c, 1);
}
inline void append_raw(const std::filesystem::path& p, bytes::byte_view data) {
  std::ofstream f(p, std::ios::binary | std::ios::app);
  f.write(reinterpret_cast<const char*>(data.data()), std::streamsize(data.size()));
}
inline void write_raw(const std::filesystem::path& p, bytes::byte_view data) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(data.data()), std::streamsize(data.size()));
}

// A log in a temporary directory over a fault-injecting file system, with a one-thread
// flusher and a queue poster. Logs opened here must be destroyed before the fixture.
class log_fixture : public ::testing::Test {
 protected:
  std::filesystem::path log_dir() const { return _dir / "topic-0"; }
  std::filesystem::path seg(int64_t base, const char* ext = ".log") const {
    return segment_file(log_dir(), base, ext);
  }

  // With `fl` given (e.g. a flusher(0) that syncs inline), instead of the fixture's.
  std::unique_ptr<log> open_log(flusher* fl = nullptr) {
    auto l = log::open(_fs, fl ? *fl : _flusher, _poster.get(), log_dir(), _config, fake_now);
    EXPECT_TRUE(l) << l.error().message();
    return l ? std::move(*l) : nullptr;
  }

  log::append_result append(log& l, int n, size_t value_size = 100, int64_t ts = 1000) {
    bytes::buffer b = make_batch(n, value_size, ts);
    auto r = l.append(b);
    EXPECT_TRUE(r) << r.error().message();
    return r ? *r : log::append_result{};
  }

  log::read_result read_all(log& l, int64_t from = 0) {
    auto r = l.read(from, l.log_end_offset(), size_t(1) << 30, true);
    EXPECT_TRUE(r) << r.error().message();
    return r ? *r : log::read_result{};
  }

  // Every record from `from` to the log end, reading segment after segment.
  std::vector<record_with_offset> all_records(log& l, int64_t from = 0) {
    std::vector<record_with_offset> out;
    while (from < l.log_end_offset()) {
      auto r = l.read(from, l.log_end_offset(), size_t(1) << 30, true);
      EXPECT_TRUE(r);
      if (!r || r->ranges.empty()) break;
      for (auto& rec : records_of(*r)) {
        if (rec.offset >= from) out.push_back(rec);
      }
      from = out.empty() ? l.log_end_offset() : out.back().offset + 1;
    }
    return out;
  }

  std::error_code flush(log& l) { return flush_and_wait(l, _poster); }

  // Declared so that the flusher goes first (its last jobs still post to the poster).
  temp_dir _dir;
  posix_file_system _real;
  faulty_file_system _fs{_real};
  queue_poster _poster;
  flusher _flusher{1};
  log_config _config;
};

}  // namespace tern::storage::test
