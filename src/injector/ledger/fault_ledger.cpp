#include "injector/ledger/fault_ledger.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "common/log.h"
#include "common/process_table.h"
#include "common/state_dir.h"

namespace faultline::injector {
namespace {

namespace fs = std::filesystem;

Error io_error(const std::string& what, const std::string& path) {
  return make_error(ErrorCode::kInternal, what + " " + path + ": " + std::strerror(errno));
}

// Durable: data and the directory entry both reach the disk before we return.
Status write_durably(const std::string& dir, const std::string& name, const std::string& bytes) {
  std::string tmp = dir + "/." + name + ".tmp";
  std::string final_path = dir + "/" + name;
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return io_error("cannot create", tmp);
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      return io_error("cannot write", tmp);
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    ::close(fd);
    return io_error("cannot fsync", tmp);
  }
  ::close(fd);
  if (::rename(tmp.c_str(), final_path.c_str()) != 0) return io_error("cannot rename", tmp);
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return Ok{};
}

int64_t now_unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Whether `name` is an owner's directory name: "<pid>.<start_ticks>", digits only.
bool is_owner_name(const std::string& name) {
  auto dot = name.find('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 == name.size()) return false;
  return name.find_first_not_of("0123456789.") == std::string::npos &&
         name.find('.', dot + 1) == std::string::npos;
}

// "<pid>.<start_ticks>" -> whether that process is still the one that wrote it.
bool owner_alive(const std::string& name) {
  auto dot = name.find('.');
  if (dot == std::string::npos) return false;
  try {
    pid_t pid = std::stoi(name.substr(0, dot));
    uint64_t ticks = std::stoull(name.substr(dot + 1));
    return same_process_alive(pid, ticks);
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace

std::string default_ledger_root() {
  return state_dir() + "/ledger";
}

Result<FaultLedger> FaultLedger::open(const std::string& root) {
  auto self = read_process(getpid());
  if (!self) return make_error(ErrorCode::kInternal, "cannot read /proc/self");
  std::string dir =
      root + "/" + std::to_string(getpid()) + "." + std::to_string(self->start_time_ticks);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec)
    return make_error(ErrorCode::kInternal, "cannot create ledger " + dir + ": " + ec.message());
  fs::permissions(root, fs::perms::owner_all, fs::perm_options::replace, ec);
  return FaultLedger(dir);
}

Status FaultLedger::write(const pb::LedgerEntry& entry) {
  std::string bytes;
  entry.SerializeToString(&bytes);
  return write_durably(dir_, entry.fault_id() + ".entry", bytes);
}

Status FaultLedger::record_intent(const std::string& fault_id, const pb::FaultSpec& spec) {
  pb::LedgerEntry e;
  e.set_fault_id(fault_id);
  *e.mutable_spec() = spec;
  e.set_recorded_unix_ms(now_unix_ms());
  return write(e);
}

Status FaultLedger::record_applied(const std::string& fault_id, const pb::FaultSpec& spec,
                                   const pb::AppliedState& state) {
  pb::LedgerEntry e;
  e.set_fault_id(fault_id);
  *e.mutable_spec() = spec;
  *e.mutable_state() = state;
  e.set_applied(true);
  e.set_recorded_unix_ms(now_unix_ms());
  return write(e);
}

Status FaultLedger::forget(const std::string& fault_id) {
  std::string path = dir_ + "/" + fault_id + ".entry";
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return io_error("cannot remove", path);
  return Ok{};
}

void FaultLedger::close() {
  std::error_code ec;
  if (fs::is_empty(dir_, ec) && !ec) fs::remove(dir_, ec);
}

std::vector<FaultLedger::Orphan> FaultLedger::orphans(const std::string& root) {
  std::vector<Orphan> out;
  std::error_code ec;
  if (!fs::is_directory(root, ec)) return out;
  std::vector<fs::path> owners;
  // Only owners' directories: anything else under the root (the node's claims) is not ours
  // to read or remove.
  for (const auto& d : fs::directory_iterator(root, ec)) {
    std::string name = d.path().filename().string();
    if (d.is_directory() && is_owner_name(name) && !owner_alive(name)) owners.push_back(d.path());
  }
  std::sort(owners.begin(), owners.end());
  for (const auto& owner : owners) {
    bool any = false;
    for (const auto& f : fs::directory_iterator(owner, ec)) {
      if (f.path().extension() != ".entry") continue;
      any = true;
      std::ifstream in(f.path(), std::ios::binary);
      std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      Orphan o;
      o.path = f.path().string();
      if (!o.entry.ParseFromString(bytes)) {
        spdlog::error("ledger entry unreadable path={}; left in place for a person to inspect",
                      o.path);
        continue;
      }
      out.push_back(std::move(o));
    }
    if (!any) fs::remove_all(owner, ec);  // only half-written temp files, or nothing
  }
  return out;
}

void FaultLedger::remove_orphan(const Orphan& orphan) {
  std::error_code ec;
  fs::path p(orphan.path);
  fs::remove(p, ec);
  bool empty = true;
  for (const auto& f : fs::directory_iterator(p.parent_path(), ec))
    if (f.path().extension() == ".entry") empty = false;
  if (empty) fs::remove_all(p.parent_path(), ec);
}

}  // namespace faultline::injector
