// Test support: real child processes with RAII cleanup, temp dirs and loopback ports.
// Tests hurt real processes; these helpers make sure none outlives its test.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace faultline::testing {

using namespace std::chrono_literals;

class ChildProcess {
 public:
  // Starts argv[0] (a path) with stdout/stderr sent to the given files ("" = /dev/null).
  ChildProcess(std::vector<std::string> argv, const std::string& stdout_path = "",
               const std::string& stderr_path = "");
  // SIGKILLs the child if it still runs, and reaps it.
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  void signal(int sig) const;
  // The exit code (128+N when killed by signal N), or -1 if still running at the timeout.
  int wait(std::chrono::milliseconds timeout);
  bool running();

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  int status_ = 0;
};

// A scratch directory removed (recursively) at destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// A loopback TCP port that was free a moment ago.
int free_port();
// A TCP socket listening on 127.0.0.1 on a port the kernel chose (written to `port`), or -1.
int listen_on_loopback(int backlog, int& port);
std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& text);
// A token file as it must be: mode 0600 (faultline refuses tokens others can read).
void write_secret_file(const std::string& path, const std::string& text);
bool wait_until(const std::function<bool()>& cond, std::chrono::milliseconds timeout);
// GET http://127.0.0.1:port/path answered 200.
bool http_ok(int port, const std::string& path = "/health");
// One-letter state from /proc/PID/stat ('S', 'T', ...), or '?' if gone.
char process_state(pid_t pid);
// CPU time the process has used (utime + stime from /proc/PID/stat), in seconds; 0 if gone.
double cpu_seconds(pid_t pid);

}  // namespace faultline::testing

namespace faultline::testing {

// A small tmpfs mounted on a fresh directory, unmounted (lazily, so a busy file cannot keep
// it) at destruction: disk tests fill this, never the machine's disks.
class TmpfsMount {
 public:
  explicit TmpfsMount(const std::string& size = "64m");
  ~TmpfsMount();
  TmpfsMount(const TmpfsMount&) = delete;
  TmpfsMount& operator=(const TmpfsMount&) = delete;
  const std::string& path() const { return dir_.path(); }
  bool ok() const { return mounted_; }
  double used_fraction() const;

 private:
  TempDir dir_;
  bool mounted_ = false;
};

}  // namespace faultline::testing

namespace faultline::testing {

// Runs a shell command, returns its stdout (for `ip` and friends in tests).
std::string capture(const std::string& command);

// A network namespace made for one test (`ip netns add`), deleted with everything in it at
// destruction, also when the test failed.
class TestNetns {
 public:
  TestNetns();
  ~TestNetns();
  TestNetns(const TestNetns&) = delete;
  TestNetns& operator=(const TestNetns&) = delete;
  const std::string& name() const { return name_; }
  bool ok() const { return ok_; }
  // Runs `ip -n <name> ARGS`; true on success.
  bool ip(const std::string& args) const;

 private:
  std::string name_;
  bool ok_ = false;
};

}  // namespace faultline::testing
