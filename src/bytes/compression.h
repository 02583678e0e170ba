#pragma once
// Kafka's record-batch compression codecs. Decompression is always bounded by `max_output`
// so that a small compressed payload cannot expand into unbounded memory (compression bombs).
//
// Formats, as Kafka clients write them:
//  - gzip: RFC 1952 stream(s).
//  - snappy: either raw snappy (librdkafka) or snappy-java's "xerial" framing
//    (magic "\x82SNAPPY\0", two int32 versions, then [int32 length][raw block]...) which
//    kafka-python and the Java client write. Both are accepted; we compress to xerial framing
//    since every client reads it.
//  - lz4: the LZ4 frame format (Kafka >= 0.10 with correct header checksum).
//  - zstd: zstd frames, possibly without a content size.

#include <cstdint>
#include <system_error>

#include "base/result.h"
#include "bytes/buffer.h"

namespace tern::bytes {

enum class compression : uint8_t { none = 0, gzip = 1, snappy = 2, lz4 = 3, zstd = 4 };

enum class compression_errc {
  unknown_codec = 1,
  corrupt_input,
  output_too_large,
  codec_failure,
};
const std::error_category& compression_category();
inline std::error_code make_error_code(compression_errc e) {
  return {static_cast<int>(e), compression_category()};
}

// Appends the decompressed form of `in` to `out`. Fails with output_too_large as soon as more
// than `max_output` bytes would be produced.
result<void> decompress(compression codec, byte_view in, size_t max_output, buffer& out);

// Appends the compressed form of `in` to `out`.
result<void> compress(compression codec, byte_view in, buffer& out);

}  // namespace tern::bytes

template <>
struct std::is_error_code_enum<tern::bytes::compression_errc> : true_type {};
