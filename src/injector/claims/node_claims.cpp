#include "injector/claims/node_claims.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "common/sha256.h"

namespace faultline::injector {

Result<std::unique_ptr<NodeClaims>> NodeClaims::open(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return make_error(ErrorCode::kFailedPrecondition,
                      "claims directory " + dir + " cannot be made: " + std::strerror(errno));
  // Anyone who could write here could plant a file that looks held, or swap one.
  if ((st.st_mode & 022) != 0 || st.st_uid != ::geteuid())
    return make_error(ErrorCode::kFailedPrecondition,
                      "claims directory " + dir +
                          " is writable by others or owned by another user: chmod 700 it");
  return std::unique_ptr<NodeClaims>(new NodeClaims(dir));
}

NodeClaims::~NodeClaims() {
  for (auto& [key, h] : held_)
    if (h.fd >= 0) ::close(h.fd);
}

std::string NodeClaims::path_of(const std::string& key) const {
  return dir_ + "/" + sha256_hex(key).substr(0, 32) + ".claim";
}

Status NodeClaims::take(const std::string& fault_id, const std::string& run_id,
                        const std::string& what, const std::vector<std::string>& keys) {
  std::lock_guard lock(mu_);
  std::vector<std::string> taken;
  auto refuse = [&](const std::string& key, const std::string& holder) -> Status {
    for (const auto& k : taken) drop(k, fault_id);
    return make_error(ErrorCode::kFailedPrecondition,
                      key + " is held on this node by " + holder +
                          "; two runs never fault the same thing at once (wait for that run to "
                          "end, or abort it)");
  };
  std::string holder = "run " + (run_id.empty() ? std::string("(none)") : run_id) + " (" + what +
                       ", fault " + fault_id + ", pid " + std::to_string(::getpid()) + ")";
  for (const auto& key : keys) {
    if (auto it = held_.find(key); it != held_.end()) {
      // Faults applied without a run (the engine's own callers) share like one run's do.
      if (it->second.run_id != run_id) return refuse(key, it->second.holder);
      it->second.faults.insert(fault_id);
      taken.push_back(key);
      continue;
    }
    std::string path = path_of(key);
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
      return refuse(key, std::string("nobody known: its claim file cannot be opened (") +
                             std::strerror(errno) + ")");
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      char buf[512];
      ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
      ::close(fd);
      std::string other = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "another process";
      return refuse(key, other);
    }
    // Whoever held it before has died (its lock went with it): the text is ours now.
    (void)::ftruncate(fd, 0);
    (void)::pwrite(fd, holder.data(), holder.size(), 0);
    held_[key] = Held{fd, run_id, holder, {fault_id}};
    taken.push_back(key);
  }
  auto& mine = keys_[fault_id];
  mine.insert(mine.end(), taken.begin(), taken.end());
  return Ok{};
}

void NodeClaims::drop(const std::string& key, const std::string& fault_id) {
  auto it = held_.find(key);
  if (it == held_.end()) return;
  it->second.faults.erase(fault_id);
  if (!it->second.faults.empty()) return;
  // Not unlinked: a process that opened this file a moment ago must lock the same inode the
  // next taker will, or two could believe they hold the scope.
  (void)::ftruncate(it->second.fd, 0);
  ::close(it->second.fd);
  held_.erase(it);
}

void NodeClaims::release(const std::string& fault_id) {
  std::lock_guard lock(mu_);
  auto it = keys_.find(fault_id);
  if (it == keys_.end()) return;
  for (const auto& key : it->second) drop(key, fault_id);
  keys_.erase(it);
}

}  // namespace faultline::injector
