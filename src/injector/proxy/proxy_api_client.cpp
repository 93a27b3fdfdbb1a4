#include "injector/proxy/proxy_api_client.h"

#include <httplib.h>

namespace faultline::injector {
namespace {

constexpr size_t kMaxAnswer = 64 * 1024;  // a toxic or proxy is a few hundred bytes
constexpr int kTimeoutMs = 1000;

}  // namespace

Result<ProxyApiClient> ProxyApiClient::connect_to(const std::string& api) {
  auto at = parse_proxy_api(api);
  if (!at) return at.error();
  return ProxyApiClient(api, *at);
}

Result<ProxyApiClient::Answer> ProxyApiClient::call(const char* method, const std::string& path,
                                                    const std::string& body) const {
  httplib::Client client(at_.host, at_.port);
  client.set_connection_timeout(0, kTimeoutMs * 1000);
  client.set_read_timeout(0, kTimeoutMs * 1000);
  client.set_write_timeout(0, kTimeoutMs * 1000);
  client.set_keep_alive(false);
  httplib::Request req;
  req.method = method;
  req.path = path;
  req.set_header("Content-Type", "application/json");
  req.set_header("User-Agent", "faultline-injector");
  req.body = body;
  Answer a;
  bool too_big = false;
  req.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) {
    if (a.body.size() + n > kMaxAnswer) {
      too_big = true;
      return false;
    }
    a.body.append(data, n);
    return true;
  };
  httplib::Response res;
  httplib::Error err = httplib::Error::Success;
  if (!client.send(req, res, err) && !too_big)
    return make_error(ErrorCode::kUnavailable, "proxy API " + api_ + " " + method + " " + path +
                                                   ": " + httplib::to_string(err));
  if (too_big)
    return make_error(ErrorCode::kUnavailable, "proxy API " + api_ + " answered " + path +
                                                   " with more than 64 KiB; not a proxy API");
  a.status = res.status;
  return a;
}

Status ProxyApiClient::refused(const char* what, const Answer& a) const {
  std::string message;
  try {
    auto j = nlohmann::json::parse(a.body);
    if (j.is_object() && j.contains("error") && j["error"].is_string())
      message = j["error"].get<std::string>();
  } catch (const nlohmann::json::exception&) {
  }
  if (message.empty()) message = a.body.substr(0, 200);
  return make_error(a.status == 404 ? ErrorCode::kNotFound : ErrorCode::kFailedPrecondition,
                    std::string(what) + " at " + api_ + ": " + std::to_string(a.status) +
                        (message.empty() ? "" : " " + message));
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

Status ProxyApiClient::set_enabled(const std::string& proxy, bool enabled) const {
  nlohmann::json body = {{"enabled", enabled}};
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
