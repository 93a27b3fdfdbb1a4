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

}  // namespace

std::string DiskFillBackend::fill_file(const std::string& fault_id, const std::string& path) {
  struct stat st {};
  std::string dir = path;
  if (::stat(path.c_str(), &st) == 0 && !S_ISDIR(st.st_mode)) {
    auto slash = path.rfind('/');
    dir = slash == std::string::npos ? "." : path.substr(0, slash == 0 ? 1 : slash);
  }
  return dir + (dir.ends_with('/') ? "" : "/") + ".faultline-fill-" + fault_id;
}

Result<AppliedFault> DiskFillBackend::apply(const std::string& fault_id,
                                            const pb::FaultSpec& spec) {
  const auto& d = spec.disk_fill();
  if (d.path().empty()) return make_error(ErrorCode::kInvalidArgument, "disk_fill needs a path");
  struct statvfs vfs {};
  if (::statvfs(d.path().c_str(), &vfs) != 0) return sys_error("statvfs " + d.path());
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
                        d.path() + " is already " +
                            format_percent(static_cast<double>(used) / static_cast<double>(total)) +
                            " used (asked for " + format_percent(d.fraction()) + ")");
    want = static_cast<uint64_t>(target_used) - used;
  }
  if (avail <= reserve)
    return make_error(ErrorCode::kFailedPrecondition, d.path() + " has only " + format_size(avail) +
                                                          " free, within the reserve of " +
                                                          format_size(reserve));
  bool capped = want > avail - reserve;
  if (capped) want = avail - reserve;
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
  double used_after =
      1.0 - static_cast<double>(after.f_bfree) / static_cast<double>(after.f_blocks);
  applied.state.set_summary(
      "wrote " + format_size(want) + " to " + file + "; filesystem now " +
      format_percent(used_after) + " used" +
      (capped ? " (capped by the reserve of " + format_size(reserve) + ")" : ""));
  spdlog::info("disk fill applied fault_id={} file={} bytes={}", fault_id, file, want);
  return applied;
}

std::string DiskFillBackend::achieved(const AppliedFault& fault) {
  uint64_t bytes = 0;
  for (const auto& f : fault.state.created_files()) {
    std::error_code ec;
    auto size = std::filesystem::file_size(f, ec);
    if (!ec) bytes += size;
  }
  return fmt::format("held {:.1f} MiB on disk", static_cast<double>(bytes) / (1024.0 * 1024.0));
}

Status DiskFillBackend::revert(const AppliedFault& fault) {
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
  return {
      .kind = "disk_fill",
      .make = [](BackendContext&) { return std::make_unique<DiskFillBackend>(); },
      .reach =
          [](const pb::FaultSpec& spec) { return FaultReach{.paths = {spec.disk_fill().path()}}; }};
}

}  // namespace
FAULTLINE_REGISTER_BACKEND(describe);
}  // namespace faultline::injector
