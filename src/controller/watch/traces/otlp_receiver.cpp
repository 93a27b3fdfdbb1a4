#include "controller/watch/traces/otlp_receiver.h"

#include <vector>

#include "common/log.h"
#include "controller/watch/traces/span_query.h"

namespace faultline::controller {
namespace otlp = opentelemetry::proto;

namespace {

const std::string kServiceName = "service.name";
const std::string kUnknownService = "unknown_service";

int64_t int_value(const otlp::common::v1::AnyValue& v) {
  if (v.has_int_value()) return v.int_value();
  if (v.has_string_value()) return std::atoll(v.string_value().c_str());
  if (v.has_double_value()) return static_cast<int64_t>(v.double_value());
  return 0;
}

// An error is what the application says is one, or a server-side HTTP status (both the
// current and the older semantic-convention attribute).
bool is_error(const otlp::trace::v1::Span& span) {
  if (span.status().code() == otlp::trace::v1::Status::STATUS_CODE_ERROR) return true;
  for (const auto& kv : span.attributes())
    if (is_server_error_status(kv.key(), int_value(kv.value()))) return true;
  return false;
}

}  // namespace

void ingest_export(SliStore& store,
                   const otlp::collector::trace::v1::ExportTraceServiceRequest& r) {
  thread_local std::vector<SpanRecord> records;
  for (const auto& rs : r.resource_spans()) {
    const std::string* service = &kUnknownService;
    for (const auto& kv : rs.resource().attributes())
      if (kv.key() == kServiceName && kv.value().has_string_value())
        service = &kv.value().string_value();
    records.clear();
    for (const auto& ss : rs.scope_spans())
      for (const auto& span : ss.spans()) {
        uint64_t start = span.start_time_unix_nano(), end = span.end_time_unix_nano();
        records.push_back({&span.name(), is_error(span), end > start ? (end - start) / 1000 : 0});
      }
    store.ingest(*service, records.data(), records.size());
  }
}

OtlpReceiver::~OtlpReceiver() {
  if (server_) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
}

Status OtlpReceiver::start(const std::string& listen) {
  grpc::ServerBuilder builder;
  builder.AddListeningPort(listen, grpc::InsecureServerCredentials(), &port_);
  builder.RegisterService(this);
  // Collectors batch up to a few MB per request.
  builder.SetMaxReceiveMessageSize(64 << 20);
  server_ = builder.BuildAndStart();
  if (!server_ || port_ == 0)
    return make_error(ErrorCode::kUnavailable, "OTLP receiver cannot listen on " + listen +
                                                   " (in use? change it with --otlp-listen)");
  spdlog::info("OTLP trace receiver listening address={} port={}", listen, port_);
  return Ok{};
}

grpc::Status OtlpReceiver::Export(
    grpc::ServerContext*, const otlp::collector::trace::v1::ExportTraceServiceRequest* request,
    otlp::collector::trace::v1::ExportTraceServiceResponse*) {
  ingest_export(store_, *request);
  return grpc::Status::OK;
}

}  // namespace faultline::controller
