#include "bytes/compression.h"

#include <cstring>
#include <memory>
#include <string>

#include <lz4frame.h>
#include <snappy.h>
#include <zlib.h>
#include <zstd.h>

namespace tern::bytes {
namespace {

class compression_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "compression"; }
  std::string message(int c) const override {
    switch (static_cast<compression_errc>(c)) {
      case compression_errc::unknown_codec: return "unknown compression codec";
      case compression_errc::corrupt_input: return "corrupt compressed data";
      case compression_errc::output_too_large: return "decompressed data exceeds the limit";
      case compression_errc::codec_failure: return "compression library failure";
    }
    return "unknown compression error";
  }
};

constexpr size_t kChunk = 64 * 1024;

// Grows `out` by up to kChunk, never past base + max_output + 1 (the +1 lets callers detect
// "more output than allowed" without producing it all).
size_t grow(buffer& out, size_t base, size_t max_output) {
  size_t produced = out.size() - base;
  size_t room = max_output + 1 - produced;
  size_t step = room < kChunk ? room : kChunk;
  out.resize(out.size() + step);
  return step;
}

result<void> gunzip(byte_view in, size_t max_output, buffer& out) {
  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) return compression_errc::codec_failure;
  std::unique_ptr<z_stream, decltype(&inflateEnd)> guard(&zs, inflateEnd);
  const size_t base = out.size();
  zs.next_in = const_cast<Bytef*>(in.data());
  zs.avail_in = static_cast<uInt>(in.size());
  while (true) {
    size_t step = grow(out, base, max_output);
    zs.next_out = out.data() + out.size() - step;
    zs.avail_out = static_cast<uInt>(step);
    int rc = inflate(&zs, Z_NO_FLUSH);
    out.resize(out.size() - zs.avail_out);
    if (out.size() - base > max_output) return compression_errc::output_too_large;
    if (rc == Z_STREAM_END) {
      if (zs.avail_in == 0) return ok();
      // Concatenated gzip members are legal; continue with the next one.
      if (inflateReset(&zs) != Z_OK) return compression_errc::corrupt_input;
      continue;
    }
    if (rc == Z_BUF_ERROR && zs.avail_in == 0) return compression_errc::corrupt_input;
    if (rc != Z_OK && rc != Z_BUF_ERROR) return compression_errc::corrupt_input;
  }
}

result<void> gzip(byte_view in, buffer& out) {
  z_stream zs{};
  if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8,
                   Z_DEFAULT_STRATEGY) != Z_OK)
    return compression_errc::codec_failure;
  std::unique_ptr<z_stream, decltype(&deflateEnd)> guard(&zs, deflateEnd);
  size_t bound = deflateBound(&zs, in.size());
  size_t base = out.size();
  out.resize(base + bound);
  zs.next_in = const_cast<Bytef*>(in.data());
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = out.data() + base;
  zs.avail_out = static_cast<uInt>(bound);
  if (deflate(&zs, Z_FINISH) != Z_STREAM_END) return compression_errc::codec_failure;
  out.resize(base + zs.total_out);
  return ok();
}

constexpr uint8_t kXerialMagic[8] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0};

result<void> snappy_raw_block(byte_view in, size_t max_output, size_t base, buffer& out) {
  size_t len = 0;
  auto* src = reinterpret_cast<const char*>(in.data());
  if (!snappy::GetUncompressedLength(src, in.size(), &len)) return compression_errc::corrupt_input;
  if (out.size() - base + len > max_output) return compression_errc::output_too_large;
  size_t at = out.size();
  out.resize(at + len);
  if (!snappy::RawUncompress(src, in.size(), reinterpret_cast<char*>(out.data() + at)))
    return compression_errc::corrupt_input;
  return ok();
}

result<void> unsnappy(byte_view in, size_t max_output, buffer& out) {
  const size_t base = out.size();
  if (in.size() >= 16 && std::memcmp(in.data(), kXerialMagic, 8) == 0) {
    byte_reader r(in.subspan(16));  // skip magic + version + compatible version
    while (!r.empty()) {
      int32_t n = r.i32();
      if (!r.ok() || n < 0 || size_t(n) > r.remaining()) return compression_errc::corrupt_input;
      TERN_TRY(snappy_raw_block(r.bytes(size_t(n)), max_output, base, out));
    }
    return ok();
  }
  return snappy_raw_block(in, max_output, base, out);
}

