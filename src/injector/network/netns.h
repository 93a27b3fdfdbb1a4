// Running netlink calls inside another network namespace. setns(CLONE_NEWNET) switches only
// the calling thread, so the switch is scoped: the guard returns the thread to where it was.
#pragma once

#include <cstdint>
#include <string>

#include "common/result.h"

namespace faultline::injector {

// "" = this process's namespace; a name is looked up under /var/run/netns; a path is used as is.
std::string netns_path(const std::string& netns);

// The inode of the namespace at `netns` (what identifies it: a name can be reused), or 0
// when there is none. "" = this process's namespace.
uint64_t netns_inode(const std::string& netns);

// For the journal: "" while the namespace a fault was installed in still exists, else a
// sentence saying it went away (or was replaced) and took what was installed with it.
std::string netns_gone_note(const std::string& path, uint64_t inode);

class ScopedNetns {
 public:
  // Check ok() (or error()) before using the namespace.
  explicit ScopedNetns(const std::string& netns);
  ~ScopedNetns();
  ScopedNetns(const ScopedNetns&) = delete;
  ScopedNetns& operator=(const ScopedNetns&) = delete;
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }

 private:
  int saved_ = -1;
  std::string error_;
};

}  // namespace faultline::injector
