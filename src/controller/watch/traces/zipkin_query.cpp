// Zipkin v2: GET /api/v2/traces?serviceName=&endTs=&lookback=&limit= answers a list of traces,
// each a list of spans {traceId, id, name, timestamp, duration (µs), localEndpoint, tags}.
// Zipkin marks a failed span with the "error" tag; OpenTelemetry's Zipkin exporter also sets
// "otel.status_code": "ERROR"; HTTP instrumentation sets the status code tag.
#include <algorithm>
#include <cctype>

#include <nlohmann/json.hpp>

#include "controller/watch/traces/span_query.h"

namespace faultline::controller {
namespace {

bool zipkin_error(const nlohmann::json& tags) {
  if (!tags.is_object()) return false;
  if (tags.contains("error")) return true;
  if (tags.value("otel.status_code", "") == "ERROR") return true;
  for (const char* key : {"http.response.status_code", "http.status_code"}) {
    auto it = tags.find(key);
    if (it == tags.end() || !it->is_string()) continue;
    char* end = nullptr;
    long code = std::strtol(it->get_ref<const std::string&>().c_str(), &end, 10);
    if (end && *end == '\0' && is_server_error_status(key, code)) return true;
  }
  return false;
}

bool same_service(const std::string& a, const std::string& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

class ZipkinQuery : public SpanQueryApi {
 public:
  std::string request_path(const std::string& service, int64_t from_us, int64_t to_us,
                           int limit) const override {
    int64_t end_ms = to_us / 1000;
    int64_t lookback_ms = std::max<int64_t>(1, (to_us - from_us) / 1000);
    return "/api/v2/traces?serviceName=" + url_encode(service) +
           "&endTs=" + std::to_string(end_ms) + "&lookback=" + std::to_string(lookback_ms) +
           "&limit=" + std::to_string(limit);
  }

  Result<std::vector<PolledSpan>> parse(const std::string& body,
                                        const std::string& service) const override {
    nlohmann::json doc = nlohmann::json::parse(body, nullptr, false);
    if (doc.is_discarded() || !doc.is_array())
      return make_error(ErrorCode::kInvalidArgument,
                        "Zipkin answered something that is not a JSON list of traces");
    std::vector<PolledSpan> out;
    for (const auto& trace : doc) {
      if (!trace.is_array()) continue;
      for (const auto& s : trace) {
        if (!s.is_object()) continue;
        const auto& ep = s.value("localEndpoint", nlohmann::json::object());
        // The Zipkin server stores service names in lower case.
        if (!ep.is_object() || !same_service(ep.value("serviceName", ""), service)) continue;
        PolledSpan p;
        p.key = s.value("traceId", "") + "/" + s.value("id", "");
        p.name = s.value("name", "");
        p.micros = s.value("duration", uint64_t{0});
        p.end_unix_us = s.value("timestamp", int64_t{0}) + static_cast<int64_t>(p.micros);
        p.error = zipkin_error(s.value("tags", nlohmann::json::object()));
        out.push_back(std::move(p));
      }
    }
    return out;
  }
};

}  // namespace

std::unique_ptr<SpanQueryApi> make_zipkin_query() {
  return std::make_unique<ZipkinQuery>();
}

}  // namespace faultline::controller
