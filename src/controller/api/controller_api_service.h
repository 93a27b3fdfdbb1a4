// gRPC face of the Controller for the CLI (and later a dashboard). Every call is
// authenticated (bearer token), authorised by role, and written to the audit trail with its
// outcome, refusals included.
#pragma once

#include "common/audit_log.h"
#include "common/peer_certificate.h"
#include "controller/api/call_gate.h"
#include "controller/auth/refusal_throttle.h"
#include "controller/auth/token_authority.h"
#include "controller/controller.h"
#include "controller/policy/controller_policy.h"
#include "controller/schedule/scheduler.h"
#include "faultline/v1/controller_api.grpc.pb.h"

namespace faultline::controller {

class ControllerApiService final : public pb::ControllerApi::Service {
 public:
  // `audit` may be null (no trail kept); `verifier` null means no client certificates are
  // checked (--insecure).
  ControllerApiService(Controller& controller, TokenAuthority& tokens, AuditLog* audit,
                       std::shared_ptr<ClientCertVerifier> verifier = nullptr)
      : controller_(controller),
        tokens_(tokens),
        verifier_(std::move(verifier)),
        access_{tokens, audit, nullptr} {}

  grpc::Status SubmitExperiment(grpc::ServerContext*, const pb::SubmitExperimentRequest* req,
                                pb::SubmitExperimentResponse* resp) override;
  grpc::Status WatchRun(grpc::ServerContext* ctx, const pb::WatchRunRequest* req,
                        grpc::ServerWriter<pb::RunEvent>* writer) override;
  grpc::Status AbortRun(grpc::ServerContext*, const pb::AbortRunRequest* req,
                        pb::AbortRunResponse* resp) override;
  grpc::Status GetRun(grpc::ServerContext*, const pb::GetRunRequest* req, pb::Run* resp) override;
  grpc::Status ListRuns(grpc::ServerContext*, const pb::ListRunsRequest* req,
                        pb::ListRunsResponse* resp) override;
  grpc::Status ListInjectors(grpc::ServerContext*, const pb::ListInjectorsRequest*,
                             pb::ListInjectorsResponse* resp) override;
  grpc::Status CreateToken(grpc::ServerContext*, const pb::CreateTokenRequest* req,
                           pb::CreateTokenResponse* resp) override;
  grpc::Status RevokeToken(grpc::ServerContext*, const pb::RevokeTokenRequest* req,
                           pb::RevokeTokenResponse*) override;
  grpc::Status ListTokens(grpc::ServerContext*, const pb::ListTokensRequest*,
                          pb::ListTokensResponse* resp) override;
  grpc::Status DisconnectInjector(grpc::ServerContext*, const pb::DisconnectInjectorRequest* req,
                                  pb::DisconnectInjectorResponse*) override;
  grpc::Status AddSchedule(grpc::ServerContext*, const pb::AddScheduleRequest* req,
                           pb::ScheduleResponse* resp) override;
  grpc::Status ListSchedules(grpc::ServerContext*, const pb::ListSchedulesRequest*,
                             pb::ListSchedulesResponse* resp) override;
  grpc::Status PauseSchedule(grpc::ServerContext*, const pb::ScheduleNameRequest* req,
                             pb::ScheduleResponse* resp) override;
  grpc::Status ResumeSchedule(grpc::ServerContext*, const pb::ScheduleNameRequest* req,
                              pb::ScheduleResponse* resp) override;
  grpc::Status RemoveSchedule(grpc::ServerContext*, const pb::ScheduleNameRequest* req,
                              pb::RemoveScheduleResponse*) override;
  grpc::Status Halt(grpc::ServerContext*, const pb::HaltRequest* req,
                    pb::HaltResponse* resp) override;
  grpc::Status Unhalt(grpc::ServerContext*, const pb::UnhaltRequest*, pb::HaltState* resp) override;
  grpc::Status GetHalt(grpc::ServerContext*, const pb::GetHaltRequest*,
                       pb::HaltState* resp) override;

  // The daemon's scheduler; without one the schedule calls answer UNAVAILABLE.
  void set_scheduler(Scheduler* scheduler) { scheduler_ = scheduler; }
  void set_policy(std::shared_ptr<const ControllerPolicy> policy) { policy_ = std::move(policy); }
  // Where ListInjectors finds the nodes that are not connected now; without one it lists
  // only the live injectors.
  void set_injector_store(const InjectorStore* store) { injector_store_ = store; }
  // Refusals go to the trail through this (counted per peer) when set; straight otherwise.
  void set_refusal_throttle(RefusalThrottle* throttle) { access_.refusals = throttle; }

 private:
  friend class AuditedCall;

  Controller& controller_;
  TokenAuthority& tokens_;
  std::shared_ptr<ClientCertVerifier> verifier_;
  Scheduler* scheduler_ = nullptr;
  // What submitted experiments may make the controller do (safe defaults until set).
  std::shared_ptr<const ControllerPolicy> policy_ = std::make_shared<ControllerPolicy>();
  const InjectorStore* injector_store_ = nullptr;
  ApiAccess access_;  // what every call's gate checks and writes to (call_gate.h)
};

}  // namespace faultline::controller
