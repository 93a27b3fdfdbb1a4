#include "controller/controller.h"

#include <algorithm>
#include <set>

#include "common/ids.h"
#include "common/log.h"

namespace faultline::controller {

Controller::~Controller() {
  shutdown("controller shutting down");
}

void Controller::shutdown(const std::string& reason) {
  abort_all(reason);
  for (auto& r : snapshot()) r->wait();
}

std::vector<std::shared_ptr<RunEngine>> Controller::snapshot() const {
  std::lock_guard lock(mu_);
  std::vector<std::shared_ptr<RunEngine>> runs;
  for (const auto& [_, r] : runs_) runs.push_back(r);
  return runs;
}

Result<Plan> Controller::plan(const experiments::Experiment& experiment,
                              std::optional<uint32_t> seed) const {
  std::vector<InjectorInfo> injectors;
  for (const auto& link : registry_.all()) {
    if (link->connected()) injectors.push_back(link->info());
  }
  return make_plan(experiment, injectors, seed);
}

Status Controller::start_otlp(const std::string& listen) {
  auto receiver = std::make_unique<OtlpReceiver>(traces_);
  if (Status s = receiver->start(listen); !s) return s;
  otlp_ = std::move(receiver);
  return Ok{};
}

Result<std::shared_ptr<RunEngine>> Controller::submit(experiments::Experiment experiment,
                                                      std::optional<uint32_t> seed) {
  auto plan_result = plan(experiment, seed);
  if (!plan_result.ok()) return plan_result.error();
  std::string sli = first_trace_sli(experiment);
  if (!sli.empty() && !otlp_)
    return make_error(ErrorCode::kFailedPrecondition,
                      sli +
                          " reads trace spans, but this controller has no OTLP receiver "
                          "(start it with --otlp-listen)");

  std::string id = new_id("r");
  std::string name = experiment.metadata.name;
  auto run = std::make_shared<RunEngine>(id, std::move(experiment), std::move(*plan_result),
                                         registry_, settings_, &traces_);
  {
    std::lock_guard lock(mu_);
    runs_[id] = run;
  }
  spdlog::info("run submitted run={} experiment={}", id, name);
  if (store_) {
    // Saved on the run's thread before wait() returns, so a finished run is always on disk.
    run->on_finished([store = store_](const RunEngine& r) {
      if (Status s = store->save(r.record()); !s)
        spdlog::error("run journal not saved run={} error=\"{}\"", r.id(), s.error().message);
    });
  }
  run->start();
  return run;
}

std::shared_ptr<RunEngine> Controller::find(const std::string& run_id) const {
  std::lock_guard lock(mu_);
  auto it = runs_.find(run_id);
  return it == runs_.end() ? nullptr : it->second;
}

std::optional<v1::Run> Controller::stored_run(const std::string& run_id) const {
  return store_ ? store_->load(run_id) : std::nullopt;
}

std::vector<v1::Run> Controller::list_runs(size_t limit) const {
  std::vector<v1::Run> out;
  std::set<std::string> live;
  for (const auto& r : snapshot()) {
    v1::Run rec = r->record();
    if (!rec.has_summary()) {  // still going: what the listing needs
      rec.mutable_summary()->set_experiment_name(rec.experiment_name());
      if (rec.events_size() > 0)
        rec.mutable_summary()->set_started_unix_ms(rec.events(0).unix_ms());
    }
    rec.clear_events();
    live.insert(rec.run_id());
    out.push_back(std::move(rec));
  }
  if (store_)
    for (auto& r : store_->list(limit))
      if (!live.count(r.run_id())) out.push_back(std::move(r));
  std::sort(out.begin(), out.end(), started_later);
  if (out.size() > limit) out.resize(limit);
  return out;
}

void Controller::abort_all(const std::string& reason) {
  for (auto& r : snapshot()) r->abort(reason);
}

}  // namespace faultline::controller
