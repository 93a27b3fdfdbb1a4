#include "support/faultline_cli.h"

namespace faultline::testing {

FaultlineCli::FaultlineCli(std::string bin_dir, const TempDir& dir,
                           std::vector<std::string> leading)
    : bin_(std::move(bin_dir) + "/faultline"), dir_(dir), leading_(std::move(leading)) {}

std::unique_ptr<ChildProcess> FaultlineCli::start(std::vector<std::string> args) const {
  args.insert(args.begin(), leading_.begin(), leading_.end());
  args.insert(args.begin(), bin_);
  return std::make_unique<ChildProcess>(args, dir_.file("out.txt"), dir_.file("err.txt"));
}

int FaultlineCli::run(std::vector<std::string> args, std::chrono::milliseconds timeout) {
  int code = start(std::move(args))->wait(timeout);
  out_ = read_file(dir_.file("out.txt"));
  err_ = read_file(dir_.file("err.txt"));
  return code;
}

bool FaultlineCli::wait_connected(const std::string& addr, const std::string& node,
                                  const std::vector<std::string>& extra,
                                  std::chrono::milliseconds timeout) {
  std::vector<std::string> args{"injectors", "--controller", addr};
  args.insert(args.end(), extra.begin(), extra.end());
  return wait_until(
      [&] {
        return run(args, 5000ms) == 0 &&
               out_.find(node + "\tstate=connected\t") != std::string::npos;
      },
      timeout);
}

}  // namespace faultline::testing
