// The controller's OTLP/gRPC trace receiver: applications or an OpenTelemetry Collector export
// spans here and the trace SLIs are computed from them. Only service.name, span name, status,
// HTTP status and duration are read.
#pragma once

#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "common/result.h"
#include "controller/watch/traces/sli_store.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.grpc.pb.h"

namespace faultline::controller {

// Adds the request's spans to the store (for the receiver and the benchmark).
void ingest_export(SliStore& store,
                   const opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest& r);

class OtlpReceiver final
    : public opentelemetry::proto::collector::trace::v1::TraceService::Service {
 public:
  explicit OtlpReceiver(SliStore& store) : store_(store) {}
  ~OtlpReceiver() override;

  // Listens on host:port (port 0 picks a free one).
  Status start(const std::string& listen);
  int port() const { return port_; }

  grpc::Status Export(
      grpc::ServerContext* ctx,
      const opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest* request,
      opentelemetry::proto::collector::trace::v1::ExportTraceServiceResponse* response) override;

 private:
  SliStore& store_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

}  // namespace faultline::controller
