#include "injector/intercept/interceptor_process.h"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "common/process_table.h"

namespace faultline::injector::intercept {

namespace {

constexpr auto kStartTimeout = std::chrono::seconds(5);
constexpr size_t kMaxReport = 64 * 1024;

bool executable(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & S_IXUSR);
}

}  // namespace

std::string interceptor_executable() {
  char self[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (n > 0) {
    std::string dir(self, static_cast<size_t>(n));
    dir = dir.substr(0, dir.rfind('/'));
    if (executable(dir + "/faultline-intercept")) return dir + "/faultline-intercept";
  }
#ifdef FAULTLINE_INTERCEPT_BUILD_PATH
  if (executable(FAULTLINE_INTERCEPT_BUILD_PATH)) return FAULTLINE_INTERCEPT_BUILD_PATH;
#endif
  return "";
}

Result<std::unique_ptr<InterceptorProcess>> InterceptorProcess::start(
    const std::string& netns, const pb::InterceptorStart& what) {
  std::string exe = interceptor_executable();
  if (exe.empty())
    return make_error(ErrorCode::kNotFound,
                      "faultline-intercept is not installed beside this program");
  UniqueFd ns;
  if (!netns.empty()) {
    ns = UniqueFd(::open(netns.c_str(), O_RDONLY | O_CLOEXEC));
    if (!ns)
      return make_error(ErrorCode::kNotFound,
                        "network namespace " + netns + ": " + strerror(errno));
  }
  // One socket pair for both directions: unlike a pipe, writing to a helper that died is an
  // error (MSG_NOSIGNAL), not a SIGPIPE for the whole injector.
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0)
    return make_error(ErrorCode::kInternal, std::string("socketpair: ") + strerror(errno));
  std::unique_ptr<InterceptorProcess> p(new InterceptorProcess());
  p->link_ = UniqueFd(pair[0]);
  UniqueFd child_end(pair[1]);
  const char* argv[] = {"faultline-intercept", nullptr};
  // Built before fork: the child may only make async-signal-safe calls.
  const char* lock = std::getenv("XTABLES_LOCKFILE");
  std::string lock_env = lock && *lock ? std::string("XTABLES_LOCKFILE=") + lock : "";
  const char* envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin",
                        lock_env.empty() ? nullptr : lock_env.c_str(), nullptr};
  pid_t pid = ::fork();
  if (pid < 0) return make_error(ErrorCode::kInternal, std::string("fork: ") + strerror(errno));
  if (pid == 0) {
    // Only async-signal-safe calls from here to exec: the parent has threads.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    if (ns && ::setns(ns.get(), CLONE_NEWNET) != 0) _exit(126);
    if (::dup2(child_end.get(), STDIN_FILENO) < 0 || ::dup2(child_end.get(), STDOUT_FILENO) < 0)
      _exit(126);
    ::fcntl(STDIN_FILENO, F_SETFD, 0);  // dup2 onto itself would keep close-on-exec
    ::fcntl(STDOUT_FILENO, F_SETFD, 0);
    // Nothing else of this process goes along: no descriptor someone opened without
    // close-on-exec, no environment but where iptables' lock is.
    ::syscall(SYS_close_range, 3u, ~0u, 0u);
    ::execve(exe.c_str(), const_cast<char* const*>(argv), const_cast<char* const*>(envp));
    _exit(127);
  }
  p->pid_ = pid;
  if (auto info = read_process(pid)) p->ticks_ = info->start_time_ticks;
  child_end.reset();
  pb::InterceptorControl msg;
  *msg.mutable_start() = what;
  if (Status s = p->send(msg); !s) return s.error();
  auto first = p->receive(std::chrono::duration_cast<std::chrono::milliseconds>(kStartTimeout));
  if (!first) return first.error();
  if (!first->error().empty())
    return make_error(ErrorCode::kInternal, "faultline-intercept: " + first->error());
  p->port_ = static_cast<uint16_t>(first->port());
  p->first_ = *first;
  return p;
}

InterceptorProcess::~InterceptorProcess() {
  unwatch();
  kill_and_reap();
}

void InterceptorProcess::watch(std::function<void()> died) {
  pidfd_ = UniqueFd(static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0)));
  unwatch_ = UniqueFd(::eventfd(0, EFD_CLOEXEC));
  if (!pidfd_ || !unwatch_) return;
  watcher_ = std::thread([this, died = std::move(died)] {
    pollfd fds[2] = {{pidfd_.get(), POLLIN, 0}, {unwatch_.get(), POLLIN, 0}};
    while (::poll(fds, 2, -1) < 0 && errno == EINTR) {
    }
    if (fds[0].revents & POLLIN && !(fds[1].revents & POLLIN)) died();
  });
}

