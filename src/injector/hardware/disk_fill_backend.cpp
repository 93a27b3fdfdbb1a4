#include "injector/hardware/disk_fill_backend.h"

#include "injector/backend_registry.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <filesystem>

#include <cerrno>
#include <cstring>
#include <vector>

#include "common/log.h"
#include "common/quantity.h"
#include "injector/containers/container_fs.h"

namespace faultline::injector {
namespace {

Error sys_error(const std::string& what) {
  return make_error(ErrorCode::kFailedPrecondition, what + ": " + std::strerror(errno));
}

// Allocates `bytes` for real: fallocate where the filesystem supports it, else writes.
Status allocate(int fd, uint64_t bytes) {
  if (::fallocate(fd, 0, 0, static_cast<off_t>(bytes)) == 0) return Ok{};
  if (errno != EOPNOTSUPP) return sys_error("fallocate");
  std::vector<char> zeros(1 << 20, 0);
  uint64_t done = 0;
  while (done < bytes) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(zeros.size(), bytes - done));
    ssize_t w = ::write(fd, zeros.data(), n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return sys_error("write");
    done += static_cast<uint64_t>(w);
  }
  ::fsync(fd);
  return Ok{};
}

struct FillSize {
  uint64_t bytes = 0;
  bool capped = false;  // by the reserve
  uint64_t reserve = 0;
};

// How much to write on the filesystem `vfs` describes, as the fault asks, never into the reserve.
Result<FillSize> fill_size(const pb::DiskFill& d, const struct statvfs& vfs,
                           const std::string& shown) {
  uint64_t block = vfs.f_frsize;
  uint64_t total = vfs.f_blocks * block;
  uint64_t avail = vfs.f_bavail * block;
  uint64_t used = total - vfs.f_bfree * block;
  uint64_t reserve = d.reserve_bytes() ? d.reserve_bytes() : 100ull << 20;
  uint64_t want = d.size_bytes();
  if (want == 0) {
    double target_used = d.fraction() * static_cast<double>(total);
    if (target_used <= static_cast<double>(used))
      return make_error(ErrorCode::kFailedPrecondition,
                        shown + " is already " +
                            format_percent(static_cast<double>(used) / static_cast<double>(total)) +
                            " used (asked for " + format_percent(d.fraction()) + ")");
    want = static_cast<uint64_t>(target_used) - used;
  }
  if (avail <= reserve)
    return make_error(ErrorCode::kFailedPrecondition, shown + " has only " + format_size(avail) +
                                                          " free, within the reserve of " +
                                                          format_size(reserve));
  bool capped = want > avail - reserve;
  if (capped) want = avail - reserve;
  return FillSize{want, capped, reserve};
}

double used_share(const struct statvfs& vfs) {
  return 1.0 - static_cast<double>(vfs.f_bfree) / static_cast<double>(vfs.f_blocks);
}

std::string fill_name(const std::string& fault_id) {
  return ".faultline-fill-" + fault_id;
}

}  // namespace

std::string DiskFillBackend::fill_file(const std::string& fault_id, const std::string& path) {
  struct stat st {};
  std::string dir = path;
  if (::stat(path.c_str(), &st) == 0 && !S_ISDIR(st.st_mode)) {
    auto slash = path.rfind('/');
    dir = slash == std::string::npos ? "." : path.substr(0, slash == 0 ? 1 : slash);
  }
  return dir + (dir.ends_with('/') ? "" : "/") + fill_name(fault_id);
}

Result<AppliedFault> DiskFillBackend::apply(const std::string& fault_id,
                                            const pb::FaultSpec& spec) {
  const auto& d = spec.disk_fill();
  if (d.path().empty()) return make_error(ErrorCode::kInvalidArgument, "disk_fill needs a path");
  if (d.has_in_container()) return apply_in_container(fault_id, spec);
  struct statvfs vfs {};
  if (::statvfs(d.path().c_str(), &vfs) != 0) return sys_error("statvfs " + d.path());
  auto size = fill_size(d, vfs, d.path());
  if (!size) return size.error();
  auto [want, capped, reserve] = *size;
  std::string file = fill_file(fault_id, d.path());
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return sys_error("cannot create " + file);
  Status s = allocate(fd, want);
  ::close(fd);
  if (!s) {
    ::unlink(file.c_str());
    return s.error();
  }
  AppliedFault applied{fault_id, spec, {}};
  applied.state.add_created_files(file);
  applied.state.set_achieved_bytes(want);
  struct statvfs after {};
  ::statvfs(d.path().c_str(), &after);
  double used_after = used_share(after);
  applied.state.set_summary(
      "wrote " + format_size(want) + " to " + file + "; filesystem now " +
      format_percent(used_after) + " used" +
      (capped ? " (capped by the reserve of " + format_size(reserve) + ")" : ""));
  spdlog::info("disk fill applied fault_id={} file={} bytes={}", fault_id, file, want);
  return applied;
}

