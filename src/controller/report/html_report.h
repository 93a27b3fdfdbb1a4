// One self-contained HTML file (inline CSS and SVG, no scripts, nothing fetched): per run the
// verdict, a timeline (run phases, fault windows as bands, every probe result as a mark,
// breach / all-reverted / recovered moments as lines), the checks and the event table.
#pragma once

#include <string>
#include <vector>

#include "faultline/v1/controller_api.pb.h"

namespace faultline::controller {

std::string html_report(const std::vector<v1::Run>& runs, const std::string& title);

}  // namespace faultline::controller
