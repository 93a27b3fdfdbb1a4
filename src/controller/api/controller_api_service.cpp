#include "controller/api/controller_api_service.h"

#include "controller/policy/submission_check.h"

#include "common/log.h"
#include "common/time_util.h"
#include "controller/link/injector_roster.h"
#include "experiments/loader.h"

namespace faultline::controller {

// The gRPC face of CallGate (call_gate.h): the origin read from the call's context, and
// gRPC statuses in and out.
class AuditedCall {
 public:
  AuditedCall(ControllerApiService& svc, const grpc::ServerContext& ctx, std::string action,
              Role needed, std::string target)
      : gate_(svc.access_, origin_of(svc, ctx), std::move(action), needed, std::move(target)) {}

  bool allowed() const { return gate_.allowed(); }
  grpc::Status refusal() const {
    return {gate_.refusal() == CallGate::Refusal::kUnauthenticated
                ? grpc::StatusCode::UNAUTHENTICATED
                : grpc::StatusCode::PERMISSION_DENIED,
            gate_.refusal_message()};
  }
  const Caller& caller() const { return gate_.caller(); }
  void set_target(std::string target) { gate_.set_target(std::move(target)); }

  grpc::Status finish(grpc::Status status, const std::string& detail = "") {
    CallOutcome outcome;
    if (!status.ok()) {
      const bool denied = status.error_code() == grpc::StatusCode::UNAUTHENTICATED ||
                          status.error_code() == grpc::StatusCode::PERMISSION_DENIED;
      outcome = {denied ? CallOutcome::kDenied : CallOutcome::kError, status.error_message()};
    }
    gate_.finish(outcome, detail);
    return status;
  }

 private:
  static CallOrigin origin_of(const ControllerApiService& svc, const grpc::ServerContext& ctx) {
    CallOrigin o;
    o.peer = ctx.peer();
    if (svc.verifier_) {
      auto cert = svc.verifier_->verify(*ctx.auth_context());
      if (cert)
        o.certificate = Result<std::string>(cert->common_name);
      else
        o.certificate = Result<std::string>(cert.error());
    }
    const auto& md = ctx.client_metadata();
    if (auto it = md.find("authorization"); it != md.end())
      o.authorization = std::string(it->second.data(), it->second.size());
    return o;
  }

  CallGate gate_;
};

namespace {

// Journal events per GetRun page and WatchRun read of a stored run, and the most one GetRun
// may ask for: a page stays well under gRPC's 4 MiB message limit.
constexpr size_t kJournalPage = 1000;
constexpr size_t kMaxJournalPage = 5000;

grpc::Status no_run(const std::string& id) {
  return {grpc::StatusCode::NOT_FOUND, "no run with id " + id};
}

grpc::StatusCode grpc_code(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
      return grpc::StatusCode::INVALID_ARGUMENT;
    case ErrorCode::kNotFound:
      return grpc::StatusCode::NOT_FOUND;
    case ErrorCode::kFailedPrecondition:
      return grpc::StatusCode::FAILED_PRECONDITION;
    case ErrorCode::kPermissionDenied:
      return grpc::StatusCode::PERMISSION_DENIED;
    case ErrorCode::kUnavailable:
      return grpc::StatusCode::UNAVAILABLE;
    default:
      return grpc::StatusCode::INTERNAL;
  }
}

grpc::Status no_scheduler() {
  return {grpc::StatusCode::UNAVAILABLE, "this controller runs no scheduler"};
}

void to_proto(const HaltRecord& h, pb::HaltState* out) {
  out->set_halted(h.halted);
  out->set_halted_by(h.halted_by);
  out->set_halted_unix_ms(h.halted_unix_ms);
  out->set_reason(h.reason);
  out->set_lifted_by(h.lifted_by);
  out->set_lifted_unix_ms(h.lifted_unix_ms);
}

void to_proto(const ScheduleView& v, pb::Schedule* out) {
  const ScheduleRecord& r = v.record;
  out->set_name(r.name);
  out->set_cron(r.cron);
  out->set_time_zone(r.time_zone);
  out->set_overlap(r.overlap);
  out->set_paused(r.paused);
  out->set_experiment_name(r.experiment_name);
  out->set_source_name(r.source_name);
  out->mutable_vars()->insert(r.vars.begin(), r.vars.end());
  out->set_created_by(r.created_by);
  out->set_created_unix_ms(r.created_unix_ms);
  out->set_next_fire_unix_ms(r.next_fire_unix_ms);
  out->set_next_fire_local(v.next_fire_local);
  out->set_last_fire_unix_ms(r.last_fire_unix_ms);
  out->set_last_fire_local(v.last_fire_local);
  out->set_last_run_id(r.last_run_id);
  out->set_last_outcome(r.last_outcome);
  out->set_missed_fires(r.missed_fires);
  out->set_missed_first_unix_ms(r.missed_first_unix_ms);
  out->set_missed_last_unix_ms(r.missed_last_unix_ms);
}

}  // namespace

