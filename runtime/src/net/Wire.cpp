//===- Wire.cpp - Bytes on the wire from the kernel -----------------------===//
//
// Apart from Link.cpp because <linux/tcp.h> (whose tcp_info has the byte
// counters) clashes with <netinet/tcp.h>, which asio includes.
//
//===----------------------------------------------------------------------===//
#include "umbra/runtime/net/Link.h"

#include <cstddef>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/socket.h>

namespace umbra::rt {

/// Bytes acknowledged by the peer and bytes received on a TCP socket
/// (zero when the kernel does not say).
WireStats tcpWireStats(int fd) {
  struct tcp_info ti {};
  socklen_t n = sizeof ti;
  WireStats w;
  if (fd >= 0 && getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &n) == 0 &&
      n >= offsetof(struct tcp_info, tcpi_bytes_received) + 8) {
    w.sent = ti.tcpi_bytes_acked;
    w.recv = ti.tcpi_bytes_received;
  }
  return w;
}

} // namespace umbra::rt
