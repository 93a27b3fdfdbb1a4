#include "common/socket_wait.h"

#include <poll.h>

#include <cerrno>

namespace faultline {

bool wait_ready(int fd, short events, SocketDeadline deadline) {
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, events, 0};
    int n = ::poll(&p, 1, static_cast<int>(left.count()));
    if (n > 0) return true;
    if (n < 0 && errno != EINTR) return false;
  }
}

int connect_by(int fd, const sockaddr* addr, socklen_t len, SocketDeadline deadline) {
  if (::connect(fd, addr, len) == 0) return 0;
  if (errno != EINPROGRESS && !(errno == EAGAIN && addr->sa_family == AF_UNIX)) return errno;
  if (!wait_ready(fd, POLLOUT, deadline)) return ETIMEDOUT;
  int err = 0;
  socklen_t err_len = sizeof err;
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &err_len) != 0) return errno;
  return err;
}

}  // namespace faultline
