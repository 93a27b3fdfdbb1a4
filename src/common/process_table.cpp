#include "common/process_table.h"

#include <sys/stat.h>

#include <dirent.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace faultline {
namespace {

bool read_file(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  return true;
}

constexpr unsigned kPfKthread = 0x00200000;  // PF_KTHREAD from <linux/sched.h>

}  // namespace

std::optional<ProcessInfo> read_process(pid_t pid) {
  std::string base = "/proc/" + std::to_string(pid);
  std::string stat;
  if (!read_file(base + "/stat", stat) || stat.empty()) return std::nullopt;
  // comm is in parentheses and may itself contain ") ", so parse from the last ')'.
  size_t close = stat.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream rest(stat.substr(close + 2));
  std::string field;
  ProcessInfo info;
  info.pid = pid;
  unsigned long flags = 0;
  // Fields after comm start at 3 (state). flags is field 9, starttime field 22.
  for (int idx = 3; idx <= 22 && rest >> field; ++idx) {
    if (idx == 3) info.state = field.empty() ? '?' : field[0];
    if (idx == 4) info.ppid = static_cast<pid_t>(std::stol(field));
    if (idx == 9) flags = std::stoul(field);
    if (idx == 14 || idx == 15) info.cpu_ticks += std::stoull(field);
    if (idx == 22) info.start_time_ticks = std::stoull(field);
  }
  info.kernel_thread = (flags & kPfKthread) != 0;
  if (read_file(base + "/comm", info.comm) && !info.comm.empty() && info.comm.back() == '\n')
    info.comm.pop_back();
  std::string raw;
  if (read_file(base + "/cmdline", raw)) {
    while (!raw.empty() && raw.back() == '\0') raw.pop_back();
    std::replace(raw.begin(), raw.end(), '\0', ' ');
    info.cmdline = raw;
  }
  return info;
}

std::vector<ProcessInfo> list_processes() {
  std::vector<ProcessInfo> out;
  DIR* dir = opendir("/proc");
  if (dir == nullptr) return out;
  while (dirent* ent = readdir(dir)) {
    char* end = nullptr;
    long pid = std::strtol(ent->d_name, &end, 10);
    if (end == ent->d_name || *end != '\0' || pid <= 0) continue;
    if (auto info = read_process(static_cast<pid_t>(pid))) out.push_back(std::move(*info));
  }
  closedir(dir);
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.pid < b.pid; });
  return out;
}

Result<pid_t> read_pidfile(const std::string& path) {
  std::string text;
  if (!read_file(path, text))
    return make_error(ErrorCode::kNotFound,
                      "cannot read pidfile " + path + ": " + std::strerror(errno));
  char* end = nullptr;
  long pid = std::strtol(text.c_str(), &end, 10);
  while (end && (*end == ' ' || *end == '\n' || *end == '\t' || *end == '\r')) ++end;
  if (end == text.c_str() || (end && *end != '\0') || pid <= 0)
    return make_error(ErrorCode::kInvalidArgument, "pidfile " + path + " does not hold a PID");
  return static_cast<pid_t>(pid);
}

bool same_process_alive(pid_t pid, uint64_t start_time_ticks) {
  auto info = read_process(pid);
  // A zombie has died and waits only to be reaped: what it held (faults in its ledger) is
  // nobody's now, and a supervisor that has not reaped it yet must not keep them alive.
  return info && info->start_time_ticks == start_time_ticks && info->state != 'Z' &&
         info->state != 'X';
}

std::optional<pid_t> pid_in_own_namespace(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("NSpid:", 0) != 0) continue;
    std::istringstream ids(line.substr(6));
    pid_t last = 0;
    for (pid_t v; ids >> v;) last = v;
    return last;
  }
  return std::nullopt;
}

uint64_t namespace_file_inode(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

uint64_t pid_namespace_inode(pid_t pid) {
  return namespace_file_inode("/proc/" + std::to_string(pid) + "/ns/pid");
}

}  // namespace faultline
