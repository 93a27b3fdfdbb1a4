#include "injector/process/signal_sender.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <string>

#include "common/process_table.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

namespace faultline::injector {
namespace {

class PidFd {
 public:
  explicit PidFd(pid_t pid) : fd_(static_cast<int>(syscall(SYS_pidfd_open, pid, 0))) {}
  ~PidFd() {
    if (fd_ >= 0) close(fd_);
  }
  PidFd(const PidFd&) = delete;
  PidFd& operator=(const PidFd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

Error gone(pid_t pid) {
  return make_error(ErrorCode::kNotFound,
                    "process " + std::to_string(pid) + " is gone (exited or PID reused)");
}

}  // namespace

Status send_signal_exact(pid_t pid, uint64_t start_time_ticks, int signal) {
  PidFd fd(pid);
  if (fd.get() < 0 && errno == ESRCH) return gone(pid);
  // Checked after pinning: if the start time still matches now, the pidfd refers to the
  // process we selected and cannot be recycled under us.
  if (!same_process_alive(pid, start_time_ticks)) return gone(pid);
  long rc = fd.get() >= 0 ? syscall(SYS_pidfd_send_signal, fd.get(), signal, nullptr, 0)
                          : kill(pid, signal);
  if (rc != 0) {
    if (errno == ESRCH) return gone(pid);
    return make_error(errno == EPERM ? ErrorCode::kPermissionDenied : ErrorCode::kInternal,
                      "signal " + std::to_string(signal) + " to pid " + std::to_string(pid) +
                          " failed: " + std::strerror(errno));
  }
  return Ok{};
}

}  // namespace faultline::injector