result<void> snappy_xerial(byte_view in, buffer& out) {
  byte_writer w(out);
  w.bytes(byte_view(kXerialMagic, 8));
  w.i32(1);
  w.i32(1);
  constexpr size_t kBlock = 32 * 1024;
  for (size_t at = 0; at < in.size(); at += kBlock) {
    size_t n = std::min(kBlock, in.size() - at);
    size_t len_at = w.placeholder<int32_t>();
    size_t body = out.size();
    out.resize(body + snappy::MaxCompressedLength(n));
    size_t written = 0;
    snappy::RawCompress(reinterpret_cast<const char*>(in.data() + at), n,
                        reinterpret_cast<char*>(out.data() + body), &written);
    out.resize(body + written);
    w.patch_be<int32_t>(len_at, static_cast<int32_t>(written));
  }
  return ok();
}

result<void> unlz4(byte_view in, size_t max_output, buffer& out) {
  LZ4F_dctx* ctx = nullptr;
  if (LZ4F_isError(LZ4F_createDecompressionContext(&ctx, LZ4F_VERSION)))
    return compression_errc::codec_failure;
  std::unique_ptr<LZ4F_dctx, decltype(&LZ4F_freeDecompressionContext)> guard(
      ctx, LZ4F_freeDecompressionContext);
  const size_t base = out.size();
  const uint8_t* src = in.data();
  size_t left = in.size();
  while (true) {
    size_t step = grow(out, base, max_output);
    size_t dst_size = step;
    size_t src_size = left;
    size_t hint = LZ4F_decompress(ctx, out.data() + out.size() - step, &dst_size, src, &src_size,
                                  nullptr);
    out.resize(out.size() - step + dst_size);
    if (LZ4F_isError(hint)) return compression_errc::corrupt_input;
    if (out.size() - base > max_output) return compression_errc::output_too_large;
    src += src_size;
    left -= src_size;
    if (hint == 0) {
      if (left == 0) return ok();
      continue;  // another frame follows
    }
    if (left == 0 && dst_size == 0) return compression_errc::corrupt_input;  // truncated
  }
}

result<void> lz4(byte_view in, buffer& out) {
  LZ4F_preferences_t prefs{};
  prefs.frameInfo.blockMode = LZ4F_blockIndependent;
  size_t bound = LZ4F_compressFrameBound(in.size(), &prefs);
  size_t base = out.size();
  out.resize(base + bound);
  size_t n = LZ4F_compressFrame(out.data() + base, bound, in.data(), in.size(), &prefs);
  if (LZ4F_isError(n)) return compression_errc::codec_failure;
  out.resize(base + n);
  return ok();
}

result<void> unzstd(byte_view in, size_t max_output, buffer& out) {
  std::unique_ptr<ZSTD_DStream, decltype(&ZSTD_freeDStream)> ds(ZSTD_createDStream(),
                                                                 ZSTD_freeDStream);
  if (!ds) return compression_errc::codec_failure;
  ZSTD_initDStream(ds.get());
  const size_t base = out.size();
  ZSTD_inBuffer ib{in.data(), in.size(), 0};
  size_t last = 1;
  while (true) {
    size_t step = grow(out, base, max_output);
    ZSTD_outBuffer ob{out.data() + out.size() - step, step, 0};
    last = ZSTD_decompressStream(ds.get(), &ob, &ib);
    out.resize(out.size() - step + ob.pos);
    if (ZSTD_isError(last)) return compression_errc::corrupt_input;
    if (out.size() - base > max_output) return compression_errc::output_too_large;
    if (ib.pos == ib.size && ob.pos < step) {
      return last == 0 ? ok() : result<void>(compression_errc::corrupt_input);
    }
  }
}

result<void> zstd(byte_view in, buffer& out) {
  size_t bound = ZSTD_compressBound(in.size());
  size_t base = out.size();
  out.resize(base + bound);
  size_t n = ZSTD_compress(out.data() + base, bound, in.data(), in.size(), 3);
  if (ZSTD_isError(n)) return compression_errc::codec_failure;
  out.resize(base + n);
  return ok();
}

}  // namespace

const std::error_category& compression_category() {
  static compression_category_impl c;
  return c;
}

result<void> decompress(compression codec, byte_view in, size_t max_output, buffer& out) {
  switch (codec) {
    case compression::none:
      if (in.size() > max_output) return compression_errc::output_too_large;
      out.insert(out.end(), in.begin(), in.end());
      return ok();
    case compression::gzip: return gunzip(in, max_output, out);
    case compression::snappy: return unsnappy(in, max_output, out);
    case compression::lz4: return unlz4(in, max_output, out);
    case compression::zstd: return unzstd(in, max_output, out);
  }
  return compression_errc::unknown_codec;
}

result<void> compress(compression codec, byte_view in, buffer& out) {
  switch (codec) {
    case compression::none: out.insert(out.end(), in.begin(), in.end()); return ok();
    case compression::gzip: return gzip(in, out);
    case compression::snappy: return snappy_xerial(in, out);
    case compression::lz4: return lz4(in, out);
    case compression::zstd: return zstd(in, out);
  }
  return compression_errc::unknown_codec;
}

}  // namespace tern::bytes
