#define FUSE_USE_VERSION 312
#include "injector/hardware/io_fault_backend.h"

#include <poll.h>

#include "injector/backend_registry.h"

#include <dirent.h>
#include <fcntl.h>
#include <fuse3/fuse.h>
#include <fuse3/fuse_lowlevel.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "common/log.h"
#include "injector/mount_table.h"

namespace faultline::injector {
namespace {

constexpr const char* kFsType = "fuse.faultline-io";

int errno_named(const std::string& name) {
  if (name == "EIO") return EIO;
  if (name == "ENOSPC") return ENOSPC;
  if (name == "EACCES") return EACCES;
  if (name == "EROFS") return EROFS;
  if (name == "EDQUOT") return EDQUOT;
  return 0;
}

// Mount points of our own FUSE filesystem, from /proc/self/mountinfo.
std::vector<std::string> our_mounts() {
  std::vector<std::string> out;
  for (const auto& m : read_mounts())
    if (m.fstype == kFsType) out.push_back(m.point);
  return out;
}

// The path as the mount table shows it. A dead FUSE mount makes the path itself unreadable
// (ENOTCONN), so fall back to the path as written rather than throw.
std::string mount_path(const std::string& path) {
  std::error_code ec;
  auto p = std::filesystem::weakly_canonical(path, ec);
  return ec ? std::filesystem::path(path).lexically_normal().string() : p.string();
}

}  // namespace

struct IoFaultBackend::Mount {
  std::string path;
  int dirfd = -1;  // the directory underneath, opened before the mount covered it
  std::atomic<bool> active{true};
  std::chrono::microseconds latency{0};
  int error = 0;
  double fraction = 1.0;
  bool reads = true, writes = true;
  std::mutex rng_mu;
  std::mt19937 rng{std::random_device{}()};
  fuse* fs = nullptr;
  std::thread loop;

