// What every process faultline starts needs (rollback commands, `faultline exec` targets):
// a PATH lookup without Boost.Filesystem, and a child that does not inherit the signal mask
// our threads run with (ShutdownSignals blocks SIGINT/SIGTERM/SIGHUP in every thread).
#pragma once

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>

#include <boost/process.hpp>
#include <boost/process/extend.hpp>
#include <string>

namespace faultline {

// The executable `name` resolves to: itself if it has a '/', else the first match on PATH;
// "" when there is none.
std::string find_executable(const std::string& name);

// Pass to boost::process::child. With `term_with_parent`, the child gets SIGTERM when the
// thread that started it dies (even by kill -9), so it cannot outlive a wrapper. With
// `netns_fd` (an open network namespace), the child enters it before exec; if it cannot, the
// start fails with the reason (boost::process::process_error).
inline auto with_default_signal_mask(bool term_with_parent = false, int netns_fd = -1) {
  return boost::process::extend::on_exec_setup = [term_with_parent, netns_fd](auto& exec) {
    sigset_t none;
    sigemptyset(&none);
    pthread_sigmask(SIG_SETMASK, &none, nullptr);
    if (term_with_parent) prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (netns_fd >= 0 && setns(netns_fd, CLONE_NEWNET) != 0)
      exec.set_error(std::error_code(errno, std::system_category()), "setns");
  };
}

}  // namespace faultline
