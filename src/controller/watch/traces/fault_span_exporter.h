// Exports each fault's window as an OTLP span (service.name "faultline"), so the tracing UI
// users already watch shows when a fault was active, on which node, and what it achieved.
#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "opentelemetry/proto/collector/trace/v1/trace_service.grpc.pb.h"

namespace faultline::controller {

struct FaultWindow {
  std::string run_id, experiment, fault_name, kind, target, node, pids, achieved;
  int64_t start_unix_ns = 0, end_unix_ns = 0;
  std::string error;  // the revert failed (the injector's lease reverts it)
};

class FaultSpanExporter {
 public:
  // host:port of an OTLP/gRPC receiver (a Collector, Jaeger, Tempo...), plaintext.
  explicit FaultSpanExporter(const std::string& endpoint);
  // Sends what is queued (each send bounded by a short deadline), then stops.
  ~FaultSpanExporter();
  // Queues the window and returns at once: a tracing backend that is slow or down must never
  // delay a revert. Failures are logged.
  void export_window(FaultWindow w);

 private:
  void send(const FaultWindow& w);

  std::string endpoint_;
  std::unique_ptr<opentelemetry::proto::collector::trace::v1::TraceService::Stub> stub_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<FaultWindow> queue_;
  bool stop_ = false;
  bool unreachable_ = false;  // after one failed send the rest are dropped, not waited on
  std::thread thread_;
};

}  // namespace faultline::controller
