//===- Channel.cpp - Protocol message kinds -------------------------------===//
#include "umbra/runtime/protocols/Channel.h"
#include "umbra/runtime/EnumName.h"

#include <iterator>

namespace umbra::rt {

const char *frameTypeName(FrameKind t) {
  static const char *const kNames[] = {"hello", "open",  "material", "share",
                                       "reveal", "done", "seed",
                                       "keep-alive"};
  static_assert(std::size(kNames) ==
                size_t(FrameType::Alive) - size_t(FrameType::Hello) + 1);
  // Kinds start at Hello; 0 wraps past the table like any unknown kind.
  return enumName(kNames, size_t(t) - size_t(FrameType::Hello), nullptr);
}

std::unique_ptr<Channel> Channel::connect(const Endpoint &ep,
                                          double deadlineSec,
                                          const std::string &peer,
                                          double timeoutSec) {
  std::unique_ptr<Channel> c(new Channel(peer, timeoutSec));
  c->connectTo(ep, deadlineSec);
  return c;
}

std::unique_ptr<Channel> Channel::adopt(int fd, const std::string &peer,
                                        double timeoutSec) {
  std::unique_ptr<Channel> c(new Channel(peer, timeoutSec));
  c->adoptSocket(fd);
  return c;
}

} // namespace umbra::rt
