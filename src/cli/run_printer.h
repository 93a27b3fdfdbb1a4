// Prints a run as it happens and its summary at the end; shared by both run paths.
#pragma once

#include <cstdio>
#include <vector>

#include "faultline/v1/controller_api.pb.h"

namespace faultline::cli {

class RunPrinter {
 public:
  explicit RunPrinter(std::FILE* out = stdout) : out_(out) {}
  void on_event(const faultline::v1::RunEvent& event);
  // Prints the summary; returns the run's exit code, or 3 if the run never finished.
  int finish();

 private:
  std::FILE* out_;
  std::vector<faultline::v1::RunEvent> events_;
};

}  // namespace faultline::cli
