#include "cli/audit_command.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/audit_log.h"
#include "common/exit_codes.h"

namespace faultline::cli {
namespace {

// A missing log is an operator error (wrong path, wrong state dir), not tampering: exit 3.
bool readable(const std::string& path) {
  std::error_code ec;
  bool is_dir = std::filesystem::is_directory(path, ec);
  std::ifstream in(path);
  if (in && !is_dir) return true;
  std::fprintf(stderr, "faultline: cannot read audit log %s: %s\n", path.c_str(),
               is_dir ? "is a directory" : std::strerror(errno));
  return false;
}

using Row = std::array<std::string, 7>;

// Names in the trail come from callers (a token's name, an experiment's source name, an
// injector's node name): printed raw, a newline or a terminal escape could forge a line or
// rewrite the screen. Control bytes are shown as \xNN, and the backslash as \\.
std::string printable(const std::string& cell) {
  std::string out;
  for (size_t i = 0; i < cell.size(); ++i) {
    unsigned char c = cell[i];
    char buf[8];
    if (c == '\\') {
      out += "\\\\";
    } else if (c < 0x20 || c == 0x7f) {
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else if (c == 0xc2 && i + 1 < cell.size() && (unsigned char)cell[i + 1] >= 0x80 &&
               (unsigned char)cell[i + 1] <= 0x9f) {
      // A C1 control in UTF-8 (U+0080..U+009F; U+009B is a terminal's CSI).
      std::snprintf(buf, sizeof buf, "\\u%04x", (unsigned char)cell[++i]);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

Row to_row(const std::string& line) {
  auto e = nlohmann::json::parse(line, nullptr, false);
  if (!e.is_object()) return {"?", "(not an entry: " + printable(line.substr(0, 60)) + ")"};
  auto s = [&](const char* key) {
    auto it = e.find(key);
    return it != e.end() && it->is_string() ? printable(it->get<std::string>()) : std::string();
  };
  auto it = e.find("seq");
  std::string seq = it != e.end() && it->is_number() ? it->dump() : "?";
  std::string who = s("actor") + (s("role").empty() ? "" : "(" + s("role") + ")");
  return {seq, s("time"), who, s("action"), s("target"), s("outcome"), s("peer")};
}

}  // namespace

int verify_audit(const std::string& path) {
  if (!readable(path)) return kExitInvalidOrInfra;
  auto r = verify_audit_log(path);
  if (!r.ok) {
    std::printf("audit log %s: TAMPERED: %s\n", path.c_str(), r.problem.c_str());
    return kExitHypothesisFailed;
  }
  std::printf("audit log OK: %zu entries, chain intact (%s)\n", r.entries, path.c_str());
  return kExitPassed;
}

int show_audit(const std::string& path, size_t tail) {
  if (!readable(path)) return kExitInvalidOrInfra;
  std::ifstream in(path);
  std::deque<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    lines.push_back(std::move(line));
    if (tail && lines.size() > tail) lines.pop_front();
  }
  std::vector<Row> rows{{"SEQ", "TIME (UTC)", "WHO", "ACTION", "TARGET", "OUTCOME", "FROM"}};
  for (const auto& line : lines) rows.push_back(to_row(line));
  // Columns as wide as their widest cell among the rows shown.
  std::array<size_t, 7> width{};
  for (const auto& row : rows)
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  for (const auto& row : rows) {
    std::string out;
    for (size_t i = 0; i < row.size(); ++i) {
      out += row[i];
      if (i + 1 < row.size()) out += std::string(width[i] - row[i].size() + 2, ' ');
    }
    std::printf("%s\n", out.c_str());
  }
  return kExitPassed;
}

}  // namespace faultline::cli
