//===- FrameFuzzer.cpp - Fuzz target: the link's frame parser -------------===//
//
// The bytes (after the first) are what a hostile peer sends: they are
// written into one end of a socketpair, whose other end a plaintext Link
// adopts, exactly as mpc-run --local hands its sockets over. The receiver
// then performs a schedule of receives chosen by the first byte
// (recvFrameExact, recvFrame, recvFrameWords and exchangeFrames, with the
// protocol's frame kinds) until one fails. A malformed, truncated or
// unexpected frame must end in umbra::rt::Error, within the timeout; any
// other exception, a crash, a hang or a sanitizer report is a bug. Every
// accepted frame must be exactly the header and payload the peer sent.
//
//===----------------------------------------------------------------------===//
#include "umbra/runtime/net/Link.h"
#include "umbra/runtime/protocols/Channel.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

using namespace umbra::rt;

namespace {

/// Small enough for the socket buffer: written before the receiver starts.
constexpr size_t kMaxStream = 32 << 10;
constexpr size_t kHeader = 16;

void check(bool ok, const char *what) {
  if (!ok) {
    std::fprintf(stderr, "frame parser: %s\n", what);
    std::abort();
  }
}

/// Checks that an accepted frame is the next one of the stream.
void expectFrame(const uint8_t *stream, size_t size, size_t &off,
                 FrameKind kind, const uint8_t *payload, size_t len) {
  check(off + kHeader + len <= size, "accepted more bytes than were sent");
  uint32_t k;
  uint64_t l;
  std::memcpy(&k, stream + off + 4, 4);
  std::memcpy(&l, stream + off + 8, 8);
  check(k == kind, "accepted a frame of another kind");
  check(l == len, "accepted a frame of another length");
  check(len == 0 || std::memcmp(stream + off + kHeader, payload, len) == 0,
        "payload differs from what was sent");
  off += kHeader + len;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  const unsigned plan = data[0];
  const uint8_t *stream = data + 1;
  size = std::min(size - 1, kMaxStream);

  int sv[2];
  check(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair failed");
  for (size_t done = 0; done < size;) {
    ssize_t n = ::write(sv[1], stream + done, size - done);
    check(n > 0, "cannot fill the socket");
    done += size_t(n);
  }
  // End of stream after the peer's bytes: a truncated frame is an EOF,
  // never a wait.
  ::shutdown(sv[1], SHUT_WR);

  Link link("fuzz peer", 2.0, frameTypeName);
  link.adoptSocket(sv[0]);
  size_t off = 0;
  try {
    for (unsigned step = 0; step < 16; ++step) {
      FrameKind kind = 1 + (plan / 4 + step) % 7; // FrameType::Hello..Seed
      switch ((plan + step) % 4) {
      case 0: {
        uint8_t buf[16];
        link.recvFrameExact(kind, buf, sizeof buf);
        expectFrame(stream, size, off, kind, buf, sizeof buf);
        break;
      }
      case 1: {
        std::vector<uint8_t> v = link.recvFrame(kind, 4096);
        check(v.size() <= 4096, "frame longer than its limit");
        expectFrame(stream, size, off, kind, v.data(), v.size());
        break;
      }
      case 2: {
        std::vector<uint64_t> w;
        link.recvFrameWords(kind, w, 512);
        check(w.size() <= 512, "more words than the limit");
        expectFrame(stream, size, off, kind,
                    reinterpret_cast<const uint8_t *>(w.data()), w.size() * 8);
        break;
      }
      case 3: {
        uint64_t mine = 0x1122334455667788ull, theirs = 0;
        link.exchangeFrames(kind, &mine, 8, &theirs, 8);
        expectFrame(stream, size, off, kind,
                    reinterpret_cast<const uint8_t *>(&theirs), 8);
        break;
      }
      }
    }
  } catch (const Error &e) {
    if (std::getenv("UMBRA_FUZZ_VERBOSE"))
      std::fprintf(stderr, "refused: %s\n", e.what());
    // Refused or ended stream: the expected outcome.
  }
  check(link.stats.bytesRecv == off, "byte count differs from the frames");
  link.close();
  ::close(sv[1]);
  return 0;
}
