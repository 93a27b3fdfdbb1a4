#include "common/audit_log.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "common/sha256.h"
#include "common/state_dir.h"
#include "common/time_util.h"

namespace faultline {
namespace {

using nlohmann::json;          // sorted keys: the canonical form that is hashed
using nlohmann::ordered_json;  // fixed key order: the line people read

const std::string kGenesis(64, '0');

// Invalid UTF-8 (a peer string, an error text) must not make an append throw; writer and
// verifier both see the replaced text, so the hash still matches.
template <typename J>
std::string dump(const J& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

// prev + every other field but the hash. Sorted keys make this independent of the order the
// line lists them in, and a key added by hand is covered too.
std::string entry_hash(const json& e) {
  json fields = e;
  fields.erase("hash");
  fields.erase("prev");
  return sha256_hex(e.at("prev").get<std::string>() + dump(fields));
}

bool is_hex64(const json& v) {
  if (!v.is_string()) return false;
  const auto& s = v.get_ref<const std::string&>();
  return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

// Why a parsed line cannot be a chain link, or "" when it can.
std::string shape_problem(const json& e) {
  if (e.is_discarded()) return "not valid JSON";
  if (!e.is_object()) return "not a JSON object";
  if (!e.contains("seq") || !e["seq"].is_number_unsigned()) return "no valid seq";
  if (!e.contains("prev") || !is_hex64(e["prev"])) return "no valid prev hash";
  if (!e.contains("hash") || !is_hex64(e["hash"])) return "no valid hash";
  return "";
}

std::string errno_text() {
  return std::strerror(errno);
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);  // also drops the flock
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  bool ok() const { return fd_ >= 0; }

 private:
  int fd_;
};

bool lock(int fd, int op) {
  while (::flock(fd, op) != 0)
    if (errno != EINTR) return false;
  return true;
}

bool write_all(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

struct Tail {
  uint64_t seq = 0;
  std::string hash = kGenesis;
  off_t size = 0;
};

// The last line, read backwards from the end, so an append costs the same however long the
// log has grown.
Result<Tail> read_tail(int fd, const std::string& path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0)
    return make_error(ErrorCode::kUnavailable, "cannot stat audit log " + path);
  Tail t;
  t.size = st.st_size;
  if (st.st_size == 0) return t;
  auto bad = [&](const std::string& why) {
    return make_error(ErrorCode::kFailedPrecondition,
                      "audit log " + path + ": the last line is not an entry (" + why +
                          "); run `faultline audit verify " + path + "`");
  };
  char c = 0;
  if (::pread(fd, &c, 1, st.st_size - 1) != 1)
    return make_error(ErrorCode::kUnavailable,
                      "cannot read audit log " + path + ": " + errno_text());
  if (c != '\n') return bad("no newline at the end: a torn write, or edited");
  std::string line;
  constexpr off_t kChunk = 4096;
  for (off_t end = st.st_size - 1; end > 0;) {
    off_t n = std::min(kChunk, end);
    std::string buf(static_cast<size_t>(n), '\0');
    if (::pread(fd, buf.data(), buf.size(), end - n) != n)
      return make_error(ErrorCode::kUnavailable,
                        "cannot read audit log " + path + ": " + errno_text());
    auto nl = buf.rfind('\n');
    if (nl != std::string::npos) {
      line.insert(0, buf, nl + 1);
      break;
    }
    line.insert(0, buf);
    end -= n;
  }
  json e = json::parse(line, nullptr, false);
  if (auto why = shape_problem(e); !why.empty()) return bad(why);
  t.seq = e["seq"].get<uint64_t>();
  t.hash = e["hash"].get<std::string>();
  return t;
}

// Without the head, cutting entries off the end would leave a shorter chain that is still
// valid. Written after the entry is durable, replaced atomically.
Status write_head(const std::string& path, uint64_t seq, const std::string& hash) {
  std::string head = path + ".head", tmp = head + ".tmp";
  auto fail = [&] {
    return make_error(ErrorCode::kInternal, "entry " + std::to_string(seq) + " appended but " +
                                                head + " not updated: " + errno_text());
  };
  {
    Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640));
    if (!fd.ok() || !write_all(fd.get(), std::to_string(seq) + " " + hash + "\n") ||
        ::fsync(fd.get()) != 0)
      return fail();
  }
  if (::rename(tmp.c_str(), head.c_str()) != 0) return fail();
  auto dir = std::filesystem::path(head).parent_path();
  Fd dfd(::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dfd.ok()) ::fsync(dfd.get());  // the rename itself survives a power cut
  return Ok{};
}

struct Head {
  bool present = false;
  bool valid = false;
  uint64_t seq = 0;
  std::string hash;
};

Head read_head(const std::string& path) {
  Head h;
  std::ifstream in(path + ".head");
  if (!in) return h;
  h.present = true;
  std::string extra;
  h.valid = static_cast<bool>(in >> h.seq >> h.hash) && is_hex64(h.hash) && !(in >> extra);
  return h;
}

// The line (after `after`) that holds entry `seq`, if any: tells reordering from deletion.
std::optional<size_t> line_of_seq(const std::string& path, uint64_t seq, size_t after) {
  std::ifstream in(path);
  size_t lineno = 0;
  for (std::string line; std::getline(in, line);) {
    if (++lineno <= after) continue;
    json e = json::parse(line, nullptr, false);
    if (shape_problem(e).empty() && e["seq"].get<uint64_t>() == seq) return lineno;
  }
  return std::nullopt;
}

std::string seq_problem(const std::string& path, uint64_t seq, uint64_t expect, size_t lineno,
                        bool links_to_previous) {
  std::string s = std::to_string(seq), k = std::to_string(expect), l = std::to_string(lineno);
  if (links_to_previous)
    return "its seq reads " + s + " but it " +
           (expect == 1 ? "starts the chain" : "links to entry " + std::to_string(expect - 1)) +
           " (seq edited)";
  if (seq < expect) return "line " + l + " holds entry " + s + " again (duplicated or reordered)";
  if (auto at = line_of_seq(path, expect, lineno))
    return "out of order: line " + l + " holds entry " + s + ", entry " + k + " is at line " +
           std::to_string(*at) + " (reordered)";
  return "missing: line " + l + " holds entry " + s + " (entr" +
         (seq - expect == 1 ? "y " + k : "ies " + k + ".." + std::to_string(seq - 1)) + " deleted)";
}

}  // namespace

