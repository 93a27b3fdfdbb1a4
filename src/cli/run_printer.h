// Prints a run as it happens and its summary at the end; shared by both run paths. On a
// terminal a status line under the event lines shows the phase, elapsed (and planned) time,
// the faults active now and the last probe result; elsewhere (CI logs, pipes) only plain lines.
#pragma once

#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "faultline/v1/controller_api.pb.h"

namespace faultline::cli {

class RunPrinter {
 public:
  explicit RunPrinter(std::FILE* out = stdout);
  // The plan's length, shown as "elapsed / planned" in the status line.
  void set_planned(std::chrono::milliseconds planned) { planned_ = planned; }
  void on_event(const faultline::v1::RunEvent& event);
  // Redraws the status line (call it now and then while waiting for events).
  void tick();
  // Prints the summary; returns the run's exit code, or 3 if the run never finished.
  int finish();

 private:
  std::string status() const;
  void clear_status();

  std::FILE* out_;
  bool tty_ = false;
  bool status_shown_ = false;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  std::chrono::milliseconds planned_{0};
  std::string phase_ = "PENDING";
  std::map<std::string, std::string> active_;  // fault_id -> "name@node"
  std::string last_probe_;
  std::vector<faultline::v1::RunEvent> events_;
};

}  // namespace faultline::cli
