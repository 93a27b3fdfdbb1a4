#include "proxy/proxy_collection.h"

#include "common/log.h"

namespace faultline::proxy {

namespace {

Error bad(const std::string& what) {
  return Error{ErrorCode::kInvalidArgument, what};
}

// Faultline's lease on `enabled: false`: nullopt when the body has none.
Result<std::optional<int64_t>> lease_of(const nlohmann::json& body) {
  if (!body.is_object() || !body.contains("lease_ms") || body["lease_ms"].is_null())
    return std::optional<int64_t>();
  const auto& v = body["lease_ms"];
  if ((!v.is_number_integer() && !v.is_number_unsigned()) || v.get<int64_t>() < 0)
    return bad("bad request body: lease_ms must be a whole number of milliseconds (0: no lease)");
  return std::optional<int64_t>(v.get<int64_t>());
}

}  // namespace

nlohmann::json ProxyCollection::proxy_json(const TcpProxy& p) {
  ProxyConfig c = p.config();
  nlohmann::json toxics = nlohmann::json::array();
  for (const auto& t : p.toxics().list()) toxics.push_back(toxic_to_json(t));
  nlohmann::json out = {{"name", c.name},
                        {"listen", c.listen},
                        {"upstream", c.upstream},
                        {"enabled", c.enabled},
                        {"toxics", toxics}};
  if (c.lease_ms > 0) out["lease_ms"] = c.lease_ms;  // only while a lease runs
  return out;
}

Result<ProxyConfig> ProxyCollection::config_from(const nlohmann::json& body,
                                                 const ProxyConfig* base) const {
  if (!body.is_object()) return bad("bad request body: a proxy must be a JSON object");
  ProxyConfig c = base ? *base : ProxyConfig{};
  auto text = [&](const char* key, std::string& out) -> Status {
    if (!body.contains(key) || body[key].is_null()) return Ok{};
    if (!body[key].is_string())
      return bad("bad request body: " + std::string(key) + " must be a string");
    out = body[key].get<std::string>();
    return Ok{};
  };
  if (!base) {
    if (Status s = text("name", c.name); !s) return s.error();
    // A lease starts or is renewed by an update: a proxy created with one would silently not
    // have it.
    if (body.contains("lease_ms") && !body["lease_ms"].is_null())
      return bad(
          "bad request body: lease_ms is read by an update of the proxy "
          "(POST /proxies/{name}), not by its creation");
  }
  if (Status s = text("listen", c.listen); !s) return s.error();
  if (Status s = text("upstream", c.upstream); !s) return s.error();
  if (body.contains("enabled") && !body["enabled"].is_null()) {
    if (!body["enabled"].is_boolean())
      return bad("bad request body: enabled must be true or false");
    c.enabled = body["enabled"].get<bool>();
  }
  if (c.name.empty()) return bad("missing required field: name");
  if (c.upstream.empty()) return bad("missing required field: upstream");
  if (c.listen.empty()) c.listen = "127.0.0.1:0";
  if (auto ep = parse_endpoint(c.listen); !ep) return ep.error();
  if (auto ep = parse_endpoint(c.upstream); !ep) return ep.error();
  return c;
}

Result<nlohmann::json> ProxyCollection::create(const nlohmann::json& body) {
  auto config = config_from(body, nullptr);
  if (!config) return config.error();
  std::lock_guard lock(mu_);
  if (proxies_.count(config->name))
    return Error{ErrorCode::kFailedPrecondition, "proxy already exists"};
  auto p = std::make_shared<TcpProxy>(*config);
  if (Status s = p->start(); !s) return s.error();
  proxies_[config->name] = p;
  return proxy_json(*p);
}

Result<nlohmann::json> ProxyCollection::populate(const nlohmann::json& body) {
  if (!body.is_array()) return bad("bad request body: /populate takes an array of proxies");
  // Every item is checked before anything changes.
  std::vector<ProxyConfig> configs;
  for (size_t i = 0; i < body.size(); ++i) {
    auto config = config_from(body[i], nullptr);
    if (!config) {
      Error e = config.error();
      e.message += " at proxy " + std::to_string(i + 1);
      return e;
    }
    configs.push_back(*config);
  }
  nlohmann::json done = nlohmann::json::array();
  for (const auto& config : configs) {
    std::lock_guard lock(mu_);
    auto it = proxies_.find(config.name);
    if (it != proxies_.end()) {
      ProxyConfig now = it->second->config();
      auto same = [](const std::string& a, const std::string& b) {
        auto x = parse_endpoint(a), y = parse_endpoint(b);
        return a == b || (x && y &&
                          endpoint_text(reinterpret_cast<const sockaddr*>(&x->addr)) ==
                              endpoint_text(reinterpret_cast<const sockaddr*>(&y->addr)));
      };
      if (same(now.listen, config.listen) && now.upstream == config.upstream) {
        done.push_back(proxy_json(*it->second));  // untouched: its toxics and connections stay
        continue;
      }
      proxies_.erase(it);  // a different proxy under the same name: replaced
    }
    auto p = std::make_shared<TcpProxy>(config);
    if (Status s = p->start(); !s) return s.error();
    proxies_[config.name] = p;
    done.push_back(proxy_json(*p));
  }
  return nlohmann::json{{"proxies", done}};
}

Result<nlohmann::json> ProxyCollection::update(const std::string& name,
                                               const nlohmann::json& body) {
  auto p = find(name);
  if (!p) return Error{ErrorCode::kNotFound, "proxy not found"};
  auto lease = lease_of(body);
  if (!lease) return lease.error();
  // The body is applied to the proxy's config as it is once the update has the proxy to
  // itself: a lease that ran out meanwhile has enabled it, and a body without `enabled` must
  // not disable it again.
  auto change = [&](const ProxyConfig& now) { return config_from(body, &now); };
  if (Status s = p->update(change, *lease); !s) return s.error();
  return proxy_json(*p);
}

Status ProxyCollection::remove(const std::string& name) {
  std::shared_ptr<TcpProxy> gone;
  {
    std::lock_guard lock(mu_);
    auto it = proxies_.find(name);
    if (it == proxies_.end()) return Error{ErrorCode::kNotFound, "proxy not found"};
    gone = std::move(it->second);
    proxies_.erase(it);
  }
  gone.reset();  // stops it: listener and connections closed, threads joined
  return Ok{};
}

void ProxyCollection::reset() {
  std::vector<std::shared_ptr<TcpProxy>> all;
  {
    std::lock_guard lock(mu_);
    for (auto& [name, p] : proxies_) all.push_back(p);
  }
  for (auto& p : all) {
    p->toxics().clear();
    ProxyConfig c = p->config();
    if (!c.enabled) {
      c.enabled = true;
      if (Status s = p->update(c); !s)
        spdlog::warn("proxy not enabled again by reset name={} error=\"{}\"", c.name,
                     s.error().message);
    }
  }
}

void ProxyCollection::expire_leases() {
  int64_t now = ToxicSet::clock_ns();
  // Under the lock: a proxy removed meanwhile is not swept (nor enabled again) after its
  // removal. Each check is one atomic load unless a lease is due.
  std::lock_guard lock(mu_);
  for (auto& [name, p] : proxies_) {
    for (const auto& toxic : p->toxics().expire_leases(now))
      spdlog::info("toxic removed: its lease ran out proxy={} toxic={}", name, toxic);
    p->expire_lease(now);  // a disabled proxy's lease: enabled again (it logs)
  }
}

std::shared_ptr<TcpProxy> ProxyCollection::find(const std::string& name) const {
  std::lock_guard lock(mu_);
  auto it = proxies_.find(name);
  return it == proxies_.end() ? nullptr : it->second;
}

Result<nlohmann::json> ProxyCollection::show(const std::string& name) const {
  auto p = find(name);
  if (!p) return Error{ErrorCode::kNotFound, "proxy not found"};
  return proxy_json(*p);
}

nlohmann::json ProxyCollection::all() const {
  std::vector<std::shared_ptr<TcpProxy>> list;
  {
    std::lock_guard lock(mu_);
    for (auto& [name, p] : proxies_) list.push_back(p);
  }
  nlohmann::json out = nlohmann::json::object();
  for (auto& p : list) out[p->config().name] = proxy_json(*p);
  return out;
}

}  // namespace faultline::proxy
