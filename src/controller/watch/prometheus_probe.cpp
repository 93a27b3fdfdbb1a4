#include "controller/watch/prometheus_probe.h"
#include "controller/watch/pinned_destination.h"

#include <httplib.h>

#include <nlohmann/json.hpp>

#include "common/time_util.h"
#include "controller/watch/http_url.h"
#include "controller/watch/value_check.h"

namespace faultline::controller {

PrometheusProbe::PrometheusProbe(std::string name, experiments::PrometheusProbeSpec spec,
                                 Duration timeout,
                                 std::shared_ptr<const DestinationGuard> destinations)
    : name_(std::move(name)),
      spec_(std::move(spec)),
      url_(split_base_url(spec_.url)),
      timeout_(timeout),
      destinations_(std::move(destinations)) {}

ProbeOutcome PrometheusProbe::run() {
  auto start = MonoClock::now();
  ProbeOutcome out;
  auto finish = [&](bool ok, std::string observed) {
    out.ok = ok;
    out.observed = std::move(observed);
    out.latency = MonoClock::now() - start;
    return out;
  };
  httplib::Client client(url_.origin);
  if (std::string why = pin_destination(client, url_.origin, destinations_.get()); !why.empty())
    return finish(false, why);
  auto t = std::chrono::duration_cast<std::chrono::microseconds>(timeout_);
  client.set_connection_timeout(t);
  client.set_read_timeout(t);
  httplib::Params params{{"query", spec_.query}};
  auto res = client.Get(url_.path + "/api/v1/query", params, httplib::Headers{});
  if (!res) return finish(false, "Prometheus unreachable: " + httplib::to_string(res.error()));
  nlohmann::json doc = nlohmann::json::parse(res->body, nullptr, false);
  if (doc.is_discarded())
    return finish(false, "HTTP " + std::to_string(res->status) + " with a body that is not JSON");
  if (doc.value("status", "") != "success")
    return finish(false,
                  "query failed: " + doc.value("error", "HTTP " + std::to_string(res->status)));
  const auto& data = doc["data"];
  std::string type = data.value("resultType", "");
  const nlohmann::json* sample = nullptr;
  if (type == "vector" && !data["result"].empty()) sample = &data["result"][0]["value"][1];
  if (type == "scalar") sample = &data["result"][1];
  if (!sample) return finish(false, "no data for " + spec_.query);
  std::string why = check_value(spec_.check, *sample);
  if (sample->is_string()) {
    char* end = nullptr;
    const std::string& text = sample->get_ref<const std::string&>();
    double v = std::strtod(text.c_str(), &end);
    if (end != text.c_str()) out.value = v;
  } else if (sample->is_number()) {
    out.value = sample->get<double>();
  }
  out.threshold = spec_.check.max ? spec_.check.max : spec_.check.min;
  return finish(why.empty(), why.empty() ? spec_.query + " = " + value_text(*sample) : why);
}

}  // namespace faultline::controller
