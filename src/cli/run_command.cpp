#include "cli/run_command.h"

#include <cstring>

namespace faultline::cli {

namespace {
constexpr const char* kInterrupted = "interrupted by ";
}  // namespace

int run_experiment(const RunOptions& options, v1::Run* record, experiments::ReportSpec* report) {
  return options.controller.empty() ? run_embedded(options, record, report)
                                    : run_remote(options, record, report);
}

std::string interrupted_reason(int sig, const std::string& detail) {
  return kInterrupted + std::string(sigabbrev_np(sig)) + detail;
}

bool interrupted_by_signal(const v1::Run& run) {
  return run.summary().reason().rfind(kInterrupted, 0) == 0;
}

}  // namespace faultline::cli
