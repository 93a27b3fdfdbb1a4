#include "cli/local_runs.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/ids.h"
#include "common/log.h"
#include "common/process_table.h"
#include "common/state_dir.h"

namespace faultline::cli {
namespace fs = std::filesystem;

namespace {

std::string run_path(const std::string& run_id) {
  return state_dir() + "/runs/" + run_id;
}

}  // namespace

LocalRunFile::LocalRunFile(std::string run_id) : path_(run_path(run_id)) {
  auto self = read_process(getpid());
  std::error_code ec;
  fs::create_directories(fs::path(path_).parent_path(), ec);
  std::ofstream out(path_);
  out << getpid() << " " << (self ? self->start_time_ticks : 0) << "\n";
  if (!out)
    spdlog::warn("run file not written path={} (faultline abort cannot reach this run)", path_);
}

LocalRunFile::~LocalRunFile() {
  std::error_code ec;
  fs::remove(path_, ec);
  fs::remove(path_ + ".abort", ec);
}

std::string LocalRunFile::abort_reason() const {
  std::ifstream in(path_ + ".abort");
  std::string reason;
  std::getline(in, reason);
  return reason;
}

std::optional<pid_t> find_local_run(const std::string& run_id) {
  if (!is_safe_id(run_id)) return std::nullopt;
  std::ifstream in(run_path(run_id));
  pid_t pid = 0;
  uint64_t start = 0;
  if (!(in >> pid >> start) || pid <= 1) return std::nullopt;
  auto p = read_process(pid);
  if (!p || p->start_time_ticks != start) return std::nullopt;
  return pid;
}

void leave_abort_reason(const std::string& run_id, const std::string& reason) {
  std::ofstream(run_path(run_id) + ".abort") << reason << "\n";
}

}  // namespace faultline::cli
