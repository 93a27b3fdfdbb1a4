// The faultline CLI of this build, run as a user runs it: a real child process whose stdout
// and stderr go to files in the test's directory and are read back when it ends.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "support/child_process.h"

namespace faultline::testing {

class FaultlineCli {
 public:
  // `leading` goes before every command's own arguments (e.g. {"--insecure"}).
  FaultlineCli(std::string bin_dir, const TempDir& dir, std::vector<std::string> leading = {});

  // Started and left running (Ctrl-C tests, runs watched while they go).
  std::unique_ptr<ChildProcess> start(std::vector<std::string> args) const;
  // Runs to the end (killed at the timeout); the exit code, -1 on timeout.
  int run(std::vector<std::string> args, std::chrono::milliseconds timeout = 60000ms);
  const std::string& out() const { return out_; }
  const std::string& err() const { return err_; }

  // True once `faultline injectors --controller ADDR EXTRA...` lists `node` as connected.
  bool wait_connected(const std::string& addr, const std::string& node,
                      const std::vector<std::string>& extra = {},
                      std::chrono::milliseconds timeout = 10000ms);

 private:
  std::string bin_;
  const TempDir& dir_;
  std::vector<std::string> leading_;
  std::string out_, err_;
};

}  // namespace faultline::testing
