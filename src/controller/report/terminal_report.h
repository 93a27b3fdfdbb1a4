// What a person reads in the terminal: one line per event while the run goes on, and a
// summary at the end. Built from journal events only, so a stored run renders the same.
#pragma once

#include <string>
#include <vector>

#include "faultline/v1/controller_api.pb.h"

namespace faultline::controller {

namespace pb = ::faultline::v1;

// "[+0.25s] probe demo-back (recovery) ok: HTTP 200 in 0.9 ms"
std::string format_event_line(const pb::RunEvent& event);

// "217 ms (deadline 10000 ms)", "not recovered (deadline ...)", or "not measured (...)" when
// the run never reached RECOVERING; the same words in every report.
std::string time_to_recover_text(const pb::RunSummary& summary, bool reached_recovery);

// The end-of-run summary block; `events` must end with RUN_FINISHED.
std::string format_summary(const std::vector<pb::RunEvent>& events);

}  // namespace faultline::controller
