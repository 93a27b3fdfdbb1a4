#include "controller/api/controller_api_service.h"

#include "common/log.h"
#include "experiments/loader.h"

namespace faultline::controller {
namespace {

grpc::Status no_run(const std::string& id) {
  return {grpc::StatusCode::NOT_FOUND, "no run with id " + id};
}

}  // namespace

grpc::Status ControllerApiService::SubmitExperiment(grpc::ServerContext*,
                                                    const pb::SubmitExperimentRequest* req,
                                                    pb::SubmitExperimentResponse* resp) {
  std::string source = req->source_name().empty() ? "<submitted>" : req->source_name();
  experiments::LoadOptions options;
  options.vars.insert(req->vars().begin(), req->vars().end());
  auto loaded = experiments::parse_experiment(req->yaml(), source, options);
  if (!loaded.ok()) {
    std::string lines;
    for (const auto& d : loaded.diagnostics) lines += (lines.empty() ? "" : "\n") + d.format();
    return {grpc::StatusCode::INVALID_ARGUMENT, lines};
  }
  std::optional<uint32_t> seed;
  if (req->has_seed()) seed = req->seed();
  auto plan = controller_.plan(*loaded.experiment, seed);
  if (!plan.ok()) return {grpc::StatusCode::FAILED_PRECONDITION, plan.error().message};
  resp->set_plan_text(format_plan(*loaded.experiment, *plan));
  resp->set_seed(plan->seed);
  if (req->dry_run()) return grpc::Status::OK;
  // Planned again with the same seed so the run gets exactly the placement shown.
  auto run = controller_.submit(std::move(*loaded.experiment), plan->seed);
  if (!run.ok()) return {grpc::StatusCode::FAILED_PRECONDITION, run.error().message};
  resp->set_run_id((*run)->id());
  return grpc::Status::OK;
}

grpc::Status ControllerApiService::WatchRun(grpc::ServerContext* ctx,
                                            const pb::WatchRunRequest* req,
                                            grpc::ServerWriter<pb::RunEvent>* writer) {
  auto run = controller_.find(req->run_id());
  if (!run) return no_run(req->run_id());
  uint64_t seq = 0;
  while (!ctx->IsCancelled()) {
    for (const auto& ev : run->journal().read_after(seq, std::chrono::milliseconds(200))) {
      if (!writer->Write(ev)) return {grpc::StatusCode::CANCELLED, "watcher went away"};
      seq = ev.seq();
      if (ev.type() == pb::EVENT_TYPE_RUN_FINISHED) return grpc::Status::OK;
    }
  }
  return {grpc::StatusCode::CANCELLED, "watcher went away"};
}

grpc::Status ControllerApiService::AbortRun(grpc::ServerContext*, const pb::AbortRunRequest* req,
                                            pb::AbortRunResponse* resp) {
  auto run = controller_.find(req->run_id());
  if (!run) return no_run(req->run_id());
  resp->set_accepted(run->abort(req->reason().empty() ? "aborted via API" : req->reason()));
  return grpc::Status::OK;
}

grpc::Status ControllerApiService::GetRun(grpc::ServerContext*, const pb::GetRunRequest* req,
                                          pb::Run* resp) {
  if (auto run = controller_.find(req->run_id())) {
    *resp = run->record();
    return grpc::Status::OK;
  }
  // Runs of an earlier controller process live only in the store.
  if (auto stored = controller_.stored_run(req->run_id())) {
    *resp = std::move(*stored);
    return grpc::Status::OK;
  }
  return no_run(req->run_id());
}

grpc::Status ControllerApiService::ListRuns(grpc::ServerContext*, const pb::ListRunsRequest* req,
                                            pb::ListRunsResponse* resp) {
  for (auto& r : controller_.list_runs(req->limit() > 0 ? req->limit() : 100))
    *resp->add_runs() = std::move(r);
  return grpc::Status::OK;
}

grpc::Status ControllerApiService::ListInjectors(grpc::ServerContext*,
                                                 const pb::ListInjectorsRequest*,
                                                 pb::ListInjectorsResponse* resp) {
  for (const auto& link : controller_.registry().all()) {
    auto* out = resp->add_injectors();
    const auto& info = link->info();
    out->set_node_name(info.node_name);
    out->mutable_labels()->insert(info.labels.begin(), info.labels.end());
    for (const auto& c : info.capabilities) out->add_capabilities(c);
    out->set_version(info.version);
    out->set_last_seen_ms_ago(
        std::chrono::duration_cast<std::chrono::milliseconds>(link->since_last_seen()).count());
  }
  return grpc::Status::OK;
}

}  // namespace faultline::controller
