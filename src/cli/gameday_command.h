#pragma once

#include <string>

#include "cli/run_command.h"

namespace faultline::cli {

// `faultline gameday FILE`: runs the day's experiments in order, stopping at each manual gate
// until someone presses Enter (or types "stop"); `yes` skips the gates for a rehearsal. Ctrl-C
// aborts the current experiment (every fault reverted) and ends the day. Writes one combined
// JUnit and HTML report. Exit code: the most serious of the runs' (3 if the file is invalid).
int run_gameday(const std::string& file, RunOptions options, bool yes, const std::string& junit,
                const std::string& html);

}  // namespace faultline::cli
