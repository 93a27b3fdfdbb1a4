#include "support/child_process.h"

#include "common/process_table.h"

#include <fcntl.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace faultline::testing {

ChildProcess::ChildProcess(std::vector<std::string> argv, const std::string& stdout_path,
                           const std::string& stderr_path) {
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    // Start from a clean signal mask: the test runner may block signals.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    auto redirect = [](const std::string& path, int fd) {
      int f = open(path.empty() ? "/dev/null" : path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (f >= 0) dup2(f, fd);
    };
    redirect(stdout_path, 1);
    redirect(stderr_path, 2);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0 && !reaped_) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
}

void ChildProcess::signal(int sig) const {
  kill(pid_, sig);
}

int ChildProcess::wait(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!reaped_) {
    pid_t r = waitpid(pid_, &status_, WNOHANG);
    if (r == pid_) {
      reaped_ = true;
      break;
    }
    if (std::chrono::steady_clock::now() >= deadline) return -1;
    std::this_thread::sleep_for(10ms);
  }
  return WIFEXITED(status_) ? WEXITSTATUS(status_) : 128 + WTERMSIG(status_);
}

bool ChildProcess::running() {
  return wait(0ms) == -1;
}

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "faultline-test-XXXXXX").string();
  if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

int free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

int listen_on_loopback(int backlog, int& port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      listen(fd, backlog) != 0 || getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    if (fd >= 0) close(fd);
    return -1;
  }
  port = ntohs(addr.sin_port);
  return fd;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::trunc) << text;
}

void write_secret_file(const std::string& path, const std::string& text) {
  write_file(path, text);
  ::chmod(path.c_str(), 0600);
}

bool wait_until(const std::function<bool()>& cond, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return cond();
}

bool http_ok(int port, const std::string& path) {
  httplib::Client c("127.0.0.1", port);
  c.set_connection_timeout(0, 300000);
  c.set_read_timeout(0, 300000);
  auto res = c.Get(path.c_str());
  return res && res->status == 200;
}

char process_state(pid_t pid) {
  auto p = read_process(pid);
  return p ? p->state : '?';
}

double cpu_seconds(pid_t pid) {
  auto p = read_process(pid);
  if (!p) return 0;
  return static_cast<double>(p->cpu_ticks) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

}  // namespace faultline::testing

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

namespace faultline::testing {

TmpfsMount::TmpfsMount(const std::string& size) {
  std::string opts = "size=" + size + ",mode=0700";
  mounted_ = ::mount("tmpfs", dir_.path().c_str(), "tmpfs", 0, opts.c_str()) == 0;
}

TmpfsMount::~TmpfsMount() {
  if (mounted_) ::umount2(dir_.path().c_str(), MNT_DETACH);
}

double TmpfsMount::used_fraction() const {
  struct statvfs v {};
  ::statvfs(dir_.path().c_str(), &v);
  return 1.0 - static_cast<double>(v.f_bfree) / static_cast<double>(v.f_blocks);
}

}  // namespace faultline::testing

#include <unistd.h>

#include <atomic>
#include <cstdio>

namespace faultline::testing {

std::string capture(const std::string& command) {
  std::string out;
  FILE* p = ::popen(command.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  ::pclose(p);
  return out;
}

namespace {

// A test killed with SIGKILL (a timeout, a stopped session) cannot run its destructors; the
// next test process removes what such dead processes left: fl-test-<pid>-N of a pid that no
// longer exists.
void remove_namespaces_of_dead_tests() {
  std::string list = capture("ip netns list 2>/dev/null");
  std::istringstream lines(list);
  for (std::string line; std::getline(lines, line);) {
    std::string name = line.substr(0, line.find(' '));
    if (name.rfind("fl-test-", 0) != 0) continue;
    size_t dash = name.find('-', 8);
    if (dash == std::string::npos) continue;
    int pid = std::atoi(name.substr(8, dash - 8).c_str());
    if (pid <= 0 || ::kill(pid, 0) == 0 || errno != ESRCH) continue;
    std::system(("ip netns del " + name + " 2>/dev/null").c_str());
  }
}

}  // namespace

TestNetns::TestNetns() {
  static std::once_flag swept;
  std::call_once(swept, remove_namespaces_of_dead_tests);
  static std::atomic<int> counter{0};
  name_ = "fl-test-" + std::to_string(getpid()) + "-" + std::to_string(counter++);
  ok_ = std::system(("ip netns add " + name_ + " 2>/dev/null").c_str()) == 0;
}

TestNetns::~TestNetns() {
  if (ok_) std::system(("ip netns del " + name_ + " 2>/dev/null").c_str());
}

bool TestNetns::ip(const std::string& args) const {
  return std::system(("ip -n " + name_ + " " + args + " 2>/dev/null").c_str()) == 0;
}

}  // namespace faultline::testing
