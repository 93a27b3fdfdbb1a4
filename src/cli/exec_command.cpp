#include "cli/exec_command.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "common/exit_codes.h"
#include "common/ids.h"
#include "common/process_launch.h"
#include "common/signals.h"

namespace faultline::cli {
namespace {

namespace bp = boost::process;

constexpr const char* kFaketime = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";

std::string state_dir() {
  const char* dir = std::getenv("FAULTLINE_STATE_DIR");
  return std::string(dir && *dir ? dir : "/var/lib/faultline") + "/exec";
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
  std::error_code ec;
  std::filesystem::create_directories(state_dir(), ec);
  std::string clock_file = state_dir() + "/" + new_id("x") + ".clock";
  { std::ofstream(clock_file) << "+0\n"; }
  if (!std::filesystem::exists(clock_file)) {
    std::fprintf(stderr, "faultline exec: cannot create %s\n", clock_file.c_str());
    return kExitInvalidOrInfra;
  }

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
  env["FAULTLINE_EXEC_CLOCKS"] = all_clocks ? "all" : "realtime";
  env["FAULTLINE_EXEC_CLOCK"] = clock_file;
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
  std::filesystem::remove(clock_file, ec);
  return code;
}

}  // namespace faultline::cli
