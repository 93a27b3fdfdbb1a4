// Runs of the embedded controller (`faultline run` without --controller) on this machine, so
// `faultline abort RUN` can reach the process that holds them: each run leaves a small file
// under the state directory while it goes on.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

namespace faultline::cli {

// RAII: writes <state>/runs/<run_id> ("pid start_time") and removes it when the run is over.
class LocalRunFile {
 public:
  explicit LocalRunFile(std::string run_id);
  ~LocalRunFile();
  LocalRunFile(const LocalRunFile&) = delete;
  LocalRunFile& operator=(const LocalRunFile&) = delete;

  // The reason `faultline abort` left for this run, if any (read once the signal arrives).
  std::string abort_reason() const;

 private:
  std::string path_;
};

// The process running `run_id` on this machine; nullopt if none is (a stale file from a
// killed process, whose PID may have been reused, does not count).
std::optional<pid_t> find_local_run(const std::string& run_id);
// Where `faultline abort` leaves its reason before it signals the run's process.
void leave_abort_reason(const std::string& run_id, const std::string& reason);

}  // namespace faultline::cli
