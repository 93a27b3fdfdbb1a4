#include "injector/proxy/proxy_toxic_backend.h"

#include <system_error>
#include <thread>
#include <vector>

#include "common/log.h"
#include "common/proxy_api_address.h"
#include "injector/backend_registry.h"
#include "injector/proxy/proxy_api_client.h"
#include "proxy/toxic_request.h"

namespace faultline::injector {
namespace {

// The spec may come from a remote submission: the name goes into a URL path and the address
// must be this node's loopback, whatever the controller checked.
Result<ProxyApiClient> client_for(const pb::ProxyToxic& t) {
  if (std::string why = proxy_name_problem(t.proxy()); !why.empty())
    return make_error(ErrorCode::kInvalidArgument, "proxy_toxic: " + why);
  auto client = ProxyApiClient::connect_to(t.api());
  if (!client)
    return make_error(ErrorCode::kInvalidArgument, "proxy_toxic api " + client.error().message);
  return client;
}

std::string attributes_text(const pb::ProxyToxic& t) {
  std::string out;
  std::map<std::string, std::string> sorted(t.attributes().begin(), t.attributes().end());
  for (const auto& [k, v] : sorted) out += (out.empty() ? "" : ", ") + k + "=" + v;
  return out;
}

}  // namespace

ProxyToxicBackend::~ProxyToxicBackend() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (renewer_.joinable()) renewer_.join();
}

