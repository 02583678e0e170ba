#pragma once

// A fixed-size, log-linear latency histogram in the spirit of HdrHistogram: every value (in
// nanoseconds) falls in a bucket whose width is at most 1/64 of its lower bound, so any
// reported percentile is within ~1.6% of the true sample. Memory is constant (about 30 KiB)
// whatever the number of samples, so a long e2e run cannot grow without bound.
//
// Not thread-safe: give each consumer thread its own and merge() them at the end.

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>

namespace tern::bench {

class histogram {
 public:
  void record(uint64_t v) {
    ++_counts[index_of(v)];
    ++_total;
    if (v > _max) _max = v;
    if (v < _min) _min = v;
    _sum += v;
  }

  void merge(const histogram& o) {
    for (std::size_t i = 0; i < _counts.size(); ++i) _counts[i] += o._counts[i];
    _total += o._total;
    _sum += o._sum;
    if (o._max > _max) _max = o._max;
    if (o._min < _min) _min = o._min;
  }

  uint64_t count() const { return _total; }
  uint64_t max() const { return _total ? _max : 0; }
  uint64_t min() const { return _total ? _min : 0; }
  double mean() const { return _total ? double(_sum) / double(_total) : 0.0; }

  // The value at quantile q in [0, 1]: the upper bound of the bucket holding the
  // ceil(q * count)-th smallest sample, clamped to the largest sample seen.
  uint64_t quantile(double q) const {
    if (_total == 0) return 0;
    uint64_t rank = uint64_t(q * double(_total) + 0.999999);
    if (rank == 0) rank = 1;
    uint64_t seen = 0;
    for (std::size_t i = 0; i < _counts.size(); ++i) {
      seen += _counts[i];
      if (seen >= rank) {
        uint64_t hi = upper_bound_of(i);
        return hi < _max ? hi : _max;
      }
    }
    return _max;
  }

 private:
  // Values below 2*sub are exact; above, each power of two is split into `sub` buckets.
  static constexpr int sub_bits = 6;
  static constexpr uint64_t sub = uint64_t(1) << sub_bits;  // 64

  static std::size_t index_of(uint64_t v) {
    if (v < 2 * sub) return std::size_t(v);
    int e = std::bit_width(v) - 1 - sub_bits;  // v >> e is in [sub, 2*sub)
    return std::size_t(e) * sub + std::size_t(v >> e);
  }
  static uint64_t upper_bound_of(std::size_t i) {
    if (i < 2 * sub) return i;
    uint64_t e = i / sub - 1;
    uint64_t m = i % sub + sub;
    return ((m + 1) << e) - 1;
  }

  std::array<uint64_t, (64 - sub_bits) * sub + sub> _counts{};
  uint64_t _total = 0;
  uint64_t _sum = 0;
  uint64_t _max = 0;
  uint64_t _min = ~uint64_t(0);
};

}  // namespace tern::bench
