// `faultline run`: the embedded path (in-process controller and injector) and the remote
// path (submit to a running faultline-controller and stream the run).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "experiments/model.h"
#include "faultline/v1/controller_api.pb.h"

namespace faultline::cli {

struct RunOptions {
  std::string file;
  std::string controller;                   // empty: embedded
  std::map<std::string, std::string> vars;  // --var name=value
  std::optional<uint32_t> seed;             // --seed: reproduce a placement
  bool plan_only = false;                   // `faultline plan`: print the plan, run nothing
  // Embedded: where the OTLP trace receiver listens when the experiment reads trace SLIs.
  std::string otlp_listen = "127.0.0.1:4317";
  // Embedded: host:port of an OTLP/gRPC receiver that gets each fault's window as a span.
  std::string otlp_export;
  // Through a controller: wait behind a run that holds one of our targets instead of failing.
  bool queue = false;
};

// Returns the process exit code (0 passed, 1 failed, 2 aborted, 3 invalid/infra). With
// plan_only: 0 when the plan can be carried out, 3 otherwise. `record` (if given) receives the
// finished run for reports; `report` the report paths the experiment file asks for.
int run_embedded(const RunOptions& options, v1::Run* record = nullptr,
                 experiments::ReportSpec* report = nullptr);
int run_remote(const RunOptions& options, v1::Run* record = nullptr,
               experiments::ReportSpec* report = nullptr);
// run_remote when options.controller is set, else run_embedded.
int run_experiment(const RunOptions& options, v1::Run* record = nullptr,
                   experiments::ReportSpec* report = nullptr);

// The reason a run is aborted with when the CLI gets SIGINT/SIGTERM ("interrupted by INT...").
std::string interrupted_reason(int sig, const std::string& detail);
// The run was ended by a signal to the CLI: a suite or a game day stops there too.
bool interrupted_by_signal(const v1::Run& run);

}  // namespace faultline::cli
