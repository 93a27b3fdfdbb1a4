#include "cli/run_printer.h"

#include <unistd.h>

#include <fmt/format.h>

#include "common/exit_codes.h"
#include "controller/report/terminal_report.h"
#include "controller/run_state.h"

namespace faultline::cli {

namespace pb = ::faultline::v1;

RunPrinter::RunPrinter(std::FILE* out) : out_(out), tty_(isatty(fileno(out)) == 1) {}

void RunPrinter::clear_status() {
  if (!status_shown_) return;
  std::fputs("\r\033[K", out_);
  status_shown_ = false;
}

std::string RunPrinter::status() const {
  double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  std::string s = fmt::format("  ▸ {} {:.1f}s", phase_, elapsed);
  if (planned_.count() > 0) s += fmt::format(" of ~{:.0f}s planned", planned_.count() / 1000.0);
  if (!active_.empty()) {
    std::string faults;
    for (const auto& [_, f] : active_) faults += (faults.empty() ? "" : ", ") + f;
    s += " · active: " + faults;
  }
  if (!last_probe_.empty()) s += " · " + last_probe_;
  // One terminal line: never wrap, or \r would only clear the last part of it.
  if (s.size() > 150) s = s.substr(0, 147) + "...";
  return s;
}

void RunPrinter::tick() {
  if (!tty_ || (!events_.empty() && events_.back().type() == pb::EVENT_TYPE_RUN_FINISHED)) return;
  clear_status();
  std::fputs(status().c_str(), out_);
  status_shown_ = true;
  std::fflush(out_);
}

void RunPrinter::on_event(const pb::RunEvent& event) {
  events_.push_back(event);
  switch (event.type()) {
    case pb::EVENT_TYPE_STATE_CHANGED:
      phase_ = controller::state_name(event.state());
      break;
    case pb::EVENT_TYPE_FAULT_APPLIED:
      active_[event.fault().fault_id()] = event.fault().fault_name() + "@" + event.fault().node();
      break;
    case pb::EVENT_TYPE_FAULT_REVERTED:
    case pb::EVENT_TYPE_FAULT_FAILED:
      active_.erase(event.fault().fault_id());
      break;
    case pb::EVENT_TYPE_PROBE_RESULT: {
      std::string observed = event.probe().observed();
      if (observed.size() > 40) observed = observed.substr(0, 37) + "...";
      last_probe_ = event.probe().name() + (event.probe().ok() ? " ok: " : " FAILED: ") + observed;
      break;
    }
    default:
      break;
  }
  clear_status();
  std::fprintf(out_, "%s\n", controller::format_event_line(event).c_str());
  tick();
  std::fflush(out_);
}

int RunPrinter::finish() {
  clear_status();
  if (events_.empty() || events_.back().type() != pb::EVENT_TYPE_RUN_FINISHED)
    return kExitInvalidOrInfra;
  std::fprintf(out_, "%s", controller::format_summary(events_).c_str());
  std::fflush(out_);
  return events_.back().summary().exit_code();
}

}  // namespace faultline::cli
