#include "cli/exec_command.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "common/exec_clock.h"
#include "common/exit_codes.h"
#include "common/process_launch.h"
#include "common/process_table.h"
#include "common/signals.h"

namespace faultline::cli {
namespace {

namespace bp = boost::process;

constexpr const char* kFaketime = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";

// The clock control file for the processes this wrapper starts, named after the wrapper itself
// in a directory only root writes (the injector refuses any other): "" and a message when it
// cannot be made.
std::string make_clock_file(bool all_clocks) {
  std::string dir = exec_clock_dir();
  std::error_code ec;
  // Made here with root's mode; one that exists with a looser mode is refused, not fixed:
  // someone else may have put files in it.
  if (std::filesystem::create_directories(dir, ec)) ::chmod(dir.c_str(), 0755);
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != 0 ||
      (st.st_mode & (S_IWGRP | S_IWOTH))) {
    std::fprintf(stderr,
                 "faultline exec: %s must be a directory only root can write (run faultline exec "
                 "as root; the injector trusts no other clock file)\n",
                 dir.c_str());
    return "";
  }
  auto self = read_process(::getpid());
  if (!self) return "";
  std::string file =
      dir + "/" + exec_clock_file_name(::getpid(), self->start_time_ticks, all_clocks);
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0 || ::write(fd, "+0\n", 3) != 3) {
    std::fprintf(stderr, "faultline exec: cannot create %s: %s\n", file.c_str(),
                 std::strerror(errno));
    if (fd >= 0) ::close(fd);
    return "";
  }
  ::close(fd);
  return file;
}

}  // namespace

int exec_target(const std::vector<std::string>& argv, bool all_clocks) {
  if (argv.empty()) {
    std::fprintf(stderr, "faultline exec: nothing to run (faultline exec -- CMD ARGS...)\n");
    return kExitInvalidOrInfra;
  }
  std::string exe = find_executable(argv[0]);
  if (exe.empty()) {
    std::fprintf(stderr, "faultline exec: command not found: %s\n", argv[0].c_str());
    return kExitInvalidOrInfra;
  }
  if (!std::filesystem::exists(kFaketime)) {
    std::fprintf(stderr, "faultline exec: %s is missing (apt-get install libfaketime)\n",
                 kFaketime);
    return kExitInvalidOrInfra;
  }
  std::string clock_file = make_clock_file(all_clocks);
  if (clock_file.empty()) return kExitInvalidOrInfra;

  std::mutex mu;
  pid_t child_pid = 0;
  // Ctrl-C and SIGTERM go to the target; we exit when it does.
  ShutdownSignals signals([&](int sig) {
    std::lock_guard lock(mu);
    if (child_pid > 0) ::kill(child_pid, sig);
  });

  auto env = boost::this_process::environment();
  std::string preload = kFaketime;
  if (const char* old = std::getenv("LD_PRELOAD"); old && *old) preload += std::string(":") + old;
  env["LD_PRELOAD"] = preload;
  env["FAKETIME_TIMESTAMP_FILE"] = clock_file;
  // Re-read the control file at most once a second: a skew lands within a second.
  env["FAKETIME_CACHE_DURATION"] = "1";
  env["FAKETIME_DONT_FAKE_MONOTONIC"] = all_clocks ? "0" : "1";
  int code = kExitInvalidOrInfra;
  try {
    bp::child child(exe, bp::args(std::vector<std::string>(argv.begin() + 1, argv.end())), env,
                    // The target goes when its wrapper goes, even on kill -9 of the wrapper:
                    // nothing runs on with a clock nobody steers any more.
                    with_default_signal_mask(/*term_with_parent=*/true));
    {
      std::lock_guard lock(mu);
      child_pid = child.id();
    }
    child.wait();
    int native = child.native_exit_code();
    code = WIFSIGNALED(native) ? 128 + WTERMSIG(native) : WEXITSTATUS(native);
  } catch (const bp::process_error& e) {
    std::fprintf(stderr, "faultline exec: cannot run %s: %s\n", argv[0].c_str(), e.what());
  }
  std::error_code ec;
  std::filesystem::remove(clock_file, ec);
  return code;
}

}  // namespace faultline::cli
