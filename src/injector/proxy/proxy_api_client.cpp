#include "injector/proxy/proxy_api_client.h"

#include "injector/bounded_http.h"

namespace faultline::injector {
namespace {

constexpr size_t kMaxAnswer = 64 * 1024;  // a toxic or proxy is a few hundred bytes
constexpr int kTimeoutMs = 2000;          // for the whole call, connect to last byte

}  // namespace

Result<ProxyApiClient> ProxyApiClient::connect_to(const std::string& api) {
  auto at = parse_proxy_api(api);
  if (!at) return at.error();
  return ProxyApiClient(api, *at);
}

Result<ProxyApiClient::Answer> ProxyApiClient::call(const char* method, const std::string& path,
                                                    const std::string& body) const {
  auto a = tcp_http(at_.host, at_.port, method, path, body, std::chrono::milliseconds(kTimeoutMs),
                    kMaxAnswer);
  if (!a) {
    // Connection refused: no proxy runs there, so nothing of ours is held there either.
    ErrorCode code =
        a.error().code == ErrorCode::kNotFound ? ErrorCode::kNotFound : ErrorCode::kUnavailable;
    return make_error(code, "proxy API " + api_ + ": " + a.error().message);
  }
  return Answer{static_cast<int>(a->status), std::move(a->body)};
}

Status ProxyApiClient::refused(const char* what, const Answer& a) const {
  std::string message;
  try {
    auto j = nlohmann::json::parse(a.body);
    if (j.is_object() && j.contains("error") && j["error"].is_string())
      message = j["error"].get<std::string>();
  } catch (const nlohmann::json::exception&) {
  }
  // Only a proxy API's own JSON error is repeated: the body of whatever else listens on the
  // port is none of the experiment author's business (and would make this a port scanner).
  if (message.empty()) message = "(not a proxy API's error)";
  if (message.size() > 200) message.resize(200);
  return make_error(
      a.status == 404 ? ErrorCode::kNotFound : ErrorCode::kFailedPrecondition,
      std::string(what) + " at " + api_ + ": " + std::to_string(a.status) + " " + message);
}

Status ProxyApiClient::add_toxic(const std::string& proxy, const nlohmann::json& body) const {
  auto a = call("POST", "/proxies/" + proxy + "/toxics", body.dump());
  if (!a) return a.error();
  if (a->status == 200 || a->status == 201) return Ok{};
  return refused(("adding the toxic to proxy " + proxy).c_str(), *a);
}

Status ProxyApiClient::renew_toxic(const std::string& proxy, const std::string& toxic,
                                   uint64_t lease_ms) const {
  nlohmann::json body = {{"lease_ms", lease_ms}};
  auto a = call("POST", "/proxies/" + proxy + "/toxics/" + toxic, body.dump());
  if (!a) return a.error();
  if (a->status == 200) return Ok{};
  return refused(("renewing toxic " + toxic + " of proxy " + proxy).c_str(), *a);
}

Status ProxyApiClient::remove_toxic(const std::string& proxy, const std::string& toxic) const {
  auto a = call("DELETE", "/proxies/" + proxy + "/toxics/" + toxic);
  if (!a) return a.error();
  if (a->status == 204 || a->status == 200 || a->status == 404) return Ok{};
  return refused(("removing toxic " + toxic + " from proxy " + proxy).c_str(), *a);
}

Result<bool> ProxyApiClient::enabled(const std::string& proxy) const {
  auto a = call("GET", "/proxies/" + proxy);
  if (!a) return a.error();
  if (a->status != 200) return refused(("reading proxy " + proxy).c_str(), *a).error();
  try {
    auto j = nlohmann::json::parse(a->body);
    if (j.is_object() && j.contains("enabled") && j["enabled"].is_boolean())
      return j["enabled"].get<bool>();
  } catch (const nlohmann::json::exception&) {
  }
  return make_error(ErrorCode::kFailedPrecondition,
                    "proxy " + proxy + " at " + api_ + " answered without `enabled`");
}

Status ProxyApiClient::set_enabled(const std::string& proxy, bool enabled,
                                   uint64_t lease_ms) const {
  nlohmann::json body = {{"enabled", enabled}};
  if (lease_ms > 0) body["lease_ms"] = lease_ms;
  auto a = call("POST", "/proxies/" + proxy, body.dump());
  if (!a) return a.error();
  if (a->status == 200) return Ok{};
  if (a->status == 404 && enabled) return Ok{};  // gone: nothing left to bring back up
  return refused(((enabled ? "enabling proxy " : "disabling proxy ") + proxy).c_str(), *a);
}

std::optional<nlohmann::json> ProxyApiClient::counts(const std::string& proxy,
                                                     const std::string& toxic) const {
  auto a = call("GET", "/proxies/" + proxy + "/toxics/" + toxic + "/counts");
  if (!a || a->status != 200) return std::nullopt;
  try {
    auto j = nlohmann::json::parse(a->body);
    if (j.is_object()) return j;
  } catch (const nlohmann::json::exception&) {
  }
  return std::nullopt;
}

}  // namespace faultline::injector
