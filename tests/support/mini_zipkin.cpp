#include "support/mini_zipkin.h"

#include <algorithm>
#include <cctype>
#include <map>

#include <nlohmann/json.hpp>

namespace faultline::testing {

namespace {
std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}
}  // namespace

MiniZipkin::MiniZipkin() {
  server_.Post("/api/v2/spans", [this](const httplib::Request& req, httplib::Response& res) {
    auto doc = nlohmann::json::parse(req.body, nullptr, false);
    if (!doc.is_array()) {
      res.status = 400;
      return;
    }
    std::lock_guard lock(mu_);
    for (auto& s : doc) {
      // Zipkin stores service names in lower case.
      if (s.contains("localEndpoint") && s["localEndpoint"].contains("serviceName"))
        s["localEndpoint"]["serviceName"] = lower(s["localEndpoint"]["serviceName"]);
      spans_.push_back(s.dump());
    }
    res.status = 202;
  });
  server_.Get("/api/v2/traces", [this](const httplib::Request& req, httplib::Response& res) {
    std::string service = lower(req.get_param_value("serviceName"));
    int64_t end_ms = std::stoll(req.get_param_value("endTs"));
    int64_t lookback_ms =
        req.has_param("lookback") ? std::stoll(req.get_param_value("lookback")) : 86'400'000;
    std::map<std::string, nlohmann::json> traces;
    std::lock_guard lock(mu_);
    ++queries_;
    for (const auto& text : spans_) {
      auto s = nlohmann::json::parse(text);
      int64_t ts_ms = s.value("timestamp", int64_t{0}) / 1000;
      if (s["localEndpoint"].value("serviceName", "") != service) continue;
      if (ts_ms > end_ms || ts_ms < end_ms - lookback_ms) continue;
      traces[s.value("traceId", "")].push_back(s);
    }
    nlohmann::json out = nlohmann::json::array();
    for (auto& [_, t] : traces) out.push_back(t);
    res.set_content(out.dump(), "application/json");
  });
  port_ = server_.bind_to_any_port("127.0.0.1");
  thread_ = std::thread([this] { server_.listen_after_bind(); });
  while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

MiniZipkin::~MiniZipkin() {
  server_.stop();
  thread_.join();
}

size_t MiniZipkin::spans_stored() const {
  std::lock_guard lock(mu_);
  return spans_.size();
}

size_t MiniZipkin::queries() const {
  std::lock_guard lock(mu_);
  return queries_;
}

}  // namespace faultline::testing