  // 0, or the negative errno to return; sleeps the injected latency first.
  int inject(bool is_write) {
    if (!active || (is_write ? !writes : !reads)) return 0;
    {
      std::lock_guard lock(rng_mu);
      if (std::uniform_real_distribution<double>(0, 1)(rng) >= fraction) return 0;
    }
    if (latency.count() > 0) std::this_thread::sleep_for(latency);
    return error ? -error : 0;
  }
  std::string rel(const char* p) const { return p[1] ? std::string(p + 1) : std::string("."); }
};

namespace {

IoFaultBackend::Mount* self() {
  return static_cast<IoFaultBackend::Mount*>(fuse_get_context()->private_data);
}
int neg(int r) {
  return r < 0 ? -errno : r;
}

int op_getattr(const char* p, struct stat* st, fuse_file_info*) {
  return neg(fstatat(self()->dirfd, self()->rel(p).c_str(), st, AT_SYMLINK_NOFOLLOW));
}
int op_readdir(const char* p, void* buf, fuse_fill_dir_t fill, off_t, fuse_file_info*,
               fuse_readdir_flags) {
  int fd = openat(self()->dirfd, self()->rel(p).c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return -errno;
  DIR* d = fdopendir(fd);
  if (!d) {
    close(fd);
    return -errno;
  }
  while (dirent* e = readdir(d))
    fill(buf, e->d_name, nullptr, 0, static_cast<fuse_fill_dir_flags>(0));
  closedir(d);
  return 0;
}
int op_open(const char* p, fuse_file_info* fi) {
  int fd = openat(self()->dirfd, self()->rel(p).c_str(), fi->flags & ~O_NOFOLLOW);
  if (fd < 0) return -errno;
  fi->fh = static_cast<uint64_t>(fd);
  fi->direct_io = 1;  // every read reaches us, so every read can be faulted
  return 0;
}
int op_create(const char* p, mode_t mode, fuse_file_info* fi) {
  int fd = openat(self()->dirfd, self()->rel(p).c_str(), fi->flags | O_CREAT, mode);
  if (fd < 0) return -errno;
  fi->fh = static_cast<uint64_t>(fd);
  fi->direct_io = 1;
  return 0;
}
int op_read(const char*, char* buf, size_t n, off_t off, fuse_file_info* fi) {
  if (int e = self()->inject(false)) return e;
  ssize_t r = pread(static_cast<int>(fi->fh), buf, n, off);
  return r < 0 ? -errno : static_cast<int>(r);
}
int op_write(const char*, const char* buf, size_t n, off_t off, fuse_file_info* fi) {
  if (int e = self()->inject(true)) return e;
  ssize_t r = pwrite(static_cast<int>(fi->fh), buf, n, off);
  return r < 0 ? -errno : static_cast<int>(r);
}
int op_release(const char*, fuse_file_info* fi) {
  close(static_cast<int>(fi->fh));
  return 0;
}
int op_fsync(const char*, int, fuse_file_info* fi) {
  return neg(fsync(static_cast<int>(fi->fh)));
}
int op_truncate(const char* p, off_t size, fuse_file_info* fi) {
  if (fi) return neg(ftruncate(static_cast<int>(fi->fh), size));
  int fd = openat(self()->dirfd, self()->rel(p).c_str(), O_WRONLY);
  if (fd < 0) return -errno;
  int r = neg(ftruncate(fd, size));
  close(fd);
  return r;
}
int op_unlink(const char* p) {
  return neg(unlinkat(self()->dirfd, self()->rel(p).c_str(), 0));
}
int op_mkdir(const char* p, mode_t m) {
  return neg(mkdirat(self()->dirfd, self()->rel(p).c_str(), m));
}
int op_rmdir(const char* p) {
  return neg(unlinkat(self()->dirfd, self()->rel(p).c_str(), AT_REMOVEDIR));
}
int op_rename(const char* from, const char* to, unsigned int flags) {
  if (flags) return -EINVAL;
  return neg(
      renameat(self()->dirfd, self()->rel(from).c_str(), self()->dirfd, self()->rel(to).c_str()));
}
int op_chmod(const char* p, mode_t m, fuse_file_info*) {
  return neg(fchmodat(self()->dirfd, self()->rel(p).c_str(), m, 0));
}
int op_utimens(const char* p, const timespec tv[2], fuse_file_info*) {
  return neg(utimensat(self()->dirfd, self()->rel(p).c_str(), tv, AT_SYMLINK_NOFOLLOW));
}
int op_statfs(const char*, struct statvfs* st) {
  return neg(fstatvfs(self()->dirfd, st));
}

fuse_operations make_ops() {
  fuse_operations ops{};
  ops.getattr = op_getattr;
  ops.readdir = op_readdir;
  ops.open = op_open;
  ops.create = op_create;
  ops.read = op_read;
  ops.write = op_write;
  ops.release = op_release;
  ops.fsync = op_fsync;
  ops.truncate = op_truncate;
  ops.unlink = op_unlink;
  ops.mkdir = op_mkdir;
  ops.rmdir = op_rmdir;
  ops.rename = op_rename;
  ops.chmod = op_chmod;
  ops.utimens = op_utimens;
  ops.statfs = op_statfs;
  return ops;
}

void unmount(IoFaultBackend::Mount& m) {
  m.active = false;  // from now on a straggling request passes straight through
  if (m.fs) fuse_exit(m.fs);
  ::umount2(m.path.c_str(), MNT_DETACH);
  if (m.loop.joinable()) m.loop.join();
  if (m.fs) {
    // libfuse frees the mount point it copied only in fuse_unmount, which (unless the
    // connection is already gone) would also lazily unmount whatever is mounted at the path
    // now that ours is detached. Gone means POLLERR on its device fd: only then is it safe.
    int fd = fuse_session_fd(fuse_get_session(m.fs));
    pollfd p{fd, 0, 0};
    if (fd >= 0 && ::poll(&p, 1, 0) == 1 && (p.revents & POLLERR)) fuse_unmount(m.fs);
    fuse_destroy(m.fs);
    m.fs = nullptr;
  }
  if (m.dirfd >= 0) ::close(m.dirfd);
  m.dirfd = -1;
}

}  // namespace

IoFaultBackend::IoFaultBackend() = default;

IoFaultBackend::~IoFaultBackend() {
  std::lock_guard lock(mu_);
  for (auto& [_, ms] : mounts_)
    for (auto& m : ms) unmount(*m);
}

bool IoFaultBackend::available() const {
  return ::access("/dev/fuse", R_OK | W_OK) == 0;
}

Result<AppliedFault> IoFaultBackend::apply(const std::string& fault_id, const pb::FaultSpec& spec) {
  const auto& io = spec.io_fault();
  if (io.paths().empty()) return make_error(ErrorCode::kInvalidArgument, "io_fault needs a path");
  int err = io.error().empty() || io.error() == "none" ? 0 : errno_named(io.error());
  if (!io.error().empty() && io.error() != "none" && err == 0)
    return make_error(ErrorCode::kInvalidArgument, "unknown error " + io.error());
  if (err == 0 && io.latency_us() == 0)
    return make_error(ErrorCode::kInvalidArgument, "io_fault needs a latency or an error");
  std::vector<std::unique_ptr<Mount>> made;
  auto undo = [&] {
    for (auto& m : made) unmount(*m);
  };
  static const fuse_operations ops = make_ops();
  for (const auto& path : io.paths()) {
    auto m = std::make_unique<Mount>();
    m->path = mount_path(path);
    for (const auto& existing : our_mounts())
      if (existing == m->path) {
        undo();
        return make_error(ErrorCode::kFailedPrecondition,
                          "another io_fault is already active on " + m->path);
      }
    m->dirfd = ::open(m->path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (m->dirfd < 0) {
      undo();
      return make_error(ErrorCode::kNotFound,
                        "io_fault path " + path + " is not a directory: " + std::strerror(errno));
    }
    m->latency = std::chrono::microseconds(io.latency_us());
    m->error = err;
    m->fraction = io.fraction() > 0 ? io.fraction() : 1.0;
    m->reads = io.operations() != "write";
    m->writes = io.operations() != "read";
    std::vector<std::string> argv{"faultline-io", "-o",
                                  "allow_other,fsname=faultline-io,subtype=faultline-io"};
    std::vector<char*> cargv;
    for (auto& a : argv) cargv.push_back(a.data());
    fuse_args args = FUSE_ARGS_INIT(static_cast<int>(cargv.size()), cargv.data());
    m->fs = fuse_new(&args, &ops, sizeof ops, m.get());
    fuse_opt_free_args(&args);
    if (!m->fs || fuse_mount(m->fs, m->path.c_str()) != 0) {
      if (m->fs) fuse_destroy(m->fs);
      m->fs = nullptr;
      ::close(m->dirfd);
      undo();
      return make_error(ErrorCode::kFailedPrecondition, "cannot mount FUSE over " + m->path);
    }
    Mount* raw = m.get();
    m->loop = std::thread([raw] {
      fuse_loop_config* cfg = fuse_loop_cfg_create();
      fuse_loop_cfg_set_max_threads(cfg, 16);
      fuse_loop_mt(raw->fs, cfg);
      fuse_loop_cfg_destroy(cfg);
    });
    made.push_back(std::move(m));
  }
  AppliedFault applied{fault_id, spec, {}};
  std::string what =
      (err ? io.error() : std::string("no error")) + " and " +
      std::to_string(io.latency_us() / 1000) + "ms latency on " +
      std::to_string(static_cast<int>((io.fraction() > 0 ? io.fraction() : 1.0) * 100 + 0.5)) +
      "% of " + (io.operations().empty() ? "all" : io.operations()) + " operations under ";
  for (size_t i = 0; i < made.size(); ++i) what += (i ? ", " : "") + made[i]->path;
  applied.state.set_summary(what);
  {
    std::lock_guard lock(mu_);
    mounts_[fault_id] = std::move(made);
  }
  spdlog::info("io fault applied fault_id={} {}", fault_id, what);
  return applied;
}

Status IoFaultBackend::revert(const AppliedFault& fault) {
  std::vector<std::unique_ptr<Mount>> ms;
  {
    std::lock_guard lock(mu_);
    auto it = mounts_.find(fault.fault_id);
    if (it != mounts_.end()) {
      ms = std::move(it->second);
      mounts_.erase(it);
    }
  }
  if (ms.empty()) return recover_intent(fault.fault_id, fault.spec);
  for (auto& m : ms) unmount(*m);
  spdlog::info("io fault reverted fault_id={}", fault.fault_id);
  return Ok{};
}

Status IoFaultBackend::recover_intent(const std::string& fault_id, const pb::FaultSpec& spec) {
  // A dead injector's FUSE mount answers ENOTCONN to everyone: lift it off the directory.
  auto ours = our_mounts();
  for (const auto& path : spec.io_fault().paths()) {
    std::string p = mount_path(path);
    if (std::find(ours.begin(), ours.end(), p) == ours.end()) continue;
    if (::umount2(p.c_str(), MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT)
      return make_error(ErrorCode::kInternal, "cannot unmount " + p + ": " + std::strerror(errno));
    spdlog::warn("crash recovery unmounted a stale io_fault mount path={} fault_id={}", p,
                 fault_id);
  }
  return Ok{};
}

}  // namespace faultline::injector

namespace faultline::injector {
namespace {

BackendRegistration describe() {
  return {.kind = "io_fault",
          .make = [](BackendContext&) { return std::make_unique<IoFaultBackend>(); },
          .reach =
              [](const pb::FaultSpec& spec) {
                FaultReach r;
                r.paths.assign(spec.io_fault().paths().begin(), spec.io_fault().paths().end());
                return r;
              }};
}

}  // namespace
FAULTLINE_REGISTER_BACKEND(describe);
}  // namespace faultline::injector
