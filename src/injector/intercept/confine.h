// How faultline-intercept gives up what it does not need before it reads a byte of traffic:
// from here on it is uid/gid 65534 with no supplementary groups, chrooted into an empty
// directory that no longer exists, holding only CAP_NET_ADMIN and CAP_NET_RAW (its mark, its
// rules, sock_diag), none of them inheritable, with no_new_privs. Called on the main thread
// before any other thread exists: credentials are per thread, and threads started later
// inherit these.
#pragma once

#include <string>

namespace faultline::injector::intercept {

// False with `why` when a step fails; the helper then refuses to run.
bool confine(std::string& why);

}  // namespace faultline::injector::intercept
