// Read-only views of /proc used to find and identify processes. In common so that the CLI
// and the tests read /proc the same way the injector does, without depending on it.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace faultline {

struct ProcessInfo {
  pid_t pid = 0;
  uint64_t start_time_ticks = 0;  // field 22 of /proc/PID/stat; with pid, names a process
  pid_t ppid = 0;                 // field 4
  std::string comm;               // /proc/PID/comm
  std::string cmdline;            // argv joined by ' '; empty for kernel threads
  bool kernel_thread = false;
  char state = '?';        // field 3 of /proc/PID/stat: R, S, T (stopped), Z, ...
  uint64_t cpu_ticks = 0;  // utime + stime, fields 14 and 15, in clock ticks
};

// Reads one process; nullopt if it does not exist (or vanished while reading).
std::optional<ProcessInfo> read_process(pid_t pid);

// Every process visible in /proc, in PID order.
std::vector<ProcessInfo> list_processes();

// Reads a pidfile: one decimal PID, optional trailing whitespace.
Result<pid_t> read_pidfile(const std::string& path);

// The process's PID inside its own PID namespace (the last NSpid entry of
// /proc/PID/status); nullopt if it is gone.
std::optional<pid_t> pid_in_own_namespace(pid_t pid);

// Inode of the PID namespace a process is in, or of a namespace file such as
// /proc/42/ns/pid; 0 if unreadable.
uint64_t pid_namespace_inode(pid_t pid);
uint64_t namespace_file_inode(const std::string& path);

// True when (pid, start_time) still names the same living process (a zombie is not living).
bool same_process_alive(pid_t pid, uint64_t start_time_ticks);

}  // namespace faultline
