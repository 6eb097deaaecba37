//===- Channel.cpp - Protocol message kinds -------------------------------===//
#include "umbra/runtime/protocols/Channel.h"

namespace umbra::rt {

const char *frameTypeName(FrameKind t) {
  switch (FrameType(t)) {
  case FrameType::Hello:
    return "hello";
  case FrameType::Open:
    return "open";
  case FrameType::Material:
    return "material";
  case FrameType::Share:
    return "share";
  case FrameType::Reveal:
    return "reveal";
  case FrameType::Done:
    return "done";
  case FrameType::Seed:
    return "seed";
  }
  return nullptr;
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