grpc::Status ControllerApiService::SubmitExperiment(grpc::ServerContext* ctx,
                                                    const pb::SubmitExperimentRequest* req,
                                                    pb::SubmitExperimentResponse* resp) {
  std::string source = req->source_name().empty() ? "<submitted>" : req->source_name();
  AuditedCall call(*this, *ctx, req->dry_run() ? "PlanExperiment" : "SubmitExperiment",
                   req->dry_run() ? Role::kViewer : Role::kOperator, source);
  if (!call.allowed()) return call.refusal();
  experiments::LoadOptions options;
  options.vars.insert(req->vars().begin(), req->vars().end());
  options.environment.insert(req->environment().begin(), req->environment().end());
  options.limits = policy_->limits;
  auto loaded = experiments::parse_experiment(req->yaml(), source, options);
  if (!loaded.ok())
    return call.finish(
        {grpc::StatusCode::INVALID_ARGUMENT, experiments::format_diagnostics(loaded.diagnostics)});
  if (auto refused = check_submission(*loaded.experiment, *policy_); !refused.empty())
    return call.finish(
        {grpc::StatusCode::PERMISSION_DENIED, experiments::format_diagnostics(refused)},
        "experiment " + loaded.experiment->metadata.name +
            " refused by the "
            "controller policy " +
            policy_->source);
  std::optional<uint32_t> seed;
  if (req->has_seed()) seed = req->seed();
  auto plan = controller_.plan(*loaded.experiment, seed);
  if (!plan.ok()) return call.finish({grpc::StatusCode::FAILED_PRECONDITION, plan.error().message});
  resp->set_plan_text(format_plan(*loaded.experiment, *plan));
  resp->set_seed(plan->seed);
  if (req->dry_run()) return call.finish(grpc::Status::OK);
  std::string name = loaded.experiment->metadata.name;
  SubmitOptions submit;
  submit.seed = plan->seed;  // planned again with it, so the run gets exactly what was shown
  submit.queue = req->queue();
  submit.submitted_by = call.caller().name;
  submit.destinations = std::make_shared<DestinationGuard>(policy_->destinations());
  submit.max_events = policy_->max_events_per_run;
  submit.command_nodes = policy_->command_nodes();
  auto run = controller_.submit(std::move(*loaded.experiment), submit);
  if (!run.ok()) {
    auto code = run.error().code == ErrorCode::kFailedPrecondition
                    ? grpc::StatusCode::FAILED_PRECONDITION
                    : grpc::StatusCode::ABORTED;
    return call.finish({code, run.error().message}, "experiment " + name);
  }
  resp->set_run_id((*run)->id());
  call.set_target((*run)->id());
  return call.finish(grpc::Status::OK, "experiment " + name + " from " + source);
}

