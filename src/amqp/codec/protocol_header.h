#pragma once
// The 8 bytes a client sends before its first frame: "AMQP" 0 0 9 1 (AMQP 0-9-1).
//
// A server that receives anything else must answer with the header it does speak
// (protocol_header) and close the socket; that is how a client of another version learns what
// to retry with. Frames start right after the 8 bytes.

#include <array>
#include <cstdint>

#include "bytes/buffer.h"

namespace tern::amqp {

inline constexpr std::array<uint8_t, 8> protocol_header = {'A', 'M', 'Q', 'P', 0, 0, 9, 1};

enum class header_status {
  ok,              // the first 8 bytes are the 0-9-1 header
  need_more,       // fewer than 8 bytes, all matching so far
  wrong_protocol,  // reply with protocol_header and close (already decidable on a prefix)
};

// Looks at the first bytes a client sent (any number; only the first 8 count). Decides
// wrong_protocol as soon as one byte differs, so an HTTP request or a TLS hello sent to the
// AMQP port is answered without waiting for more.
header_status check_protocol_header(bytes::byte_view first);

}  // namespace tern::amqp
