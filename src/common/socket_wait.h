// Waiting on a socket against a deadline: the non-blocking connect every client of ours does
// (probes, the container engines' HTTP client, the TCP fault proxy), and the poll behind it.
#pragma once

#include <sys/socket.h>

#include <chrono>

namespace faultline {

using SocketDeadline = std::chrono::steady_clock::time_point;

// Whether `events` came on `fd` before the deadline (EINTR is waited through).
bool wait_ready(int fd, short events, SocketDeadline deadline);

// Connects the non-blocking socket `fd` to `addr` by the deadline. 0 once connected, else the
// errno that says why (ETIMEDOUT when the deadline came first). A unix socket whose listener's
// backlog is full (EAGAIN) is waited for like a TCP connect in progress.
int connect_by(int fd, const sockaddr* addr, socklen_t len, SocketDeadline deadline);

}  // namespace faultline
