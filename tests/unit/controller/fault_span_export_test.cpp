// Fault windows exported as OTLP spans: a run with two faults on real child processes sends one
// span per fault to an OTLP/gRPC receiver, with the window the fault was really active.
#include "controller/watch/traces/fault_span_exporter.h"

#include <gtest/gtest.h>

#include <mutex>

#include "common/time_util.h"
#include "controller/controller.h"
#include "controller/link/in_process_link.h"
#include "experiments/loader.h"
#include "injector/command_handler.h"
#include "injector/fault_engine.h"
#include "support/child_process.h"

namespace faultline::controller {
namespace {

using namespace faultline::testing;
using namespace std::chrono_literals;
namespace otlp = opentelemetry::proto;

// An OTLP/gRPC receiver that keeps every span it is sent.
class CapturingReceiver final : public otlp::collector::trace::v1::TraceService::Service {
 public:
  CapturingReceiver() {
    grpc::ServerBuilder b;
    b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    b.RegisterService(this);
    server_ = b.BuildAndStart();
  }
  ~CapturingReceiver() override { server_->Shutdown(); }
  grpc::Status Export(grpc::ServerContext*,
                      const otlp::collector::trace::v1::ExportTraceServiceRequest* req,
                      otlp::collector::trace::v1::ExportTraceServiceResponse*) override {
    std::lock_guard lock(mu_);
    for (const auto& rs : req->resource_spans())
      for (const auto& ss : rs.scope_spans())
        for (const auto& s : ss.spans()) spans_.push_back({rs.resource(), s});
    return grpc::Status::OK;
  }
  std::string endpoint() const { return "127.0.0.1:" + std::to_string(port_); }
  std::vector<std::pair<otlp::resource::v1::Resource, otlp::trace::v1::Span>> spans() {
    std::lock_guard lock(mu_);
    return spans_;
  }

 private:
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
  std::mutex mu_;
  std::vector<std::pair<otlp::resource::v1::Resource, otlp::trace::v1::Span>> spans_;
};

std::string attr(const google::protobuf::RepeatedPtrField<otlp::common::v1::KeyValue>& attrs,
                 const std::string& key) {
  for (const auto& kv : attrs)
    if (kv.key() == key) return kv.value().string_value();
  return "";
}

TEST(FaultSpanExport, EachFaultWindowBecomesASpanWithItsRealTimes) {
  CapturingReceiver receiver;
  TempDir dir;
  ChildProcess a({"/bin/sleep", "600"}), b({"/bin/sleep", "600"});
  write_file(dir.file("e.yaml"),
             "apiVersion: faultline/v1\nkind: Experiment\nmetadata: {name: windows}\n"
             "targets:\n  a: {process: {pid: " +
                 std::to_string(a.pid()) + "}}\n  b: {process: {pid: " + std::to_string(b.pid()) +
                 "}}\n"
                 "faults:\n"
                 "  - {name: freeze-a, kind: process_pause, target: a, duration: 400ms}\n"
                 "  - {name: freeze-b, kind: process_pause, target: b, duration: 300ms, "
                 "after: freeze-a}\n");
  auto loaded = experiments::load_experiment_file(dir.file("e.yaml"), {});
  ASSERT_TRUE(loaded.ok()) << loaded.diagnostics[0].format();

  auto engine = std::move(injector::start_engine(dir.file("ledger"))).value();
  RunSettings settings;
  settings.otlp_export = receiver.endpoint();
  Controller ctl(settings);
  InjectorInfo info;
  info.node_name = "node-x";
  info.capabilities = engine->capabilities();
  auto* e = engine.get();
  ctl.registry().add(std::make_shared<InProcessInjectorLink>(
      info, [e](const v1::ControllerMessage& m) { return injector::handle_command(*e, m); }));
  int64_t before = unix_nanos_now();
  auto run = ctl.submit(std::move(*loaded.experiment));
  ASSERT_TRUE(run.ok()) << run.error().message;
  (*run)->wait();
  int64_t after = unix_nanos_now();
  ASSERT_EQ((*run)->state(), v1::RUN_STATE_PASSED);

  // The run sends what it queued before it ends.
  auto spans = receiver.spans();
  ASSERT_EQ(spans.size(), 2u);
  std::map<std::string, otlp::trace::v1::Span> by_fault;
  for (const auto& [resource, span] : spans) {
    EXPECT_EQ(attr(resource.attributes(), "service.name"), "faultline");
    EXPECT_EQ(attr(span.attributes(), "faultline.run_id"), (*run)->id());
    EXPECT_EQ(attr(span.attributes(), "faultline.experiment"), "windows");
    EXPECT_EQ(attr(span.attributes(), "faultline.kind"), "process_pause");
    EXPECT_EQ(attr(span.attributes(), "faultline.node"), "node-x");
    EXPECT_EQ(span.trace_id().size(), 16u);
    EXPECT_EQ(span.span_id().size(), 8u);
    EXPECT_NE(span.status().code(), otlp::trace::v1::Status::STATUS_CODE_ERROR);
    by_fault[attr(span.attributes(), "faultline.fault")] = span;
  }
  ASSERT_EQ(by_fault.count("freeze-a"), 1u);
  ASSERT_EQ(by_fault.count("freeze-b"), 1u);
  const auto& sa = by_fault["freeze-a"];
  const auto& sb = by_fault["freeze-b"];
  EXPECT_EQ(sa.name(), "fault freeze-a");
  EXPECT_EQ(attr(sa.attributes(), "faultline.target"), "a");
  // Windows lie inside the run, last about as long as asked, and follow each other.
  for (const auto* s : {&sa, &sb}) {
    EXPECT_GE(static_cast<int64_t>(s->start_time_unix_nano()), before);
    EXPECT_LE(static_cast<int64_t>(s->end_time_unix_nano()), after);
  }
  double a_ms = (sa.end_time_unix_nano() - sa.start_time_unix_nano()) / 1e6;
  double b_ms = (sb.end_time_unix_nano() - sb.start_time_unix_nano()) / 1e6;
  EXPECT_GE(a_ms, 350);
  EXPECT_LT(a_ms, 1500);
  EXPECT_GE(b_ms, 250);
  EXPECT_LT(b_ms, 1500);
  EXPECT_LE(sa.end_time_unix_nano(), sb.start_time_unix_nano());
  EXPECT_EQ(attr(sa.attributes(), "faultline.pids"), std::to_string(a.pid()));
  EXPECT_EQ(attr(sb.attributes(), "faultline.pids"), std::to_string(b.pid()));
}

TEST(FaultSpanExport, AnUnreachableReceiverDoesNotHoldUpTheRun) {
  int port = free_port();  // nothing listens
  auto start = MonoClock::now();
  {
    FaultSpanExporter exporter("127.0.0.1:" + std::to_string(port));
    for (int i = 0; i < 20; ++i)
      exporter.export_window({"r", "e", "f" + std::to_string(i), "process_pause", "t", "n", "", "",
                              unix_nanos_now(), unix_nanos_now(), ""});
  }
  // One failed send (bounded by its 1 s deadline) and the rest are dropped, not waited on.
  EXPECT_LT(MonoClock::now() - start, 3s);
}

}  // namespace
}  // namespace faultline::controller
