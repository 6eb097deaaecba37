//===- Relay.h - A TCP relay that records every byte (tests) ---*- C++ -*-===//
//
// Stands between the roles as a passive observer of the network would: it
// forwards each connection made to its port to the target port on
// loopback and keeps a copy of every byte in both directions.
//
//===----------------------------------------------------------------------===//
#pragma once
#include <arpa/inet.h>
#include <atomic>
#include <chrono>
#include <cstring>
#include <map>
#include <mutex>
#include <netinet/in.h>
#include <poll.h>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace umbra::rt::test {

/// A TCP socket on 127.0.0.1: listening on an ephemeral port, or connected
/// to `port` (-1 when that fails).
inline int loopbackSocket(bool listen, uint16_t port = 0) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  int ok = listen ? bind(fd, reinterpret_cast<sockaddr *>(&a), sizeof a) ||
                        ::listen(fd, 16)
                  : connect(fd, reinterpret_cast<sockaddr *>(&a), sizeof a);
  if (ok != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

class Relay {
public:
  explicit Relay(uint16_t target) : target_(target) {
    lfd_ = loopbackSocket(true);
    sockaddr_in a{};
    socklen_t n = sizeof a;
    getsockname(lfd_, reinterpret_cast<sockaddr *>(&a), &n);
    port_ = ntohs(a.sin_port);
    th_ = std::thread([this] { loop(); });
  }
  ~Relay() {
    stop_ = true;
    th_.join();
    close(lfd_);
    for (auto &[fd, peer] : peers_)
      close(fd);
  }
  uint16_t port() const { return port_; }
  /// Every byte forwarded so far, all connections and directions.
  std::string recorded() {
    std::lock_guard<std::mutex> g(m_);
    return rec_;
  }

private:
  void loop() {
    std::vector<char> buf(1 << 16);
    while (!stop_) {
      std::vector<pollfd> fds{{lfd_, POLLIN, 0}};
      for (auto &[fd, peer] : peers_)
        fds.push_back({fd, POLLIN, 0});
      if (poll(fds.data(), fds.size(), 50) <= 0)
        continue;
      if (fds[0].revents & POLLIN) {
        int c = accept(lfd_, nullptr, nullptr);
        int t = -1;
        // The target may not listen yet: retry for a while.
        for (int i = 0; i < 100 && t < 0; ++i)
          if ((t = loopbackSocket(false, target_)) < 0)
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        if (t < 0) {
          close(c);
        } else {
          peers_[c] = t;
          peers_[t] = c;
        }
      }
      for (size_t i = 1; i < fds.size(); ++i) {
        if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
          continue;
        int fd = fds[i].fd;
        auto it = peers_.find(fd);
        if (it == peers_.end())
          continue;
        ssize_t n = read(fd, buf.data(), buf.size());
        if (n <= 0) {
          // One side is done: pass the end on and forget the pair.
          int other = it->second;
          shutdown(other, SHUT_WR);
          close(fd);
          peers_.erase(fd);
          if (peers_.count(other) && peers_[other] == fd) {
            close(other);
            peers_.erase(other);
          }
          continue;
        }
        {
          std::lock_guard<std::mutex> g(m_);
          rec_.append(buf.data(), size_t(n));
        }
        for (ssize_t off = 0; off < n;) {
          ssize_t w = send(it->second, buf.data() + off, size_t(n - off),
                           MSG_NOSIGNAL);
          if (w <= 0)
            break;
          off += w;
        }
      }
    }
  }
  uint16_t target_, port_ = 0;
  int lfd_ = -1;
  std::atomic<bool> stop_{false};
  std::thread th_;
  std::map<int, int> peers_;
  std::mutex m_;
  std::string rec_;
};

} // namespace umbra::rt::test
