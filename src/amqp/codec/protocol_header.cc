#include "amqp/codec/protocol_header.h"

#include <algorithm>

namespace tern::amqp {

header_status check_protocol_header(bytes::byte_view first) {
  size_t n = std::min(first.size(), protocol_header.size());
  if (!std::equal(first.begin(), first.begin() + n, protocol_header.begin()))
    return header_status::wrong_protocol;
  return n == protocol_header.size() ? header_status::ok : header_status::need_more;
}

}  // namespace tern::amqp