std::string default_audit_log_path() {
  return state_dir() + "/audit.log";
}

Result<std::unique_ptr<AuditLog>> AuditLog::open(const std::string& path) {
  auto parent = std::filesystem::path(path).parent_path();
  std::error_code ec;
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (ec)
    return make_error(ErrorCode::kUnavailable,
                      "cannot create " + parent.string() + ": " + ec.message());
  Fd fd(::open(path.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0640));
  if (!fd.ok())
    return make_error(ErrorCode::kUnavailable,
                      "cannot open audit log " + path + ": " + errno_text());
  if (!lock(fd.get(), LOCK_SH))
    return make_error(ErrorCode::kUnavailable,
                      "cannot lock audit log " + path + ": " + errno_text());
  auto tail = read_tail(fd.get(), path);
  if (!tail) return tail.error();
  spdlog::info("audit log {} continues after entry {}", path, tail->seq);
  return std::unique_ptr<AuditLog>(new AuditLog(path));
}

Status AuditLog::append(const AuditEntry& entry) {
  return append_all({entry});
}

Status AuditLog::append_all(const std::vector<AuditEntry>& entries) {
  if (entries.empty()) return Ok{};
  std::lock_guard guard(mu_);
  Fd fd(::open(path_.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0640));
  if (!fd.ok())
    return make_error(ErrorCode::kUnavailable,
                      "cannot open audit log " + path_ + ": " + errno_text());
  // Other processes (the CLI, another controller by mistake) append too: taking the tail from
  // the file under an exclusive lock, not from memory, keeps the chain one line.
  if (!lock(fd.get(), LOCK_EX))
    return make_error(ErrorCode::kUnavailable,
                      "cannot lock audit log " + path_ + ": " + errno_text());
  auto tail = read_tail(fd.get(), path_);
  if (!tail) return tail.error();

  int64_t now = unix_millis_now();
  uint64_t seq = tail->seq;
  std::string prev = tail->hash, lines;
  for (const auto& entry : entries) {
    ordered_json e;
    e["seq"] = ++seq;
    e["time"] = format_utc_millis(now);
    e["unix_ms"] = now;
    e["actor"] = entry.actor;
    e["role"] = entry.role;
    e["action"] = entry.action;
    e["target"] = entry.target;
    e["peer"] = entry.peer;
    e["outcome"] = entry.outcome;
    e["detail"] = entry.detail;
    e["prev"] = prev;
    // Hash what a reader will parse back from the line, not the values in memory.
    prev = entry_hash(json::parse(dump(e)));
    e["hash"] = prev;
    lines += dump(e) + "\n";
  }
  if (!write_all(fd.get(), lines) || ::fdatasync(fd.get()) != 0) {
    std::string why = errno_text();
    // A torn line would make every later open and append fail: cut it back off.
    if (::ftruncate(fd.get(), tail->size) != 0)
      spdlog::error("audit log {}: cannot remove a partly written entry", path_);
    return make_error(ErrorCode::kInternal, "cannot append to audit log " + path_ + ": " + why);
  }
  return write_head(path_, seq, prev);
}