void InterceptorProcess::unwatch() {
  if (!watcher_.joinable()) return;
  uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(unwatch_.get(), &one, sizeof one);
  watcher_.join();
}

void InterceptorProcess::kill_and_reap() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

Status InterceptorProcess::send(const pb::InterceptorControl& msg) {
  std::string body = msg.SerializeAsString();
  std::string frame;
  for (size_t n = body.size();; n >>= 7) {  // the varint length prefix of delimited messages
    frame.push_back(static_cast<char>((n & 0x7F) | (n >= 0x80 ? 0x80 : 0)));
    if (n < 0x80) break;
  }
  frame += body;
  std::string_view left = frame;
  while (!left.empty()) {
    ssize_t n = ::send(link_.get(), left.data(), left.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return make_error(ErrorCode::kInternal, "faultline-intercept is gone");
    left.remove_prefix(static_cast<size_t>(n));
  }
  return Ok{};
}

Result<pb::InterceptorReport> InterceptorProcess::receive(std::chrono::milliseconds timeout) {
  auto until = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    // A complete frame buffered?
    size_t len = 0, at = 0;
    int shift = 0;
    bool have_len = false;
    while (at < buffered_.size()) {
      if (shift >= 35)
        return make_error(ErrorCode::kInternal, "faultline-intercept sent a bad frame length");
      auto b = static_cast<unsigned char>(buffered_[at++]);
      len |= static_cast<size_t>(b & 0x7F) << shift;
      shift += 7;
      if (!(b & 0x80)) {
        have_len = true;
        break;
      }
    }
    if (have_len && len > kMaxReport)
      return make_error(ErrorCode::kInternal, "faultline-intercept sent an oversized report");
    if (have_len && buffered_.size() - at >= len) {
      pb::InterceptorReport r;
      bool ok = r.ParseFromArray(buffered_.data() + at, static_cast<int>(len));
      buffered_.erase(0, at + len);
      if (!ok) return make_error(ErrorCode::kInternal, "faultline-intercept sent a bad report");
      return r;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        until - std::chrono::steady_clock::now());
    if (left.count() <= 0)
      return make_error(ErrorCode::kInternal, "faultline-intercept did not answer in time");
    pollfd p{link_.get(), POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) continue;
    char chunk[4096];
    ssize_t n = ::recv(link_.get(), chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return make_error(ErrorCode::kInternal, "faultline-intercept exited");
    buffered_.append(chunk, static_cast<size_t>(n));
  }
}

Status InterceptorProcess::send_rules(const pb::NetworkInstall& install, bool installed) {
  pb::InterceptorControl msg;
  *msg.mutable_rules()->mutable_install() = install;
  msg.mutable_rules()->set_installed(installed);
  if (Status s = send(msg); !s) return s;
  if (installed) return Ok{};
  // Before the rules go in, the helper lists the connections they will not catch; it answers
  // once it has, so that no connection made through the rules can be among them.
  auto ack = receive(std::chrono::duration_cast<std::chrono::milliseconds>(kStartTimeout));
  if (!ack) return ack.error();
  return Ok{};
}

Result<pb::InterceptorReport> InterceptorProcess::report(std::chrono::milliseconds timeout) {
  pb::InterceptorControl msg;
  msg.set_report(true);
  if (Status s = send(msg); !s) return s.error();
  return receive(timeout);
}

Result<pb::InterceptorReport> InterceptorProcess::stop(std::chrono::milliseconds timeout) {
  unwatch();  // its exit from here on is expected
  pb::InterceptorControl msg;
  msg.set_stop(true);
  Result<pb::InterceptorReport> last = make_error(ErrorCode::kInternal, "no final report");
  const auto until = std::chrono::steady_clock::now() + timeout;
  if (Status s = send(msg); s) {
    for (;;) {  // reports asked for earlier may still be on their way: the final one counts
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          until - std::chrono::steady_clock::now());
      last = receive(std::max(left, std::chrono::milliseconds(1)));
      if (!last || last->final()) break;
    }
  }
  link_.reset();
  // It exits right after its final report; one that does not within a second is killed.
  for (int i = 0; last && i < 100; ++i) {
    if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
      pid_ = -1;
      return last;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill_and_reap();
  return last;
}

void kill_orphaned_interceptor(pid_t pid, uint64_t start_time_ticks) {
  if (pid <= 0 || !same_process_alive(pid, start_time_ticks)) return;
  // Through a pidfd: the pid cannot be reused between the check and the signal.
  int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0) return;
  if (same_process_alive(pid, start_time_ticks))
    ::syscall(SYS_pidfd_send_signal, fd, SIGKILL, nullptr, 0);
  ::close(fd);
}

}  // namespace faultline::injector::intercept
