#include "injector/hardware/clock_control_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/exec_clock.h"
#include "common/process_table.h"
#include "common/unique_fd.h"

namespace faultline::injector {
namespace {

// The directory, opened, when root alone can change what is in it.
Result<UniqueFd> open_clock_dir(const std::string& dir) {
  UniqueFd fd(::open(dir.c_str(), O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_RDONLY));
  if (!fd) return make_error(ErrorCode::kNotFound, dir + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)))
    return make_error(ErrorCode::kPermissionDenied,
                      dir + " is not a directory only root can write (owner uid " +
                          std::to_string(st.st_uid) +
                          "); clock control files are not used "
                          "from it");
  return fd;
}

bool root_regular_file(int dir_fd, const std::string& name) {
  struct stat st {};
  return ::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
         st.st_uid == 0 && st.st_nlink == 1;
}

}  // namespace

std::optional<ClockControl> find_clock_control(pid_t pid) {
  auto dir = open_clock_dir(exec_clock_dir());
  if (!dir) return std::nullopt;
  // The wrapper is the target's parent, or a further ancestor when the target forks; never
  // the process itself (a cmdline selector also matches the wrapper, whose own clock is real).
  auto target = read_process(pid);
  for (int depth = 0; target && target->ppid > 1 && depth < 32; ++depth) {
    auto parent = read_process(target->ppid);
    if (!parent) return std::nullopt;
    for (bool all : {false, true}) {
      std::string name = exec_clock_file_name(parent->pid, parent->start_time_ticks, all);
      if (root_regular_file(dir->get(), name))
        return ClockControl{exec_clock_dir() + "/" + name, all};
    }
    target = std::move(parent);
  }
  return std::nullopt;
}

Status write_clock_offset(const std::string& path, const std::string& offset) {
  size_t slash = path.rfind('/');
  std::string dir_path = path.substr(0, slash), name = path.substr(slash + 1);
  auto dir = open_clock_dir(dir_path);
  if (!dir) {
    if (dir.error().code == ErrorCode::kNotFound) return Ok{};  // nothing left to restore
    return dir.error();
  }
  if (::faccessat(dir->get(), name.c_str(), F_OK, AT_SYMLINK_NOFOLLOW) != 0) return Ok{};
  if (!root_regular_file(dir->get(), name))
    return make_error(ErrorCode::kPermissionDenied,
                      path + " is not a regular file of root; not written");
  std::string tmp = name + ".tmp";
  ::unlinkat(dir->get(), tmp.c_str(), 0);
  UniqueFd out(::openat(dir->get(), tmp.c_str(),
                        O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
  if (!out)
    return make_error(ErrorCode::kInternal,
                      "cannot write " + dir_path + "/" + tmp + ": " + std::strerror(errno));
  std::string line = offset + "\n";
  bool written = ::write(out.get(), line.data(), line.size()) == static_cast<ssize_t>(line.size());
  out.reset();
  if (!written || ::renameat(dir->get(), tmp.c_str(), dir->get(), name.c_str()) != 0) {
    ::unlinkat(dir->get(), tmp.c_str(), 0);
    return make_error(ErrorCode::kInternal, "cannot replace " + path + ": " + std::strerror(errno));
  }
  return Ok{};
}

}  // namespace faultline::injector
