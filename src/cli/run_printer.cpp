#include "cli/run_printer.h"

#include "common/exit_codes.h"
#include "controller/report/terminal_report.h"

namespace faultline::cli {

void RunPrinter::on_event(const faultline::v1::RunEvent& event) {
  events_.push_back(event);
  std::fprintf(out_, "%s\n", controller::format_event_line(event).c_str());
  std::fflush(out_);
}

int RunPrinter::finish() {
  if (events_.empty() || events_.back().type() != faultline::v1::EVENT_TYPE_RUN_FINISHED)
    return kExitInvalidOrInfra;
  std::fprintf(out_, "%s", controller::format_summary(events_).c_str());
  std::fflush(out_);
  return events_.back().summary().exit_code();
}

}  // namespace faultline::cli
