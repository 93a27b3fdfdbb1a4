// One self-contained HTML file (inline CSS and SVG, no scripts, nothing fetched): per run the
// verdict, a timeline (run phases, fault windows as bands, every probe result as a mark,
// breach / all-reverted / recovered moments as lines), the checks and the event table.
#pragma once

#include <string>
#include <vector>

#include "faultline/v1/controller_api.pb.h"

namespace faultline::controller {

// What a game day adds above its runs' sections.
struct DayInfo {
  std::string name, description, notes;
  std::vector<std::string> participants;
  std::vector<std::string> not_run;  // steps the day stopped before, "file: why"
};

// With `day`, the report opens with the day: who, notes, and a timeline of the runs.
std::string html_report(const std::vector<v1::Run>& runs, const std::string& title,
                        const DayInfo* day = nullptr);

}  // namespace faultline::controller
