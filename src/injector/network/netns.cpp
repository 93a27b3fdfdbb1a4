#include "injector/network/netns.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/log.h"

namespace faultline::injector {

std::string netns_path(const std::string& netns) {
  if (netns.empty() || netns.find('/') != std::string::npos) return netns;
  return "/var/run/netns/" + netns;
}

uint64_t netns_inode(const std::string& netns) {
  struct stat st;
  std::string path = netns.empty() ? "/proc/self/ns/net" : netns_path(netns);
  return ::stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

std::string netns_gone_note(const std::string& path, uint64_t inode) {
  if (inode == 0 || path.empty()) return "";
  uint64_t now = netns_inode(path);
  if (now == inode) return "";
  return "network namespace " + path + (now == 0 ? " was removed" : " was replaced by a new one") +
         " during the fault; what the fault installed went with it";
}

ScopedNetns::ScopedNetns(const std::string& netns) {
  if (netns.empty()) return;
  std::string path = netns_path(netns);
  int target = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (target < 0) {
    error_ = "network namespace " + netns + ": " + std::strerror(errno);
    return;
  }
  saved_ = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (saved_ < 0 || ::setns(target, CLONE_NEWNET) != 0) {
    error_ = "cannot enter network namespace " + netns + ": " + std::strerror(errno);
    if (saved_ >= 0) ::close(saved_);
    saved_ = -1;
  }
  ::close(target);
}

ScopedNetns::~ScopedNetns() {
  if (saved_ < 0) return;
  if (::setns(saved_, CLONE_NEWNET) != 0)
    // A thread stuck in the wrong namespace would act on the wrong interfaces later.
    spdlog::critical("cannot return to the injector's network namespace: {}", std::strerror(errno));
  ::close(saved_);
}

}  // namespace faultline::injector
