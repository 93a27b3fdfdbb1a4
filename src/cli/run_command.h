// `faultline run`: the embedded path (in-process controller and injector) and the remote
// path (submit to a running faultline-controller and stream the run).
#pragma once

#include <string>

namespace faultline::cli {

struct RunOptions {
  std::string file;
  std::string controller;  // empty: embedded
};

// Returns the process exit code (0 passed, 1 failed, 2 aborted, 3 invalid/infra).
int run_embedded(const RunOptions& options);
int run_remote(const RunOptions& options);

}  // namespace faultline::cli
