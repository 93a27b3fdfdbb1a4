#include <unistd.h>

#include <cstdio>

#include "cli/local_runs.h"
#include "cli/run_command.h"
#include "cli/run_printer.h"
#include "common/exit_codes.h"
#include "common/ids.h"
#include "common/signals.h"
#include "common/time_util.h"
#include "controller/controller.h"
#include "controller/link/in_process_link.h"
#include "controller/store/sqlite_store.h"
#include "experiments/loader.h"
#include "injector/command_handler.h"
#include "injector/fault_engine.h"

namespace faultline::cli {

int run_embedded(const RunOptions& options, v1::Run* record, experiments::ReportSpec* report) {
  std::mutex mu;
  std::shared_ptr<controller::RunEngine> run;
  std::unique_ptr<LocalRunFile> run_file;
  // Installed before any thread exists so every thread inherits the blocked mask; Ctrl-C
  // then takes the ordinary abort path: revert everything, end ABORTED.
  int early_signal = 0;  // one that came before the run existed: then no run starts at all
  ShutdownSignals signals([&](int sig) {
    std::lock_guard lock(mu);
    if (!run) {
      early_signal = sig;
      return;
    }
    std::string asked = run_file ? run_file->abort_reason() : "";
    run->abort(!asked.empty() ? asked : interrupted_reason(sig, "; reverting"));
  });

  experiments::LoadOptions load_options;
  load_options.vars = options.vars;
  load_options.read_process_environment = true;
  auto loaded = experiments::load_experiment_file(options.file, load_options);
  if (!loaded.ok()) {
    for (const auto& d : loaded.diagnostics) std::fprintf(stderr, "%s\n", d.format().c_str());
    return kExitInvalidOrInfra;
  }

  // Declared before the controller so it outlives every run that may still revert through it.
  auto started = injector::start_engine(injector::default_ledger_root());
  std::unique_ptr<injector::FaultEngine> engine_ptr;
  if (started) {
    engine_ptr = std::move(*started);
  } else if (options.plan_only) {
    // A plan applies nothing: it only cannot take back what a crashed run left.
    std::fprintf(stderr, "faultline: warning: %s\n", started.error().message.c_str());
    engine_ptr = std::make_unique<injector::FaultEngine>(injector::default_backends());
  } else {
    std::fprintf(stderr, "faultline: %s\n", started.error().message.c_str());
    return kExitInvalidOrInfra;
  }
  injector::FaultEngine& engine = *engine_ptr;
  controller::RunSettings settings;
  settings.otlp_export = options.otlp_export;
  controller::Controller ctl(settings);
  if (!options.plan_only) {
    auto store = controller::SqliteStore::open(controller::default_store_path());
    if (!store) {
      std::fprintf(stderr, "faultline: %s\n", store.error().message.c_str());
      return kExitInvalidOrInfra;
    }
    ctl.set_store(*store);
    // Runs another embedded `faultline run` on this machine left unfinished (killed): ended
    // ABORTED, as a restarted controller does. Runs whose process is alive are left alone.
    // A run younger than 10 s may not have written its run file yet.
    ctl.recover_interrupted([](const v1::Run& r) {
      return find_local_run(r.run_id()).has_value() ||
             unix_millis_now() - r.summary().started_unix_ms() < 10'000;
    });
  }
  controller::InjectorInfo info;
  info.node_name = host_name();
  info.labels["node"] = info.node_name;
  info.capabilities = engine.capabilities();
  info.version = FAULTLINE_VERSION;
  ctl.registry().add(std::make_shared<controller::InProcessInjectorLink>(
      info,
      [&engine](const v1::ControllerMessage& m) { return injector::handle_command(engine, m); }));

  if (std::string sli = controller::first_trace_sli(*loaded.experiment);
      !sli.empty() && !options.plan_only) {
    if (Status s = ctl.start_otlp(options.otlp_listen); !s) {
      std::fprintf(stderr, "%s: %s needs the OTLP receiver: %s\n", options.file.c_str(),
                   sli.c_str(), s.error().message.c_str());
      return kExitInvalidOrInfra;
    }
  }
  if (report) *report = loaded.experiment->report;
  if (options.plan_only) {
    auto plan = ctl.plan(*loaded.experiment, options.seed);
    if (!plan.ok()) {
      std::fprintf(stderr, "%s: %s\n", options.file.c_str(), plan.error().message.c_str());
      return kExitInvalidOrInfra;
    }
    std::printf("%s", controller::format_plan(*loaded.experiment, *plan).c_str());
    return kExitPassed;
  }
  {
    // Under the lock: a signal either came before this point (no run starts) or waits for
    // the run to exist and aborts it.
    std::lock_guard lock(mu);
    if (early_signal != 0) {
      std::fprintf(
          stderr, "faultline: %s\n",
          interrupted_reason(early_signal, " before the run started; nothing was applied").c_str());
      return kExitAborted;
    }
    auto submitted = ctl.submit(std::move(*loaded.experiment), options.seed);
    if (!submitted.ok()) {
      std::fprintf(stderr, "%s: %s\n", options.file.c_str(), submitted.error().message.c_str());
      return kExitInvalidOrInfra;
    }
    run = *submitted;
    run_file = std::make_unique<LocalRunFile>(run->id());
  }
  std::printf("faultline: run %s of %s (embedded controller, injector %s)\n", run->id().c_str(),
              options.file.c_str(), info.node_name.c_str());
  RunPrinter printer;
  printer.set_planned(std::chrono::duration_cast<std::chrono::milliseconds>(run->plan().total));
  uint64_t seq = 0;
  while (true) {
    for (const auto& ev : run->journal().read_after(seq, std::chrono::milliseconds(200))) {
      printer.on_event(ev);
      seq = ev.seq();
    }
    printer.tick();
    if (run->journal().finished() && run->journal().events().size() == seq) break;
  }
  run->wait();
  if (record) *record = run->record();
  return printer.finish();
}

}  // namespace faultline::cli
