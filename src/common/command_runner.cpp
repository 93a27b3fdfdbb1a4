#include "common/command_runner.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include "common/process_launch.h"

namespace faultline {

namespace bp = boost::process;

Result<CommandOutcome> run_command(const std::vector<std::string>& argv, Duration timeout) {
  if (argv.empty()) return make_error(ErrorCode::kInvalidArgument, "empty command");
  std::string exe = find_executable(argv[0]);
  if (exe.empty()) return make_error(ErrorCode::kNotFound, "command not found: " + argv[0]);
  std::vector<std::string> args(argv.begin() + 1, argv.end());
  CommandOutcome out;
  try {
    bp::ipstream pipe;
    bp::child child(exe, bp::args(args), (bp::std_out & bp::std_err) > pipe, bp::std_in < bp::null,
                    with_default_signal_mask());
    std::string collected;
    std::thread reader([&] {
      std::string line;
      while (std::getline(pipe, line)) {
        collected += line + "\n";
        if (collected.size() > 8192) collected.erase(0, collected.size() - 4096);
      }
    });
    // Polled rather than child::wait_for, which in Boost 1.74 can sleep out the whole timeout
    // after the child has already exited.
    // The first checks come quickly (short commands such as iptables finish in a few ms and
    // sit on a fault's apply path), later ones back off to 5 ms.
    auto deadline = std::chrono::steady_clock::now() + timeout;
    auto pause = std::chrono::microseconds(50);
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
