#include "injector/intercept/http_fault_backend.h"

#include "common/hash.h"
#include "common/log.h"
#include "injector/backend_registry.h"
#include "injector/intercept/redirect_chains.h"
#include "injector/network/iptables_chain.h"
#include "injector/network/netns.h"
#include "injector/network/network_install.h"
#include "injector/network/traffic_scope.h"

namespace faultline::injector {

namespace {

constexpr auto kReportTimeout = std::chrono::seconds(2);

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

std::string describe_interception(const pb::InterceptorReport& r) {
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

bool HttpFaultBackend::available() const {
  return !intercept::interceptor_executable().empty();
}

Result<AppliedFault> HttpFaultBackend::apply(const std::string& fault_id,
                                             const pb::FaultSpec& spec) {
  const auto& f = spec.http_fault();
  const auto& scope = f.scope();
  if (scope.ports().empty())
    return make_error(ErrorCode::kInvalidArgument, "http_fault needs the HTTP ports in its scope");
  uint64_t inode = netns_inode(scope.netns());
  if (inode == 0) return make_error(ErrorCode::kNotFound, "no network namespace " + scope.netns());
  pb::InterceptorStart start;
  *start.mutable_http() = f;
  if (start.http().seed() == 0) start.mutable_http()->set_seed(fnv1a(fault_id));
  start.set_own_mark(intercept::kInterceptorMark);
  start.set_fault_id(fault_id);
  auto helper = intercept::InterceptorProcess::start(
      scope.netns().empty() ? "" : netns_path(scope.netns()), start);
  if (!helper) return helper.error();

  AppliedFault applied{fault_id, spec, {}};
  auto* in = applied.state.mutable_network();
  in->set_netns(netns_path(scope.netns()));
  in->set_netns_inode(inode);
  in->set_interface(scope.interface());
  in->set_backend("interceptor");
  in->mutable_helper()->set_pid((*helper)->pid());
  in->mutable_helper()->set_start_time_ticks((*helper)->start_time_ticks());
  in->mutable_helper()->set_comm("faultline-intercept");
  std::vector<ChainSpec> chains = intercept::redirect_chains(
      fault_id, scope, scope.netns(), (*helper)->port(), intercept::RedirectMode::kRedirect);
  // The helper learns the rules before they go in: if this injector dies from here on, the
  // helper takes them out itself when its stdin ends.
  pb::NetworkInstall planned = *in;
  for (const auto& c : chains) {
    auto* r = planned.add_chains();
    r->set_family(c.family);
    r->set_table(c.table);
    r->set_chain(c.chain);
    r->set_hook(c.hook);
    for (const auto& m : c.hook_match) r->add_hook_match(m);
    r->set_flavour(c.flavour);
  }
  if (Status s = (*helper)->send_rules(planned, false); !s) return s.error();
  // Failures from here on take back what went in (install_chains cleans up after itself);
  // the helper is killed when `helper` goes out of scope.
  if (Status s = install_chains(chains, *in); !s) return s.error();
  if (Status s = (*helper)->send_rules(*in, true); !s) {
    (void)remove_installed(*in);
    return s.error();
  }
  // A helper killed or crashed mid-fault would leave the scope's connections redirected to a
  // closed port (refused): its rules come out at once instead.
  (*helper)->watch([install = *in, fault_id] {
    spdlog::warn("http_fault interceptor died; its rules are taken out fault_id={}", fault_id);
    if (Status s = remove_installed(install); !s)
      spdlog::error("http_fault rules not removed fault_id={} error=\"{}\"", fault_id,
                    s.error().message);
  });
  const std::string dir = scope.direction() == "ingress" ? "ingress" : "egress";
  applied.state.set_summary("intercepting HTTP on " + describe_scope(scope, dir) + " (" +
                            std::to_string(f.rules_size()) + " rule" +
                            (f.rules_size() == 1 ? "" : "s") + ", helper pid " +
                            std::to_string((*helper)->pid()) + ")");
  spdlog::info("http_fault applied fault_id={} port={} pid={} scope=\"{}\"", fault_id,
               (*helper)->port(), (*helper)->pid(), describe_scope(scope, dir));
  std::lock_guard lock(mu_);
  helpers_[fault_id] = std::move(*helper);
  return applied;
}

std::string HttpFaultBackend::achieved(const AppliedFault& fault) {
  std::lock_guard lock(mu_);
  auto it = helpers_.find(fault.fault_id);
  if (it == helpers_.end())
    return netns_gone_note(fault.state.network().netns(), fault.state.network().netns_inode());
  auto r = it->second->report(kReportTimeout);
  if (!r) return "no report from the interceptor: " + r.error().message;
  return describe_interception(*r);
}

Status HttpFaultBackend::revert(const AppliedFault& fault) {
  std::unique_ptr<intercept::InterceptorProcess> helper;
  {
    std::lock_guard lock(mu_);
    auto it = helpers_.find(fault.fault_id);
    if (it != helpers_.end()) {
      helper = std::move(it->second);
      helpers_.erase(it);
    }
  }
  // The helper takes its rules back itself, in the order that keeps requests in flight whole
  // (redirect_chains.h, kHold); what is left after it (or without it) is removed here.
  if (helper) {
    auto wait = std::chrono::milliseconds(fault.spec.http_fault().drain_ms()) + kReportTimeout;
    auto last = helper->stop(wait);
    if (last)
      spdlog::info("http_fault reverted fault_id={} outcome=\"{}\"", fault.fault_id,
                   describe_interception(*last));
    else
      spdlog::warn("http_fault helper stopped without a report fault_id={} error=\"{}\"",
                   fault.fault_id, last.error().message);
  } else {
    const auto& h = fault.state.network().helper();
    intercept::kill_orphaned_interceptor(h.pid(), h.start_time_ticks());
  }
  return remove_installed(fault.state.network());
}

Status HttpFaultBackend::recover_intent(const std::string& fault_id, const pb::FaultSpec& spec) {
  // A helper started before the crash saw its stdin end and took itself away.
  pb::NetworkInstall in;
  in.set_netns(netns_path(spec.http_fault().scope().netns()));
  add_possible_chains(in, fault_id, "nat", 'h');
  add_possible_chains(in, fault_id, "nat", 'l');
  return remove_installed(in);
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
