// Jaeger query: GET /api/traces?service=&start=&end=&limit= (µs) answers {"data": [trace]},
// each trace {spans: [{traceID, spanID, operationName, startTime, duration, tags, processID}],
// processes: {id: {serviceName}}}. Tags are [{key, type, value}] with typed values; a failed
// span has error=true, or otel.status_code=ERROR, or an HTTP status code >= 500.
#include <nlohmann/json.hpp>

#include "controller/watch/traces/span_query.h"

namespace faultline::controller {
namespace {

bool jaeger_error(const nlohmann::json& tags) {
  if (!tags.is_array()) return false;
  for (const auto& t : tags) {
    if (!t.is_object()) continue;
    std::string key = t.value("key", "");
    const auto& v = t.contains("value") ? t["value"] : nlohmann::json();
    if (key == "error" && ((v.is_boolean() && v.get<bool>()) || v == "true")) return true;
    if (key == "otel.status_code" && v == "ERROR") return true;
    if (v.is_number_integer() && is_server_error_status(key, v.get<int64_t>())) return true;
    if (v.is_string()) {
      char* end = nullptr;
      long code = std::strtol(v.get_ref<const std::string&>().c_str(), &end, 10);
      if (end && *end == '\0' && is_server_error_status(key, code)) return true;
    }
  }
  return false;
}

class JaegerQuery : public SpanQueryApi {
 public:
  std::string request_path(const std::string& service, int64_t from_us, int64_t to_us,
                           int limit) const override {
    return "/api/traces?service=" + url_encode(service) + "&start=" + std::to_string(from_us) +
           "&end=" + std::to_string(to_us) + "&limit=" + std::to_string(limit);
  }

  Result<std::vector<PolledSpan>> parse(const std::string& body,
                                        const std::string& service) const override {
    nlohmann::json doc = nlohmann::json::parse(body, nullptr, false);
    if (doc.is_discarded() || !doc.is_object() || !doc.contains("data"))
      return make_error(ErrorCode::kInvalidArgument,
                        "Jaeger answered something that is not {\"data\": [traces]}");
    const auto& data = doc["data"];
    if (!data.is_array()) return std::vector<PolledSpan>{};  // "data": null when nothing matched
    std::vector<PolledSpan> out;
    for (const auto& trace : data) {
      if (!trace.is_object()) continue;
      const auto& processes = trace.value("processes", nlohmann::json::object());
      for (const auto& s : trace.value("spans", nlohmann::json::array())) {
        if (!s.is_object()) continue;
        std::string pid = s.value("processID", "");
        if (!processes.is_object() || !processes.contains(pid) ||
            processes[pid].value("serviceName", "") != service)
          continue;
        PolledSpan p;
        p.key = s.value("traceID", "") + "/" + s.value("spanID", "");
        p.name = s.value("operationName", "");
        p.micros = s.value("duration", uint64_t{0});
        p.end_unix_us = s.value("startTime", int64_t{0}) + static_cast<int64_t>(p.micros);
        p.error = jaeger_error(s.value("tags", nlohmann::json::array()));
        out.push_back(std::move(p));
      }
    }
    return out;
  }
};

}  // namespace

std::unique_ptr<SpanQueryApi> make_jaeger_query() {
  return std::make_unique<JaegerQuery>();
}

}  // namespace faultline::controller
