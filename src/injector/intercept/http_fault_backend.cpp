#include "injector/intercept/http_fault_backend.h"

#include "common/hash.h"
#include "common/log.h"
#include "injector/backend_registry.h"
#include "injector/intercept/redirect_chains.h"
#include "injector/network/iptables_chain.h"
#include "injector/network/traffic_scope.h"

namespace faultline::injector {

namespace {

std::string action_counts(const pb::InterceptorReport& r) {
  std::string out;
  auto add = [&](uint64_t n, const char* what) {
    if (n) out += (out.empty() ? "" : ", ") + std::to_string(n) + " " + what;
  };
  add(r.aborted(), "aborted");
  add(r.delayed(), "delayed");
  add(r.replaced(), "replaced");
  add(r.reset(), "reset");
  add(r.passed(), "passed");
  return out;
}

}  // namespace

std::string HttpFaultBackend::describe_interception(const pb::InterceptorReport& r) {
  std::string out = std::to_string(r.requests()) + " requests (" + std::to_string(r.matched()) +
                    " matched a rule)";
  if (std::string counts = action_counts(r); !counts.empty()) out += ": " + counts;
  if (r.retired())
    out += "; " + std::to_string(r.retired()) + " earlier keep-alive connection" +
           (r.retired() == 1 ? "" : "s") + " retired" +
           (r.retired_busy() ? " (" + std::to_string(r.retired_busy()) + " busy at the deadline)"
                             : "");
  if (r.uninspected())
    out += "; " + std::to_string(r.uninspected()) + " connection" +
           (r.uninspected() == 1 ? "" : "s") + " passed through uninspected" +
           (r.tls() ? " (" + std::to_string(r.tls()) + " TLS: no certificate to terminate with)"
                    : " (not HTTP/1.x)");
  if (r.upstream_errors())
    out += "; " + std::to_string(r.upstream_errors()) + " upstream error" +
           (r.upstream_errors() == 1 ? "" : "s");
  return out;
}

Result<InterceptingBackend::Plan> HttpFaultBackend::plan(const pb::FaultSpec& spec) {
  const auto& f = spec.http_fault();
  if (f.scope().ports().empty())
    return make_error(ErrorCode::kInvalidArgument, "http_fault needs the HTTP ports in its scope");
  Plan p;
  p.scope = f.scope();
  *p.start.mutable_http() = f;
  if (f.seed() == 0) p.start.mutable_http()->set_seed(fnv1a(spec.ShortDebugString()));
  const std::string dir = f.scope().direction() == "ingress" ? "ingress" : "egress";
  p.summary = "intercepting HTTP on " + describe_scope(f.scope(), dir) + ", " +
              std::to_string(f.rules_size()) + " rule" + (f.rules_size() == 1 ? "" : "s");
  return p;
}

std::vector<ChainSpec> HttpFaultBackend::chains(const std::string& fault_id, const Plan& p,
                                                const pb::InterceptorReport& ports) {
  return intercept::redirect_chains(fault_id, p.scope, p.scope.netns(),
                                    static_cast<uint16_t>(ports.port()),
                                    intercept::RedirectMode::kRedirect);
}

namespace {

BackendRegistration describe() {
  return {.kind = "http_fault",
          .make = [](BackendContext&) { return std::make_unique<HttpFaultBackend>(); },
          .reach =
              [](const pb::FaultSpec& spec) {
                return FaultReach{.networks = {spec.http_fault().scope()}};
              }};
}

}  // namespace
FAULTLINE_REGISTER_BACKEND(describe);

}  // namespace faultline::injector