std::string ProxyToxicBackend::toxic_name(const std::string& fault_id) {
  std::string out = "faultline-";
  for (char c : fault_id)
    out +=
        (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.') ? c : '_';
  return out;
}

Result<AppliedFault> ProxyToxicBackend::apply(const std::string& fault_id,
                                              const pb::FaultSpec& spec) {
  const auto& t = spec.proxy_toxic();
  auto client = client_for(t);
  if (!client) return client.error();
  AppliedFault applied{fault_id, spec, {}};
  if (t.type() == "down") {
    // Down on a proxy someone else took down already would be "brought back" by our revert.
    auto was = client->enabled(t.proxy());
    if (!was) return was.error();
    if (!*was)
      return make_error(ErrorCode::kFailedPrecondition,
                        "proxy " + t.proxy() + " at " + t.api() +
                            " is already disabled: taking it down again would bring it back "
                            "up at the end, which this fault never did");
    if (auto s = client->set_enabled(t.proxy(), false, kLeaseMs); !s) {
      // No answer is not "not done": the proxy may have taken itself down after the timeout
      // (closing slow connections). The engine drops a failed apply from its ledger, so the
      // way back is taken now.
      if (s.error().code == ErrorCode::kUnavailable) undo_unanswered(fault_id, spec);
      return s.error();
    }
    applied.state.set_summary("proxy " + t.proxy() + " at " + t.api() + " disabled");
    hold(fault_id, {t.api(), t.proxy(), "", nullptr});
    return applied;
  }
  const std::string name = toxic_name(fault_id);
  std::map<std::string, std::string> attributes(t.attributes().begin(), t.attributes().end());
  nlohmann::json body = proxy::toxic_request(name, t.type(), t.stream(), t.toxicity(), attributes);
  body["lease_ms"] = kLeaseMs;
  if (auto s = client->add_toxic(t.proxy(), body); !s) {
    if (s.error().code == ErrorCode::kUnavailable) undo_unanswered(fault_id, spec);  // as above
    return s.error();
  }
  applied.state.set_summary("toxic " + t.type() + " (" + t.stream() +
                            (attributes.empty() ? "" : ", " + attributes_text(t)) +
                            ") added to proxy " + t.proxy() + " at " + t.api() + " as " + name);
  hold(fault_id, {t.api(), t.proxy(), name, nullptr});
  return applied;
}

void ProxyToxicBackend::hold(const std::string& fault_id, Held held) {
  held.renewal = std::make_shared<Renewal>();
  {
    std::lock_guard lock(mu_);
    leased_[fault_id] = std::move(held);
    if (!renewer_.joinable()) renewer_ = std::thread([this] { renew_loop(); });
  }
  cv_.notify_all();
}

void ProxyToxicBackend::undo_unanswered(const std::string& fault_id, const pb::FaultSpec& spec) {
  if (auto back = take_back(fault_id, spec); !back)
    spdlog::warn("proxy toxic not taken back after an unanswered apply fault_id={} error=\"{}\"",
                 fault_id, back.error().message);
}

Status ProxyToxicBackend::take_back(const std::string& fault_id, const pb::FaultSpec& spec) {
  std::shared_ptr<Renewal> renewal;
  {
    std::lock_guard lock(mu_);
    if (auto it = leased_.find(fault_id); it != leased_.end()) {
      renewal = std::move(it->second.renewal);
      leased_.erase(it);
    }
  }
  if (renewal) {
    // The renewer may have copied the fault before the erase above: this waits for a renewal
    // it is sending, and none is sent once `ended` is set. Only then is the proxy enabled (or
    // the toxic removed), so no renewal of a down can land after the enable and take the proxy
    // down again.
    std::lock_guard turn(renewal->mu);
    renewal->ended = true;
  }
  const auto& t = spec.proxy_toxic();
  auto client = client_for(t);
  if (!client) return client.error();
  if (t.type() == "down") return client->set_enabled(t.proxy(), true);
  return client->remove_toxic(t.proxy(), toxic_name(fault_id));
}

Status ProxyToxicBackend::revert(const AppliedFault& fault) {
  return take_back(fault.fault_id, fault.spec);
}

Status ProxyToxicBackend::recover_intent(const std::string& fault_id, const pb::FaultSpec& spec) {
  auto s = take_back(fault_id, spec);
  // Nothing listening (connection refused): a proxy that is not running holds no toxic, so
  // nothing is left to take back. A proxy that is slow or answers oddly is an error: its toxic
  // may still be there.
  if (!s && s.error().code == ErrorCode::kNotFound) return Ok{};
  return s;
}

std::string ProxyToxicBackend::achieved(const AppliedFault& fault) {
  const auto& t = fault.spec.proxy_toxic();
  if (t.type() == "down") return "";
  auto client = client_for(t);
  if (!client) return "";
  auto counts = client->counts(t.proxy(), toxic_name(fault.fault_id));
  if (!counts) return "";  // Toxiproxy itself keeps no counts
  auto number = [&](const char* key) -> uint64_t {
    auto it = counts->find(key);
    return it != counts->end() && it->is_number_unsigned() ? it->get<uint64_t>() : 0;
  };
  uint64_t connections = number("connections");
  std::string out = "took effect on " + std::to_string(connections) + " connection" +
                    (connections == 1 ? "" : "s");
  if (t.type() == "http_abort")
    out += ", " + std::to_string(number("requests")) + " requests examined, " +
           std::to_string(number("aborted")) + " aborted";
  return out;
}

void ProxyToxicBackend::renew_one(const std::string& fault_id, const Held& h) {
  // Held through the call: take_back waits for it (see Renewal).
  std::lock_guard turn(h.renewal->mu);
  if (h.renewal->ended) return;  // reverted since the copy: renewing now would undo it
  auto client = ProxyApiClient::connect_to(h.api);
  if (!client) return;
  // A down is renewed with `enabled: false` again, never by a call that could enable it.
  // A failed renewal is logged, not fatal: the proxy keeps the toxic (or stays down) until
  // the lease ends, and the next renewal may get through.
  Status s = h.toxic.empty() ? client->set_enabled(h.proxy, false, kLeaseMs)
                             : client->renew_toxic(h.proxy, h.toxic, kLeaseMs);
  if (!s && s.error().code == ErrorCode::kNotFound)
    spdlog::error("proxy toxic gone before its fault ended fault_id={} proxy={} error=\"{}\"",
                  fault_id, h.proxy, s.error().message);
  else if (!s)
    spdlog::warn("proxy toxic lease not renewed fault_id={} proxy={} error=\"{}\"", fault_id,
                 h.proxy, s.error().message);
}

void ProxyToxicBackend::renew_loop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, std::chrono::milliseconds(kRenewEveryMs));
    if (stopping_) break;
    auto held = leased_;
    lock.unlock();
    // Side by side: one slow or hung API (each call may take its whole 2 s deadline) must not
    // hold up the others' renewals until their leases run out.
    std::vector<std::thread> calls;
    for (const auto& [fault_id, h] : held) {
      try {
        calls.emplace_back([this, id = fault_id, one = h] { renew_one(id, one); });
      } catch (const std::system_error&) {
        renew_one(fault_id, h);  // no thread to spare: in turn, as before
      }
    }
    for (auto& c : calls) c.join();
    lock.lock();
  }
}

namespace {

BackendRegistration describe() {
  return {.kind = "proxy_toxic",
          .make = [](BackendContext&) { return std::make_unique<ProxyToxicBackend>(); },
          .reach =
              [](const pb::FaultSpec& spec) {
                const auto& t = spec.proxy_toxic();
                return FaultReach{.proxies = {t.proxy() + " at " + t.api()}};
              }};
}

}  // namespace
FAULTLINE_REGISTER_BACKEND(describe);

}  // namespace faultline::injector
