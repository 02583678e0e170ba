#pragma once
// Writes a chunked_buffer to a TCP socket: owned runs with writev (scatter-gather), file
// ranges with sendfile(2), so record data goes from the page cache to the socket without a
// copy through user space.

#include "bytes/chunked_buffer.h"
#include "net/asio.h"

namespace tern::net {

awaitable<error_code> write_chunks(tcp::socket& socket, const bytes::chunked_buffer& data);

}  // namespace tern::net