Result<AppliedFault> DiskFillBackend::apply_in_container(const std::string& fault_id,
                                                         const pb::FaultSpec& spec) {
  const auto& d = spec.disk_fill();
  const auto& cgroups = d.in_container().container_cgroups();
  AppliedFault applied{fault_id, spec, {}};
  if (cgroups.empty()) {
    applied.state.set_summary("no matching container on this node: nothing filled");
    return applied;
  }
  if (cgroups.size() > 1)
    return make_error(ErrorCode::kInvalidArgument,
                      "disk_fill fills one container's filesystem; the target matches " +
                          std::to_string(cgroups.size()) + " containers: name one (pod.container)");
  auto dir = open_container_dir(cgroups[0], d.path());
  if (!dir) return dir.error();
  struct statvfs vfs {};
  if (::fstatvfs(dir->fd.get(), &vfs) != 0) return sys_error("statvfs " + d.path());
  auto size = fill_size(d, vfs, d.path() + " in the container");
  if (!size) return size.error();
  std::string name = fill_name(fault_id);
  // O_NOFOLLOW and O_EXCL: nothing the container put there is opened instead.
  int fd = ::openat(dir->fd.get(), name.c_str(),
                    O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    return sys_error("cannot create " + name + " in " + dir->inside + " in the container");
  Status s = allocate(fd, size->bytes);
  ::close(fd);
  if (!s) {
    ::unlinkat(dir->fd.get(), name.c_str(), 0);
    return s.error();
  }
  std::string file = dir->inside + (dir->inside.ends_with('/') ? "" : "/") + name;
  applied.state.add_created_files(file);
  applied.state.set_achieved_bytes(size->bytes);
  struct statvfs after {};
  ::fstatvfs(dir->fd.get(), &after);
  applied.state.set_summary(
      "wrote " + format_size(size->bytes) + " to " + file + " in the container's filesystem; now " +
      format_percent(used_share(after)) + " used" +
      (size->capped ? " (capped by the reserve of " + format_size(size->reserve) + ")" : ""));
  spdlog::info("disk fill applied in container fault_id={} cgroup={} file={} bytes={}", fault_id,
               cgroups[0], file, size->bytes);
  return applied;
}

Status DiskFillBackend::revert_in_container(const AppliedFault& fault) {
  const auto& d = fault.spec.disk_fill();
  std::vector<std::string> files(fault.state.created_files().begin(),
                                 fault.state.created_files().end());
  if (files.empty()) files.push_back(d.path() + "/" + fill_name(fault.fault_id));
  for (const auto& cg : d.in_container().container_cgroups()) {
    for (const auto& f : files) {
      std::filesystem::path p(f);
      auto dir = open_container_dir(cg, p.parent_path().string());
      if (!dir) {
        // The container is gone, and its filesystem with the file; or the directory is.
        spdlog::info("disk fill: nothing to remove fault_id={} file={} why=\"{}\"", fault.fault_id,
                     f, dir.error().message);
        continue;
      }
      if (::unlinkat(dir->fd.get(), p.filename().c_str(), 0) != 0 && errno != ENOENT)
        return sys_error("cannot remove " + f + " in the container");
      spdlog::info("disk fill removed in container fault_id={} file={}", fault.fault_id, f);
    }
  }
  return Ok{};
}

std::string DiskFillBackend::achieved(const AppliedFault& fault) {
  if (fault.spec.disk_fill().has_in_container()) {
    uint64_t bytes = 0;
    for (const auto& cg : fault.spec.disk_fill().in_container().container_cgroups())
      for (const auto& f : fault.state.created_files()) {
        std::filesystem::path p(f);
        auto dir = open_container_dir(cg, p.parent_path().string());
        struct stat st {};
        if (dir && ::fstatat(dir->fd.get(), p.filename().c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0)
          bytes += static_cast<uint64_t>(st.st_blocks) * 512;
      }
    return fmt::format("held {:.1f} MiB on the container's disk",
                       static_cast<double>(bytes) / (1024.0 * 1024.0));
  }
  uint64_t bytes = 0;
  for (const auto& f : fault.state.created_files()) {
    std::error_code ec;
    auto size = std::filesystem::file_size(f, ec);
    if (!ec) bytes += size;
  }
  return fmt::format("held {:.1f} MiB on disk", static_cast<double>(bytes) / (1024.0 * 1024.0));
}

Status DiskFillBackend::revert(const AppliedFault& fault) {
  if (fault.spec.disk_fill().has_in_container()) return revert_in_container(fault);
  std::vector<std::string> files(fault.state.created_files().begin(),
                                 fault.state.created_files().end());
  if (files.empty()) files.push_back(fill_file(fault.fault_id, fault.spec.disk_fill().path()));
  for (const auto& f : files) {
    if (::unlink(f.c_str()) != 0 && errno != ENOENT) return sys_error("cannot remove " + f);
    spdlog::info("disk fill removed fault_id={} file={}", fault.fault_id, f);
  }
  return Ok{};
}

Status DiskFillBackend::recover_intent(const std::string& fault_id, const pb::FaultSpec& spec) {
  return revert({fault_id, spec, {}});
}

}  // namespace faultline::injector

namespace faultline::injector {
namespace {

BackendRegistration describe() {
  return {.kind = "disk_fill",
          .make = [](BackendContext&) { return std::make_unique<DiskFillBackend>(); },
          .reach =
              [](const pb::FaultSpec& spec) {
                // In a container the path is the container's: the policy sees its processes.
                if (spec.disk_fill().has_in_container())
                  return FaultReach{.processes = {{spec.disk_fill().in_container(), ""}}};
                return FaultReach{.paths = {spec.disk_fill().path()}};
              }};
}

}  // namespace
FAULTLINE_REGISTER_BACKEND(describe);
}  // namespace faultline::injector
