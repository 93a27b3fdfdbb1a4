#include "injector/hardware/cgroup_worker.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/log.h"
#include "injector/mount_table.h"
#include "injector/process/cgroup_freezer.h"

namespace faultline::injector {
namespace {

constexpr int64_t kPeriodNs = 100'000'000;  // the duty cycle's period, as in-process stress
constexpr int64_t kJoinFailed = 1'000'000;  // status = -(file index * kJoinFailed + errno)

// Everything below until start() runs in the forked child: system calls only.

int64_t now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

void put(int fd, int64_t v) {
  ssize_t r;
  do r = write(fd, &v, sizeof v);
  while (r < 0 && errno == EINTR);
}

void close_all_but(int a, int b) {
  if (a > b) std::swap(a, b);
  if (a > 3) close_range(3, static_cast<unsigned>(a - 1), 0);
  if (b > a + 1) close_range(static_cast<unsigned>(a + 1), static_cast<unsigned>(b - 1), 0);
  close_range(static_cast<unsigned>(b + 1), ~0u, 0);
}

// The forking thread's signal mask and handlers are the injector's: put back the defaults, so
// the container runtime's SIGTERM/SIGKILL act on the worker as on any process of the container.
void default_signals() {
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int s = 1; s < NSIG; ++s)
    if (s != SIGKILL && s != SIGSTOP) sigaction(s, &dfl, nullptr);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
}

[[noreturn]] void spin(int control, int64_t busy_ns) {
  int64_t start = now_ns();
  for (;;) {
    while (now_ns() - start < busy_ns) {
    }
    start += kPeriodNs;
    int64_t rest = start - now_ns();
    if (rest < 0) {  // fell behind: do not burst
      start = now_ns();
      rest = 0;
    }
    pollfd p{control, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(rest / 1'000'000)) > 0) {
      char b[64];
      if (read(control, b, sizeof b) <= 0) _exit(0);  // the injector closed it, or died
    }
  }
}

[[noreturn]] void hold(int control, int status, long page) {
  uint64_t held = 0;
  for (;;) {
    uint64_t want = 0;
    ssize_t r = read(control, &want, sizeof want);
    if (r < 0 && errno == EINTR) continue;
    if (r != static_cast<ssize_t>(sizeof want)) _exit(0);
    void* p = mmap(nullptr, want, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
      put(status, -errno);
      continue;
    }
    // Touch every page: resident, and charged to the memory cgroup now.
    for (uint64_t off = 0; off < want; off += static_cast<uint64_t>(page))
      static_cast<volatile char*>(p)[off] = 1;
    held += want;
    put(status, static_cast<int64_t>(held));
  }
}

[[noreturn]] void child(int control, int status, const std::vector<const char*>& procs,
                        CgroupWorker::Job job, int64_t busy_ns, long page) {
  close_all_but(control, status);
  default_signals();
  for (size_t i = 0; i < procs.size(); ++i) {
    // "0" moves the writer itself: the child needs no PID from anyone.
    int fd = open(procs[i], O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, "0", 1) != 1) {
      put(status, -(static_cast<int64_t>(i) * kJoinFailed + errno));
      _exit(1);
    }
    close(fd);
  }
  put(status, 0);
  if (job == CgroupWorker::Job::kSpin) spin(control, busy_ns);
  hold(control, status, page);
}

// Reads one answer from the child, waiting up to `timeout`; kUnavailable when it died.
Result<int64_t> answer(int fd, std::chrono::milliseconds timeout) {
  pollfd p{fd, POLLIN, 0};
  int r;
  do r = poll(&p, 1, static_cast<int>(timeout.count()));
  while (r < 0 && errno == EINTR);
  if (r == 0) return make_error(ErrorCode::kUnavailable, "the stress worker did not answer");
  int64_t v = 0;
  ssize_t n;
  do n = read(fd, &v, sizeof v);
  while (n < 0 && errno == EINTR);
  if (n != static_cast<ssize_t>(sizeof v))
    return make_error(ErrorCode::kUnavailable, "the stress worker is gone");
  return v;
}

// The memory cgroup's count of OOM kills (v1: memory.oom_control, v2: memory.events).
uint64_t oom_kills(const std::string& memory_dir) {
  for (const char* file : {"/memory.events", "/memory.oom_control"}) {
    std::ifstream in(memory_dir + file);
    std::string key;
    uint64_t n = 0;
    while (in >> key >> n)
      if (key == "oom_kill") return n;
  }
  return 0;
}

}  // namespace

Result<CgroupPlacement> placement_of(const std::string& cgroup) {
  if (cgroup.empty() || cgroup == "/" || cgroup.find("..") != std::string::npos)
    return make_error(ErrorCode::kInvalidArgument,
                      "\"" + cgroup +
                          "\" is not a container's cgroup (a stress there would be "
                          "the node's)");
  CgroupPlacement out;
  out.cgroup = cgroup;
  for (const auto& m : read_mounts()) {
    if (m.fstype != "cgroup" && m.fstype != "cgroup2") continue;
    std::string dir = cgroup_dir(m.point, cgroup);
    if (access((dir + "/cgroup.procs").c_str(), W_OK) != 0) continue;
    std::string controllers = "," + m.options + ",";
    if (m.fstype == "cgroup2") {
      std::ifstream in(dir + "/cgroup.controllers");
      std::string list;
      std::getline(in, list);
      controllers = "," + list + ",";
      for (char& c : controllers)
        if (c == ' ') c = ',';
    }
    out.has_cpu |= controllers.find(",cpu,") != std::string::npos;
    if (controllers.find(",memory,") != std::string::npos) {
      out.has_memory = true;
      if (out.memory_dir.empty()) out.memory_dir = dir;
    }
    out.procs_files.push_back(dir + "/cgroup.procs");
  }
  if (out.procs_files.empty())
    return make_error(ErrorCode::kNotFound, "no cgroup hierarchy has " + cgroup);
  return out;
}

