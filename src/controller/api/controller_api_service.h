// gRPC face of the Controller for the CLI (and later a dashboard).
#pragma once

#include "controller/controller.h"
#include "faultline/v1/controller_api.grpc.pb.h"

namespace faultline::controller {

class ControllerApiService final : public pb::ControllerApi::Service {
 public:
  explicit ControllerApiService(Controller& controller) : controller_(controller) {}

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

 private:
  Controller& controller_;
};

}  // namespace faultline::controller