grpc::Status ControllerApiService::WatchRun(grpc::ServerContext* ctx,
                                            const pb::WatchRunRequest* req,
                                            grpc::ServerWriter<pb::RunEvent>* writer) {
  // Audited when the watch starts; how it ends (the watcher leaving) is not a decision.
  AuditedCall call(*this, *ctx, "WatchRun", Role::kViewer, req->run_id());
  if (!call.allowed()) return call.refusal();
  auto run = controller_.find(req->run_id());
  if (!run) {
    // Ended and stored: its journal, read from the store a page at a time.
    uint64_t seq = 0;
    for (bool first = true;; first = false) {
      auto page = controller_.run_page(req->run_id(), seq, kJournalPage);
      if (!page) return call.finish(no_run(req->run_id()));
      if (first) (void)call.finish(grpc::Status::OK);
      for (const auto& ev : page->events()) {
        if (!writer->Write(ev)) return {grpc::StatusCode::CANCELLED, "watcher went away"};
        seq = ev.seq();
      }
      if (!page->more_events() || page->events_size() == 0) return grpc::Status::OK;
    }
  }
  (void)call.finish(grpc::Status::OK);
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

grpc::Status ControllerApiService::AbortRun(grpc::ServerContext* ctx,
                                            const pb::AbortRunRequest* req,
                                            pb::AbortRunResponse* resp) {
  AuditedCall call(*this, *ctx, "AbortRun", Role::kOperator, req->run_id());
  if (!call.allowed()) return call.refusal();
  auto run = controller_.find(req->run_id());
  if (!run) {
    if (!controller_.run_page(req->run_id(), 0, 0)) return call.finish(no_run(req->run_id()));
    resp->set_accepted(false);
    return call.finish(grpc::Status::OK, "run had already ended");
  }
  std::string reason = req->reason().empty() ? "aborted via API" : req->reason();
  reason += " (by " + call.caller().name + ")";
  resp->set_accepted(run->abort(reason));
  return call.finish(grpc::Status::OK, resp->accepted() ? reason : "run had already ended");
}

grpc::Status ControllerApiService::GetRun(grpc::ServerContext* ctx, const pb::GetRunRequest* req,
                                          pb::Run* resp) {
  AuditedCall call(*this, *ctx, "GetRun", Role::kViewer, req->run_id());
  if (!call.allowed()) return call.refusal();
  size_t max =
      req->max_events() == 0 ? kJournalPage : std::min<size_t>(req->max_events(), kMaxJournalPage);
  auto run = controller_.run_page(req->run_id(), req->after_seq(), max);
  if (!run) return call.finish(no_run(req->run_id()));
  *resp = std::move(*run);
  return call.finish(grpc::Status::OK);
}

grpc::Status ControllerApiService::ListRuns(grpc::ServerContext* ctx,
                                            const pb::ListRunsRequest* req,
                                            pb::ListRunsResponse* resp) {
  AuditedCall call(*this, *ctx, "ListRuns", Role::kViewer, "");
  if (!call.allowed()) return call.refusal();
  std::optional<RunCursor> after;
  if (!req->page_token().empty()) {
    after = RunCursor::parse(req->page_token());
    if (!after)
      return call.finish({grpc::StatusCode::INVALID_ARGUMENT,
                          "page_token: not one this controller gave (pass next_page_token of "
                          "the previous page as it came)"});
  }
  size_t limit = req->limit() > 0 ? std::min(req->limit(), 1000) : 100;
  std::optional<RunCursor> next;
  for (auto& r : controller_.list_runs(limit, after ? &*after : nullptr, &next))
    *resp->add_runs() = std::move(r);
  if (next) resp->set_next_page_token(next->token());
  to_proto(controller_.halt_state(), resp->mutable_halt());
  return call.finish(grpc::Status::OK);
}

grpc::Status ControllerApiService::ListInjectors(grpc::ServerContext* ctx,
                                                 const pb::ListInjectorsRequest* req,
                                                 pb::ListInjectorsResponse* resp) {
  AuditedCall call(*this, *ctx, "ListInjectors", Role::kViewer, "");
  if (!call.allowed()) return call.refusal();
  for (auto& row : injector_roster(controller_.registry(), injector_store_, req->include_offline(),
                                   unix_millis_now()))
    *resp->add_injectors() = std::move(row);
  to_proto(controller_.halt_state(), resp->mutable_halt());
  return call.finish(grpc::Status::OK);
}

grpc::Status ControllerApiService::CreateToken(grpc::ServerContext* ctx,
                                               const pb::CreateTokenRequest* req,
                                               pb::CreateTokenResponse* resp) {
  AuditedCall call(*this, *ctx, "CreateToken", Role::kAdmin, req->name());
  if (!call.allowed()) return call.refusal();
  auto role = parse_role(req->role());
  if (!role)
    return call.finish({grpc::StatusCode::INVALID_ARGUMENT,
                        "role \"" + req->role() + "\": expected viewer, operator or admin"});
  auto secret = tokens_.create(req->name(), *role);
  if (!secret) return call.finish({grpc::StatusCode::INVALID_ARGUMENT, secret.error().message});
  resp->set_token(*secret);
  return call.finish(grpc::Status::OK, std::string("role ") + role_name(*role));
}

grpc::Status ControllerApiService::RevokeToken(grpc::ServerContext* ctx,
                                               const pb::RevokeTokenRequest* req,
                                               pb::RevokeTokenResponse*) {
  AuditedCall call(*this, *ctx, "RevokeToken", Role::kAdmin, req->name());
  if (!call.allowed()) return call.refusal();
  if (Status s = tokens_.revoke(req->name()); !s)
    return call.finish({s.error().code == ErrorCode::kNotFound
                            ? grpc::StatusCode::NOT_FOUND
                            : grpc::StatusCode::FAILED_PRECONDITION,
                        s.error().message});
  return call.finish(grpc::Status::OK);
}

grpc::Status ControllerApiService::ListTokens(grpc::ServerContext* ctx,
                                              const pb::ListTokensRequest*,
                                              pb::ListTokensResponse* resp) {
  AuditedCall call(*this, *ctx, "ListTokens", Role::kAdmin, "");
  if (!call.allowed()) return call.refusal();
  for (const auto& t : tokens_.list()) {
    auto* out = resp->add_tokens();
    out->set_name(t.name);
    out->set_role(role_name(t.role));
    out->set_source(t.source);
    out->set_created_unix_ms(t.created_unix_ms);
  }
  return call.finish(grpc::Status::OK);
}

grpc::Status ControllerApiService::DisconnectInjector(grpc::ServerContext* ctx,
                                                      const pb::DisconnectInjectorRequest* req,
                                                      pb::DisconnectInjectorResponse*) {
  AuditedCall call(*this, *ctx, "DisconnectInjector", Role::kAdmin, req->node_name());
  if (!call.allowed()) return call.refusal();
  auto link = controller_.registry().find(req->node_name());
  if (!link)
    return call.finish(
        {grpc::StatusCode::NOT_FOUND, "no injector " + req->node_name() + " is connected"});
  link->disconnect();
  return call.finish(grpc::Status::OK);
}

grpc::Status ControllerApiService::AddSchedule(grpc::ServerContext* ctx,
                                               const pb::AddScheduleRequest* req,
                                               pb::ScheduleResponse* resp) {
  AuditedCall call(*this, *ctx, "AddSchedule", Role::kOperator, req->name());
  if (!call.allowed()) return call.refusal();
  if (!scheduler_) return call.finish(no_scheduler());
  ScheduleSpec spec;
  spec.name = req->name();
  spec.cron = req->cron();
  spec.time_zone = req->time_zone();
  spec.overlap = req->overlap();
  spec.yaml = req->yaml();
  spec.source_name = req->source_name();
  spec.vars.insert(req->vars().begin(), req->vars().end());
  spec.environment.insert(req->environment().begin(), req->environment().end());
  auto added = scheduler_->add(spec, call.caller().name);
  if (!added) return call.finish({grpc_code(added.error().code), added.error().message});
  to_proto(*added, resp->mutable_schedule());
  const ScheduleRecord& r = added->record;
  return call.finish(grpc::Status::OK, "cron \"" + r.cron + "\" in " + r.time_zone +
                                           " experiment " + r.experiment_name + " from " +
                                           r.source_name);
}

grpc::Status ControllerApiService::ListSchedules(grpc::ServerContext* ctx,
                                                 const pb::ListSchedulesRequest*,
                                                 pb::ListSchedulesResponse* resp) {
  AuditedCall call(*this, *ctx, "ListSchedules", Role::kViewer, "");
  if (!call.allowed()) return call.refusal();
  if (!scheduler_) return call.finish(no_scheduler());
  for (const auto& v : scheduler_->list()) to_proto(v, resp->add_schedules());
  return call.finish(grpc::Status::OK);
}

grpc::Status ControllerApiService::PauseSchedule(grpc::ServerContext* ctx,
                                                 const pb::ScheduleNameRequest* req,
                                                 pb::ScheduleResponse* resp) {
  AuditedCall call(*this, *ctx, "PauseSchedule", Role::kOperator, req->name());
  if (!call.allowed()) return call.refusal();
  if (!scheduler_) return call.finish(no_scheduler());
  auto paused = scheduler_->pause(req->name());
  if (!paused) return call.finish({grpc_code(paused.error().code), paused.error().message});
  to_proto(*paused, resp->mutable_schedule());
  return call.finish(grpc::Status::OK);
}

grpc::Status ControllerApiService::ResumeSchedule(grpc::ServerContext* ctx,
                                                  const pb::ScheduleNameRequest* req,
                                                  pb::ScheduleResponse* resp) {
  AuditedCall call(*this, *ctx, "ResumeSchedule", Role::kOperator, req->name());
  if (!call.allowed()) return call.refusal();
  if (!scheduler_) return call.finish(no_scheduler());
  auto resumed = scheduler_->resume(req->name());
  if (!resumed) return call.finish({grpc_code(resumed.error().code), resumed.error().message});
  to_proto(*resumed, resp->mutable_schedule());
  return call.finish(grpc::Status::OK);
}

grpc::Status ControllerApiService::RemoveSchedule(grpc::ServerContext* ctx,
                                                  const pb::ScheduleNameRequest* req,
                                                  pb::RemoveScheduleResponse*) {
  AuditedCall call(*this, *ctx, "RemoveSchedule", Role::kOperator, req->name());
  if (!call.allowed()) return call.refusal();
  if (!scheduler_) return call.finish(no_scheduler());
  if (Status s = scheduler_->remove(req->name()); !s)
    return call.finish({grpc_code(s.error().code), s.error().message});
  return call.finish(grpc::Status::OK);
}

// Any operator may pull the switch (whoever may start a run may stop them all); lifting it is
// an admin's decision.
grpc::Status ControllerApiService::Halt(grpc::ServerContext* ctx, const pb::HaltRequest* req,
                                        pb::HaltResponse* resp) {
  AuditedCall call(*this, *ctx, "Halt", Role::kOperator, "fleet");
  if (!call.allowed()) return call.refusal();
  if (Status s = check_halt_reason(req->reason()); !s)
    return call.finish({grpc::StatusCode::INVALID_ARGUMENT, s.error().message});
  HaltOutcome out = controller_.halt(call.caller().name, req->reason());
  to_proto(out.state, resp->mutable_state());
  resp->set_runs_aborted(static_cast<uint32_t>(out.runs_aborted));
  resp->set_faults_reverted(static_cast<uint32_t>(out.faults_reverted));
  resp->set_faults_unconfirmed(static_cast<uint32_t>(out.faults_unconfirmed));
  for (const auto& n : out.nodes) resp->add_nodes(n);
  resp->set_took_ms(static_cast<uint32_t>(out.took.count()));
  resp->set_not_kept(out.not_kept);
  return call.finish(grpc::Status::OK,
                     "reason: " + req->reason() + "; " + std::to_string(out.runs_aborted) +
                         " runs aborted, " + std::to_string(out.faults_reverted) +
                         " faults reverted, " + std::to_string(out.faults_unconfirmed) +
                         " unconfirmed" +
                         (out.not_kept.empty() ? "" : "; not stored: " + out.not_kept));
}

grpc::Status ControllerApiService::Unhalt(grpc::ServerContext* ctx, const pb::UnhaltRequest*,
                                          pb::HaltState* resp) {
  AuditedCall call(*this, *ctx, "Unhalt", Role::kAdmin, "fleet");
  if (!call.allowed()) return call.refusal();
  const HaltRecord before = controller_.halt_state();
  auto lifted = controller_.unhalt(call.caller().name);
  if (!lifted) return call.finish({grpc_code(lifted.error().code), lifted.error().message});
  to_proto(*lifted, resp);
  return call.finish(grpc::Status::OK, "lifted the halt (" + describe_halt(before) + ")");
}

grpc::Status ControllerApiService::GetHalt(grpc::ServerContext* ctx, const pb::GetHaltRequest*,
                                           pb::HaltState* resp) {
  AuditedCall call(*this, *ctx, "GetHalt", Role::kViewer, "fleet");
  if (!call.allowed()) return call.refusal();
  to_proto(controller_.halt_state(), resp);
  return call.finish(grpc::Status::OK);
}

}  // namespace faultline::controller
