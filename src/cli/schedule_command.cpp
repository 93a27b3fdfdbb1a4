#include "cli/schedule_command.h"

#include <cstdio>
#include <fstream>
#include <sstream>

#include "cli/api_call.h"
#include "common/exit_codes.h"
#include "common/time_util.h"
#include "experiments/vars.h"
#include "faultline/v1/controller_api.grpc.pb.h"

namespace faultline::cli {
namespace {

std::string utc(int64_t unix_ms) {
  return format_utc_millis(unix_ms).substr(0, 19) + "Z";
}

void print_schedule(const v1::Schedule& s) {
  std::printf("%s  \"%s\"  %s  overlap=%s  %s  experiment=%s\n", s.name().c_str(), s.cron().c_str(),
              s.time_zone().c_str(), s.overlap().c_str(), s.paused() ? "PAUSED" : "active",
              s.experiment_name().c_str());
  if (s.next_fire_unix_ms())
    std::printf("  next    %s  =  %s\n", s.next_fire_local().c_str(),
                utc(s.next_fire_unix_ms()).c_str());
  else
    std::printf("  next    -%s\n", s.paused() ? " (paused)" : "");
  if (s.last_fire_unix_ms())
    std::printf("  last    %s  =  %s  run %s  %s\n", s.last_fire_local().c_str(),
                utc(s.last_fire_unix_ms()).c_str(),
                s.last_run_id().empty() ? "-" : s.last_run_id().c_str(), s.last_outcome().c_str());
  else if (!s.last_outcome().empty())
    std::printf("  last    never fired  %s\n", s.last_outcome().c_str());
  else
    std::printf("  last    never fired\n");
  if (s.missed_fires() > 0)
    std::printf("  missed  %lld fire(s) while the controller was down, %s to %s; not run\n",
                static_cast<long long>(s.missed_fires()), utc(s.missed_first_unix_ms()).c_str(),
                utc(s.missed_last_unix_ms()).c_str());
}

int change(const std::string& controller, const std::string& name, const char* verb,
           grpc::Status (v1::ControllerApi::Stub::*rpc)(grpc::ClientContext*,
                                                        const v1::ScheduleNameRequest&,
                                                        v1::ScheduleResponse*)) {
  return call_controller(controller, [&](v1::ControllerApi::Stub& stub, grpc::ClientContext& ctx) {
    v1::ScheduleNameRequest req;
    req.set_name(name);
    v1::ScheduleResponse resp;
    grpc::Status s = (stub.*rpc)(&ctx, req, &resp);
    if (s.ok()) {
      std::printf("schedule %s %s\n", name.c_str(), verb);
      print_schedule(resp.schedule());
    }
    return s;
  });
}

}  // namespace

int add_schedule(const std::string& controller, const ScheduleAddOptions& o) {
  std::ifstream in(o.file);
  if (!in) {
    std::fprintf(stderr, "faultline: %s: cannot read the experiment file\n", o.file.c_str());
    return kExitInvalidOrInfra;
  }
  std::stringstream text;
  text << in.rdbuf();
  return call_controller(controller, [&](v1::ControllerApi::Stub& stub, grpc::ClientContext& ctx) {
    v1::AddScheduleRequest req;
    req.set_name(o.name);
    req.set_cron(o.cron);
    req.set_time_zone(o.time_zone);
    req.set_overlap(o.overlap);
    req.set_yaml(text.str());
    req.set_source_name(o.file);
    req.mutable_vars()->insert(o.vars.begin(), o.vars.end());
    auto environment = experiments::referenced_environment(text.str());
    req.mutable_environment()->insert(environment.begin(), environment.end());
    v1::ScheduleResponse resp;
    grpc::Status s = stub.AddSchedule(&ctx, req, &resp);
    if (s.ok()) {
      std::printf("schedule %s added\n", o.name.c_str());
      print_schedule(resp.schedule());
    }
    return s;
  });
}

int list_schedules(const std::string& controller) {
  return call_controller(controller, [&](v1::ControllerApi::Stub& stub, grpc::ClientContext& ctx) {
    v1::ListSchedulesResponse resp;
    grpc::Status s = stub.ListSchedules(&ctx, {}, &resp);
    if (!s.ok()) return s;
    if (resp.schedules().empty()) std::printf("no schedules\n");
    for (const auto& sched : resp.schedules()) print_schedule(sched);
    return s;
  });
}

int pause_schedule(const std::string& controller, const std::string& name) {
  return change(controller, name, "paused", &v1::ControllerApi::Stub::PauseSchedule);
}

int resume_schedule(const std::string& controller, const std::string& name) {
  return change(controller, name, "resumed", &v1::ControllerApi::Stub::ResumeSchedule);
}

int remove_schedule(const std::string& controller, const std::string& name) {
  return call_controller(controller, [&](v1::ControllerApi::Stub& stub, grpc::ClientContext& ctx) {
    v1::ScheduleNameRequest req;
    req.set_name(name);
    v1::RemoveScheduleResponse resp;
    grpc::Status s = stub.RemoveSchedule(&ctx, req, &resp);
    if (s.ok()) std::printf("schedule %s removed\n", name.c_str());
    return s;
  });
}

}  // namespace faultline::cli