AuditVerifyResult verify_audit_log(const std::string& path) {
  AuditVerifyResult r;
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  struct stat st {};
  if (!fd.ok() || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    r.problem = "cannot read " + path + ": " + (fd.ok() ? "not a regular file" : errno_text());
    return r;
  }
  // Shared lock: an append landing between reading the log and reading its head would
  // otherwise look like entries cut off the end.
  lock(fd.get(), LOCK_SH);
  Head head = read_head(path);
  FILE* f = ::fdopen(::dup(fd.get()), "r");
  if (!f) {
    r.problem = "cannot read " + path + ": " + errno_text();
    return r;
  }

  std::string prev = kGenesis, hash_at_head;
  size_t line_at_head = 0;
  uint64_t expect = 1;
  size_t lineno = 0;
  auto fail = [&](const std::string& what) {
    r.problem =
        "entry " + std::to_string(expect) + " (line " + std::to_string(lineno) + "): " + what;
    return r;
  };
  char* buf = nullptr;
  size_t cap = 0;
  ssize_t n;
  std::string problem;
  while (problem.empty() && (n = ::getline(&buf, &cap, f)) >= 0) {
    ++lineno;
    std::string line(buf, static_cast<size_t>(n));
    if (!line.empty() && line.back() == '\n') line.pop_back();
    json e = json::parse(line, nullptr, false);
    if (auto why = shape_problem(e); !why.empty()) {
      problem = why + " (edited, or a torn write)";
      break;
    }
    uint64_t seq = e["seq"].get<uint64_t>();
    const auto& eprev = e["prev"].get_ref<const std::string&>();
    if (seq != expect) {
      problem = seq_problem(path, seq, expect, lineno, eprev == prev);
    } else if (eprev != prev) {
      problem =
          "its prev hash is not the hash of " +
          (expect == 1 ? std::string("the chain start") : "entry " + std::to_string(expect - 1)) +
          " (prev edited, or an entry before it replaced)";
    } else if (entry_hash(e) != e["hash"].get<std::string>()) {
      problem = "its content does not match its hash (edited)";
    } else {
      prev = e["hash"].get<std::string>();
      if (head.valid && seq == head.seq) {
        hash_at_head = prev;
        line_at_head = lineno;
      }
      ++expect;
      ++r.entries;
    }
  }
  bool read_error = std::ferror(f);
  std::free(buf);
  std::fclose(f);
  if (!problem.empty()) return fail(problem);
  if (read_error) {
    r.problem = "cannot read " + path + " after line " + std::to_string(lineno);
    return r;
  }

  // The log alone cannot show entries cut off its end; the head says where it ended.
  std::string last = std::to_string(r.entries), next = std::to_string(r.entries + 1);
  std::string next_line = std::to_string(lineno + 1);
  if (!head.present && r.entries > 0) {
    r.problem = "after entry " + last + ": head file " + path +
                ".head is missing, so entries cut off the end cannot be ruled out";
  } else if (head.present && !head.valid) {
    r.problem = "after entry " + last + ": head file " + path + ".head is not \"<seq> <hash>\"";
  } else if (head.seq > r.entries) {
    r.problem = "entry " + next + " (line " + next_line + "): missing: the log " +
                (r.entries ? "ends after entry " + last : std::string("is empty")) +
                " but the head file records " + std::to_string(head.seq) +
                " entries written (entries cut off the end)";
  } else if (head.seq > 0 && hash_at_head != head.hash) {
    r.problem = "entry " + std::to_string(head.seq) + " (line " + std::to_string(line_at_head) +
                "): not the entry that was written (its hash differs from the head file's)";
  } else if (r.entries > head.seq + 1) {
    // One behind is a crash between the entry's fdatasync and the head's rename.
    r.problem = "entry " + std::to_string(head.seq + 2) + ": entries " +
                std::to_string(head.seq + 2) + ".." + last +
                " were added without updating the head file (appended by hand?)";
  }
  r.ok = r.problem.empty();
  return r;
}

}  // namespace faultline
