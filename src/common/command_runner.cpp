#include "common/command_runner.h"

#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <thread>

#include "common/process_launch.h"

namespace faultline {

namespace bp = boost::process;

namespace {

// Blocks until `pid` exits or `deadline` passes, without reaping it (the caller does).
void wait_for_exit(pid_t pid, std::chrono::steady_clock::time_point deadline) {
  int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0) return;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(std::min<long long>(left.count() + 1, 1 << 30)));
    if (r >= 0 || errno != EINTR) break;
  }
  ::close(fd);
}

}  // namespace

Result<CommandOutcome> run_command(const std::vector<std::string>& argv, Duration timeout,
                                   int netns_fd, bool clean_environment) {
  if (argv.empty()) return make_error(ErrorCode::kInvalidArgument, "empty command");
  std::string exe = find_executable(argv[0]);
  if (exe.empty()) return make_error(ErrorCode::kNotFound, "command not found: " + argv[0]);
  std::vector<std::string> args(argv.begin() + 1, argv.end());
  CommandOutcome out;
  try {
    bp::ipstream pipe;
    bp::environment clean;
    clean["PATH"] = "/usr/sbin:/usr/bin:/sbin:/bin";
    clean["LANG"] = "C";
    bp::child child =
        clean_environment
            ? bp::child(exe, bp::args(args), clean, (bp::std_out & bp::std_err) > pipe,
                        bp::std_in < bp::null, with_default_signal_mask(false, netns_fd))
            : bp::child(exe, bp::args(args), (bp::std_out & bp::std_err) > pipe,
                        bp::std_in < bp::null, with_default_signal_mask(false, netns_fd));
    std::string collected;
    std::thread reader([&] {
      std::string line;
      while (std::getline(pipe, line)) {
        collected += line + "\n";
        if (collected.size() > 8192) collected.erase(0, collected.size() - 4096);
      }
    });
    // Waited for exactly, through a pidfd: short commands such as iptables-restore finish in
    // a couple of ms and sit on a fault's apply path, where a polling loop's sleeps (the old
    // way) added up to half the command's own time. (Not child::wait_for: in Boost 1.74 it can
    // sleep out the whole timeout after the child has already exited.)
    auto deadline = std::chrono::steady_clock::now() + timeout;
    wait_for_exit(child.id(), deadline);
    auto pause = std::chrono::microseconds(50);  // only when pidfds are unavailable
    while (child.running() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(pause);
      pause = std::min<std::chrono::microseconds>(pause * 2, std::chrono::milliseconds(5));
    }
    if (child.running()) {
      out.timed_out = true;
      child.terminate();
    } else {
      out.exit_code = child.exit_code();
    }
    reader.join();
    if (collected.size() > 4096) collected.erase(0, collected.size() - 4096);
    out.output = collected;
  } catch (const bp::process_error& e) {
    return make_error(ErrorCode::kFailedPrecondition,
                      "cannot run " + argv[0] + ": " + std::string(e.what()));
  }
  return out;
}

}  // namespace faultline
