#include "cli/report_commands.h"

#include <algorithm>
#include <cstdio>
#include <fstream>

#include "cli/client_security.h"
#include "cli/halt_command.h"
#include "cli/injectors_command.h"
#include "cli/run_pages.h"
#include "common/exit_codes.h"
#include "common/time_util.h"
#include "controller/report/html_report.h"
#include "controller/report/junit_report.h"
#include "controller/run_state.h"
#include "controller/store/sqlite_store.h"
#include "faultline/v1/controller_api.grpc.pb.h"

namespace faultline::cli {

namespace {

bool write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) {
    std::fprintf(stderr, "faultline: cannot write %s\n", path.c_str());
    return false;
  }
  return true;
}

std::unique_ptr<v1::ControllerApi::Stub> stub_for(const std::string& controller,
                                                  std::string& error) {
  auto channel = connect_controller(controller, error);
  return channel ? v1::ControllerApi::NewStub(channel) : nullptr;
}

}  // namespace

bool write_reports(const std::vector<v1::Run>& runs, const std::string& junit,
                   const std::string& html, const std::string& json,
                   const controller::DayInfo* day) {
  bool ok = true;
  auto write = [&](const char* what, const std::string& path, const std::string& text) {
    if (path.empty()) return;
    if (write_file(path, text))
      std::printf("%s: %s\n", what, path.c_str());
    else
      ok = false;
  };
  if (!junit.empty()) write("JUnit report", junit, controller::junit_xml(runs));
  if (!html.empty()) {
    std::string title = day                ? "faultline game day: " + day->name
                        : runs.size() == 1 ? "faultline: " + runs[0].experiment_name() + " — " +
                                                 controller::state_name(runs[0].summary().verdict())
                                           : "faultline: " + std::to_string(runs.size()) + " runs";
    write("HTML report", html, controller::html_report(runs, title, day));
  }
  if (!json.empty() && !runs.empty()) write("JSON journal", json, controller::run_to_json(runs[0]));
  return ok;
}

std::optional<v1::Run> fetch_run(const std::string& run_id, const std::string& controller,
                                 std::string& error) {
  if (controller.empty()) {
    auto store = controller::SqliteStore::open(controller::default_store_path());
    if (!store) {
      error = store.error().message;
      return std::nullopt;
    }
    auto run = (*store)->load(run_id);
    if (!run) error = "no stored run " + run_id + " in " + (*store)->path();
    return run;
  }
  auto stub = stub_for(controller, error);
  if (!stub) return std::nullopt;
  v1::Run run;
  grpc::Status s = get_whole_run(*stub, run_id, &run);
  if (!s.ok()) {
    error = s.error_message();
    return std::nullopt;
  }
  return run;
}

int print_journal(const std::string& run_id, const std::string& controller) {
  std::string error;
  auto run = fetch_run(run_id, controller, error);
  if (!run) {
    std::fprintf(stderr, "faultline: %s\n", error.c_str());
    return kExitInvalidOrInfra;
  }
  std::printf("%s", controller::run_to_json(*run).c_str());
  return kExitPassed;
}

int list_runs(const std::string& controller, int limit, const std::string& page_token) {
  std::vector<v1::Run> runs;
  std::string next_token;
  std::string halt;  // the banner, when the controller says the fleet is halted
  if (controller.empty()) {
    auto store = controller::SqliteStore::open(controller::default_store_path());
    if (!store) {
      std::fprintf(stderr, "faultline: %s\n", store.error().message.c_str());
      return kExitInvalidOrInfra;
    }
    std::optional<controller::RunCursor> after;
    if (!page_token.empty() && !(after = controller::RunCursor::parse(page_token))) {
      std::fprintf(stderr, "faultline: --page-token %s: not a token `faultline runs` printed\n",
                   page_token.c_str());
      return kExitInvalidOrInfra;
    }
    runs = (*store)->list(static_cast<size_t>(limit) + 1, after ? &*after : nullptr);
    if (runs.size() > static_cast<size_t>(limit)) {
      runs.resize(static_cast<size_t>(limit));
      next_token = controller::RunCursor::of(runs.back()).token();
    }
  } else {
    std::string error;
    auto stub = stub_for(controller, error);
    if (!stub) {
      std::fprintf(stderr, "faultline: %s\n", error.c_str());
      return kExitInvalidOrInfra;
    }
    // The controller answers at most 1000 a page: a larger --limit takes several.
    next_token = page_token;
    do {
      grpc::ClientContext ctx;
      authorize(ctx);
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
      v1::ListRunsRequest req;
      req.set_limit(
          static_cast<int>(std::min<size_t>(static_cast<size_t>(limit) - runs.size(), 1000)));
      req.set_page_token(next_token);
      v1::ListRunsResponse resp;
      grpc::Status s = stub->ListRuns(&ctx, req, &resp);
      if (!s.ok()) {
        std::fprintf(stderr, "faultline: %s\n", s.error_message().c_str());
        return kExitInvalidOrInfra;
      }
      for (auto& r : *resp.mutable_runs()) runs.push_back(std::move(r));
      next_token = resp.next_page_token();
      halt = halt_banner(resp.halt());
    } while (!next_token.empty() && runs.size() < static_cast<size_t>(limit));
  }
  if (!halt.empty()) std::printf("%s\n", halt.c_str());
  std::printf("%-14s %-32s %-20s %9s  %s\n", "RUN", "EXPERIMENT", "STARTED (UTC)", "DURATION",
              "VERDICT");
  for (const auto& r : runs) {
    const auto& s = r.summary();
    bool ended = s.ended_unix_ms() > 0;
    std::string duration =
        ended ? std::to_string((controller::run_duration_ms(s) + 500) / 1000) + "s" : "-";
    std::string verdict = ended
                              ? controller::state_name(s.verdict())
                              : std::string("running (") + controller::state_name(r.state()) + ")";
    std::printf("%-14s %-32s %-20s %9s  %s\n", r.run_id().c_str(), r.experiment_name().c_str(),
                format_utc_millis(s.started_unix_ms()).substr(0, 19).c_str(), duration.c_str(),
                verdict.c_str());
  }
  if (!next_token.empty())
    std::fprintf(stderr, "faultline: more runs: add --page-token %s\n", next_token.c_str());
  return kExitPassed;
}

int render_reports(const std::vector<std::string>& run_ids, const std::string& controller,
                   const std::string& junit, const std::string& html) {
  if (junit.empty() && html.empty()) {
    std::fprintf(stderr, "faultline: report needs --junit FILE and/or --html FILE\n");
    return kExitInvalidOrInfra;
  }
  std::vector<v1::Run> runs;
  for (const auto& id : run_ids) {
    std::string error;
    auto run = fetch_run(id, controller, error);
    if (!run) {
      std::fprintf(stderr, "faultline: %s\n", error.c_str());
      return kExitInvalidOrInfra;
    }
    if (!run->has_summary()) {
      std::fprintf(stderr, "faultline: run %s has not ended yet\n", id.c_str());
      return kExitInvalidOrInfra;
    }
    runs.push_back(std::move(*run));
  }
  return write_reports(runs, junit, html) ? kExitPassed : kExitInvalidOrInfra;
}

}  // namespace faultline::cli
