#include "controller/watch/traces/fault_span_exporter.h"

#include <random>

#include "common/grpc_channel.h"
#include "common/log.h"

namespace faultline::controller {
namespace otlp = opentelemetry::proto;

namespace {

std::string random_bytes(size_t n) {
  thread_local std::mt19937_64 rng(std::random_device{}());
  std::string out(n, '\0');
  for (auto& c : out) c = static_cast<char>(rng());
  return out;
}

void attribute(google::protobuf::RepeatedPtrField<otlp::common::v1::KeyValue>* attrs,
               const std::string& key, const std::string& value) {
  if (value.empty()) return;
  auto* kv = attrs->Add();
  kv->set_key(key);
  kv->mutable_value()->set_string_value(value);
}

}  // namespace

FaultSpanExporter::FaultSpanExporter(const std::string& endpoint)
    : endpoint_(endpoint),
      stub_(otlp::collector::trace::v1::TraceService::NewStub(make_client_channel(endpoint))),
      thread_([this] {
        std::unique_lock lock(mu_);
        for (;;) {
          cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
          if (queue_.empty()) return;
          FaultWindow w = std::move(queue_.front());
          queue_.pop_front();
          lock.unlock();
          send(w);
          lock.lock();
        }
      }) {}

FaultSpanExporter::~FaultSpanExporter() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void FaultSpanExporter::export_window(FaultWindow w) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(w));
  }
  cv_.notify_all();
}

void FaultSpanExporter::send(const FaultWindow& w) {
  if (unreachable_) return;
  otlp::collector::trace::v1::ExportTraceServiceRequest req;
  auto* rs = req.add_resource_spans();
  attribute(rs->mutable_resource()->mutable_attributes(), "service.name", "faultline");
  auto* ss = rs->add_scope_spans();
  ss->mutable_scope()->set_name("faultline");
  auto* span = ss->add_spans();
  span->set_trace_id(random_bytes(16));
  span->set_span_id(random_bytes(8));
  span->set_name("fault " + w.fault_name);
  span->set_kind(otlp::trace::v1::Span::SPAN_KIND_INTERNAL);
  span->set_start_time_unix_nano(static_cast<uint64_t>(w.start_unix_ns));
  span->set_end_time_unix_nano(static_cast<uint64_t>(w.end_unix_ns));
  auto* attrs = span->mutable_attributes();
  attribute(attrs, "faultline.run_id", w.run_id);
  attribute(attrs, "faultline.experiment", w.experiment);
  attribute(attrs, "faultline.fault", w.fault_name);
  attribute(attrs, "faultline.kind", w.kind);
  attribute(attrs, "faultline.target", w.target);
  attribute(attrs, "faultline.node", w.node);
  attribute(attrs, "faultline.pids", w.pids);
  attribute(attrs, "faultline.achieved", w.achieved);
  if (!w.error.empty()) {
    span->mutable_status()->set_code(otlp::trace::v1::Status::STATUS_CODE_ERROR);
    span->mutable_status()->set_message(w.error);
  }
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(1));
  otlp::collector::trace::v1::ExportTraceServiceResponse resp;
  grpc::Status s = stub_->Export(&ctx, req, &resp);
  if (!s.ok()) {
    unreachable_ = true;
    spdlog::warn("fault windows not exported endpoint={} fault={} error=\"{}\"", endpoint_,
                 w.fault_name, s.error_message());
  }
}

}  // namespace faultline::controller
