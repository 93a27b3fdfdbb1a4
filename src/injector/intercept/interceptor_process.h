// The injector's side of one faultline-intercept helper: started inside the fault's network
// namespace with one socket as its stdin and stdout (interceptor.proto), asked for reports, told to
// stop, and reaped. Destroying it without stop() kills the helper.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "common/result.h"
#include "common/unique_fd.h"
#include "faultline/v1/interceptor.pb.h"

namespace faultline::injector::intercept {

namespace pb = ::faultline::v1;

// The helper's executable: beside this program's own (never from PATH or the environment), or
// in the build tree for tests.
std::string interceptor_executable();

class InterceptorProcess {
 public:
  // `netns`: a namespace path ("" = this process's own).
  static Result<std::unique_ptr<InterceptorProcess>> start(const std::string& netns,
                                                           const pb::InterceptorStart& what);
  ~InterceptorProcess();
  InterceptorProcess(const InterceptorProcess&) = delete;
  InterceptorProcess& operator=(const InterceptorProcess&) = delete;

  uint16_t port() const { return port_; }
  // Its first report: the ports it listens on.
  const pb::InterceptorReport& first_report() const { return first_; }
  pid_t pid() const { return pid_; }
  uint64_t start_time_ticks() const { return ticks_; }

  // Before the rules go in (installed = false; waits for the helper to say it is ready for
  // them), and once they are in.
  Status send_rules(const pb::NetworkInstall& install, bool installed);
  Result<pb::InterceptorReport> report(std::chrono::milliseconds timeout);
  // Calls `died` (on a thread of its own) if the helper exits before stop() or destruction:
  // killed, or crashed. Once.
  void watch(std::function<void()> died);
  // Drain, final report, exit; waits at most `timeout`, then kills it.
  Result<pb::InterceptorReport> stop(std::chrono::milliseconds timeout);

 private:
  InterceptorProcess() = default;
  Status send(const pb::InterceptorControl& msg);
  Result<pb::InterceptorReport> receive(std::chrono::milliseconds timeout);
  void kill_and_reap();
  void unwatch();

  pid_t pid_ = -1;
  uint64_t ticks_ = 0;
  uint16_t port_ = 0;
  pb::InterceptorReport first_;
  UniqueFd link_;  // a socket: the helper's stdin and stdout
  std::string buffered_;
  UniqueFd pidfd_, unwatch_;  // unwatch_: an eventfd that ends the watcher
  std::thread watcher_;
};

// After a restart: ends a helper the ledger names, if that very process still runs.
void kill_orphaned_interceptor(pid_t pid, uint64_t start_time_ticks);

}  // namespace faultline::injector::intercept