Result<std::unique_ptr<CgroupWorker>> CgroupWorker::start(const CgroupPlacement& where, Job job,
                                                          double load) {
  if (job == Job::kSpin && !where.has_cpu)
    return make_error(ErrorCode::kFailedPrecondition, "no cpu controller holds " + where.cgroup +
                                                          ": the CPU time could not be "
                                                          "charged to the container");
  if (job == Job::kHold && !where.has_memory)
    return make_error(ErrorCode::kFailedPrecondition,
                      "no memory controller holds " + where.cgroup +
                          ": the memory could not be charged to the container");
  // Everything the child needs is made before the fork: after it, no allocation.
  std::vector<const char*> procs;
  for (const auto& f : where.procs_files) procs.push_back(f.c_str());
  auto busy_ns = static_cast<int64_t>(static_cast<double>(kPeriodNs) * std::clamp(load, 0.0, 1.0));
  long page = sysconf(_SC_PAGESIZE);
  // The control channel is a socket pair, not a pipe: writing to a worker its container's OOM
  // killer has just killed must fail with EPIPE (MSG_NOSIGNAL), not kill the injector.
  int control[2], status[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, control) != 0)
    return make_error(ErrorCode::kInternal, "socketpair failed");
  if (pipe2(status, O_CLOEXEC) != 0) {
    close(control[0]);
    close(control[1]);
    return make_error(ErrorCode::kInternal, "pipe failed");
  }
  pid_t pid = fork();
  if (pid == 0) child(control[0], status[1], procs, job, busy_ns, page);
  close(control[0]);
  close(status[1]);
  std::unique_ptr<CgroupWorker> w(new CgroupWorker);
  w->control_fd_ = control[1];
  w->status_fd_ = status[0];
  w->pid_ = pid;
  w->memory_dir_ = where.memory_dir;
  w->oom_kills_at_start_ = where.memory_dir.empty() ? 0 : oom_kills(where.memory_dir);
  if (pid < 0) {
    w->reaped_ = true;
    return make_error(ErrorCode::kInternal, std::string("fork: ") + std::strerror(errno));
  }
  auto joined = answer(w->status_fd_, std::chrono::seconds(5));
  if (!joined) return joined.error();
  if (*joined < 0) {
    int64_t code = -*joined;
    auto index = static_cast<size_t>(code / kJoinFailed);
    int err = static_cast<int>(code % kJoinFailed);
    return make_error(ErrorCode::kFailedPrecondition,
                      "the stress worker could not join " +
                          (index < where.procs_files.size() ? where.procs_files[index] : "?") +
                          ": " + std::strerror(err));
  }
  return w;
}

Result<uint64_t> CgroupWorker::grow(uint64_t bytes) {
  int64_t want = static_cast<int64_t>(bytes);
  if (send(control_fd_, &want, sizeof want, MSG_NOSIGNAL) != static_cast<ssize_t>(sizeof want))
    return make_error(ErrorCode::kUnavailable, "the stress worker is gone");
  auto held = answer(status_fd_, std::chrono::seconds(60));
  if (!held) {
    // Its pipe closes an instant before the kernel reports the exit: wait for that.
    std::string how = ended();
    for (int i = 0; i < 100 && how.empty(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      how = ended();
    }
    if (how.empty()) return held.error();
    bool oom = !memory_dir_.empty() && oom_kills(memory_dir_) > oom_kills_at_start_;
    return make_error(held.error().code,
                      oom ? "the container's OOM killer killed the stress worker (memory limit "
                            "reached)"
                          : "the stress worker was " + how);
  }
  if (*held < 0)
    return make_error(ErrorCode::kFailedPrecondition, std::string("mmap in the container: ") +
                                                          std::strerror(static_cast<int>(-*held)));
  return static_cast<uint64_t>(*held);
}

double CgroupWorker::cpu_seconds() const {
  clockid_t clock;
  timespec ts{};
  if (reaped_ || clock_getcpuclockid(pid_, &clock) != 0 || clock_gettime(clock, &ts) != 0) return 0;
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

std::string CgroupWorker::ended() {
  if (!reaped_) {
    int st = 0;
    if (waitpid(pid_, &st, WNOHANG) != pid_) return "";
    reaped_ = true;
    exit_status_ = st;
  }
  if (WIFSIGNALED(exit_status_)) {
    const char* name = sigabbrev_np(WTERMSIG(exit_status_));
    return std::string("killed by SIG") + (name ? name : std::to_string(WTERMSIG(exit_status_)));
  }
  return "exited with status " + std::to_string(WEXITSTATUS(exit_status_));
}

CgroupWorker::~CgroupWorker() {
  if (control_fd_ >= 0) close(control_fd_);  // the child's signal to leave
  if (status_fd_ >= 0) close(status_fd_);
  if (reaped_ || pid_ <= 0) return;
  auto wait_for = [this](std::chrono::milliseconds limit) {
    auto until = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < until) {
      if (!ended().empty()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return false;
  };
  if (wait_for(std::chrono::milliseconds(1000))) return;
  kill(pid_, SIGKILL);
  // A worker frozen with its container (process_pause method: freezer) dies only when thawed.
  if (!wait_for(std::chrono::milliseconds(1000)))
    spdlog::warn(
        "stress worker not reaped pid={} (frozen with its container?); it dies with "
        "the SIGKILL it was sent once thawed",
        pid_);
}

}  // namespace faultline::injector
