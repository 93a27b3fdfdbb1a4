// The audit trail: every API request (who, role, what, on what, from where, outcome) and every
// fault applied or reverted, one JSON line each. Each entry carries the SHA-256 of the one
// before it and its own, so editing, deleting or reordering any entry breaks the chain at that
// entry, and a head file (last seq and hash, replaced atomically) catches entries cut off the
// end. Tamper-evident, not tamper-proof: someone who can rewrite the whole file and the head
// can forge a consistent chain; ship the head hash elsewhere to anchor it.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/result.h"

namespace faultline {

struct AuditEntry {
  std::string actor;    // token name, injector node name, "controller", "local:<user>"
  std::string role;     // viewer / operator / admin / injector / ""
  std::string action;   // "SubmitExperiment", "fault.applied", ...
  std::string target;   // run id, fault id, node name
  std::string peer;     // gRPC peer ("ipv4:127.0.0.1:5555"), a node, or "local"
  std::string outcome;  // "ok", "denied: why", "error: why"
  std::string detail;
};

class AuditLog {
 public:
  // Opens (creating the file and its directory) and continues the chain from its last entry.
  // Errors: the file cannot be opened or read, or its last line is not an entry.
  static Result<std::unique_ptr<AuditLog>> open(const std::string& path);
  // Thread- and process-safe (flock): appends one line and fdatasyncs it before returning.
  Status append(const AuditEntry& entry);
  // Several entries chained in order with one write and one sync (a fault on many nodes).
  Status append_all(const std::vector<AuditEntry>& entries);
  const std::string& path() const { return path_; }

 private:
  explicit AuditLog(std::string path) : path_(std::move(path)) {}
  std::string path_;
  std::mutex mu_;
};

// <state dir>/audit.log
std::string default_audit_log_path();

struct AuditVerifyResult {
  bool ok = false;
  size_t entries = 0;   // entries checked
  std::string problem;  // "entry 7 (line 7): ..." when not ok
};
AuditVerifyResult verify_audit_log(const std::string& path);

}  // namespace faultline
