#include "injector/intercept/confine.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace faultline::injector::intercept {

namespace {

constexpr uid_t kNobody = 65534;

bool fail(std::string& why, const std::string& what) {
  why = what + ": " + std::strerror(errno);
  return false;
}

bool set_caps(unsigned effective) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  data[0].permitted = (1u << CAP_NET_ADMIN) | (1u << CAP_NET_RAW);
  data[0].effective = effective;
  return syscall(SYS_capset, &header, data) == 0;
}

}  // namespace

bool confine(std::string& why) {
  // As many descriptors as allowed: each intercepted connection holds three.
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
  }
  // An empty directory, entered, then removed: the root of nothing.
  char dir[] = "/tmp/faultline-intercept-XXXXXX";
  if (!mkdtemp(dir)) return fail(why, "mkdtemp");
  int fd = ::open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return fail(why, "open the empty root");
  ::rmdir(dir);
  if (::fchdir(fd) != 0 || ::chroot(".") != 0 || ::chdir("/") != 0) {
    ::close(fd);
    return fail(why, "chroot");
  }
  ::close(fd);
  // The bounding set shrinks only with CAP_SETPCAP; without it (a service manager already
  // bounded it) the capset below still leaves nothing else.
  if (prctl(PR_CAPBSET_READ, CAP_SETPCAP, 0, 0, 0) == 1)
    for (int cap = 0; cap <= 63; ++cap)
      if (cap != CAP_NET_ADMIN && cap != CAP_NET_RAW) prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
  prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) return fail(why, "keepcaps");
  if (setgroups(0, nullptr) != 0) return fail(why, "setgroups");
  if (setresgid(kNobody, kNobody, kNobody) != 0) return fail(why, "setresgid");
  if (setresuid(kNobody, kNobody, kNobody) != 0) return fail(why, "setresuid");
  // The uid change cleared the effective set; the two kept come back, the rest is gone.
  if (!set_caps((1u << CAP_NET_ADMIN) | (1u << CAP_NET_RAW))) return fail(why, "capset");
  prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return fail(why, "no_new_privs");
  return true;
}

}  // namespace faultline::injector::intercept
