// What every process faultline starts needs (rollback commands, `faultline exec` targets):
// a PATH lookup without Boost.Filesystem, and a child that does not inherit the signal mask
// our threads run with (ShutdownSignals blocks SIGINT/SIGTERM/SIGHUP in every thread).
#pragma once

#include <pthread.h>
#include <signal.h>

#include <boost/process.hpp>
#include <boost/process/extend.hpp>
#include <string>

namespace faultline {

// The executable `name` resolves to: itself if it has a '/', else the first match on PATH;
// "" when there is none.
std::string find_executable(const std::string& name);

// Pass to boost::process::child.
inline auto with_default_signal_mask() {
  return boost::process::extend::on_exec_setup = [](auto&) {
    sigset_t none;
    sigemptyset(&none);
    pthread_sigmask(SIG_SETMASK, &none, nullptr);
  };
}

}  // namespace faultline
