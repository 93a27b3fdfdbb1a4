#include "injector/intercept/socket_io.h"

#include <sys/socket.h>

#include <cerrno>
#include <random>

namespace faultline::injector::intercept {

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

bool read_some(int fd, std::string& buf) {
  char chunk[64 * 1024];
  for (;;) {
    ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    buf.append(chunk, static_cast<size_t>(n));
    return true;
  }
}

uint64_t jittered_us(uint64_t delay_us, uint64_t jitter_us) {
  if (jitter_us == 0) return delay_us;
  thread_local std::mt19937_64 rng{std::random_device{}()};
  double d = static_cast<double>(delay_us) +
             std::uniform_real_distribution<double>(-1, 1)(rng) * static_cast<double>(jitter_us);
  return d <= 0 ? 0 : static_cast<uint64_t>(d);
}

}  // namespace faultline::injector::intercept
