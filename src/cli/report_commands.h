// Stored runs after the fact: `faultline journal`, `faultline runs`, `faultline report`, and the
// report files `faultline run --junit/--html` writes.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "controller/report/html_report.h"
#include "faultline/v1/controller_api.pb.h"

namespace faultline::cli {

// Writes the JUnit and/or HTML report of `runs`, and the first run's journal as JSON (paths
// may be empty); says where on stdout. False (with the reason on stderr) if a file cannot be
// written. With `day`, the HTML report is a game day's (title and day section from it).
bool write_reports(const std::vector<v1::Run>& runs, const std::string& junit,
                   const std::string& html, const std::string& json = "",
                   const controller::DayInfo* day = nullptr);

// A finished or running run: from the controller when `controller` is set, else from this
// machine's run store. nullopt with `error` set when there is none.
std::optional<v1::Run> fetch_run(const std::string& run_id, const std::string& controller,
                                 std::string& error);

int print_journal(const std::string& run_id, const std::string& controller);
// One page of runs, newest first; `page_token` continues from where the last page ended (the
// command prints the token for the next page on stderr when there is one).
int list_runs(const std::string& controller, int limit, const std::string& page_token = "");
int render_reports(const std::vector<std::string>& run_ids, const std::string& controller,
                   const std::string& junit, const std::string& html);

}  // namespace faultline::cli
