#include "injector/intercept/intercepting_backend.h"

#include "common/hash.h"
#include "common/log.h"
#include "injector/intercept/redirect_chains.h"
#include "injector/network/netns.h"
#include "injector/network/network_install.h"

namespace faultline::injector {

namespace {

constexpr auto kReportTimeout = std::chrono::seconds(2);

}  // namespace

bool InterceptingBackend::available() const {
  return !intercept::interceptor_executable().empty();
}

Result<AppliedFault> InterceptingBackend::apply(const std::string& fault_id,
                                                const pb::FaultSpec& spec) {
  auto p = plan(spec);
  if (!p) return p.error();
  const auto& scope = p->scope;
  uint64_t inode = netns_inode(scope.netns());
  if (inode == 0) return make_error(ErrorCode::kNotFound, "no network namespace " + scope.netns());
  p->start.set_own_mark(intercept::kInterceptorMark);
  p->start.set_fault_id(fault_id);
  auto helper = intercept::InterceptorProcess::start(
      scope.netns().empty() ? "" : netns_path(scope.netns()), p->start);
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
  std::vector<ChainSpec> specs = chains(fault_id, *p, (*helper)->first_report());
  // The helper learns the rules before they go in: if this injector dies from here on, the
  // helper takes them out itself when its control socket ends.
  pb::NetworkInstall planned = *in;
  record_chains(specs, planned);
  if (Status s = (*helper)->send_rules(planned, false); !s) return s.error();
  // Failures from here on take back what went in (install_chains cleans up after itself); the
  // helper is killed when `helper` goes out of scope.
  if (Status s = install_chains(specs, *in); !s) return s.error();
  if (Status s = (*helper)->send_rules(*in, true); !s) {
    (void)remove_installed(*in);
    return s.error();
  }
  // A helper killed or crashed mid-fault would leave the scope's traffic redirected to a
  // closed port (refused): its rules come out at once instead.
  const std::string what = kind();
  (*helper)->watch([install = *in, fault_id, what, after = after_rules_out(in->netns(), spec)] {
    spdlog::warn("{} interceptor died; its rules are taken out fault_id={}", what, fault_id);
    if (Status s = remove_installed(install); !s)
      spdlog::error("{} rules not removed fault_id={} error=\"{}\"", what, fault_id,
                    s.error().message);
    if (after) after();
  });
  const std::string note = after_rules_in(in->netns(), *p);
  applied.state.set_summary(p->summary + " (helper pid " + std::to_string((*helper)->pid()) + ")" +
                            note);
  spdlog::info("{} applied fault_id={} pid={} summary=\"{}\"", what, fault_id, (*helper)->pid(),
               p->summary);
  std::lock_guard lock(mu_);
  helpers_[fault_id] = std::move(*helper);
  return applied;
}

std::string InterceptingBackend::achieved(const AppliedFault& fault) {
  std::shared_ptr<intercept::InterceptorProcess> helper;
  {
    std::lock_guard lock(mu_);
    auto it = helpers_.find(fault.fault_id);
    if (it != helpers_.end()) helper = it->second;
  }
  if (!helper)
    return netns_gone_note(fault.state.network().netns(), fault.state.network().netns_inode());
  auto r = helper->report(kReportTimeout);
  if (!r) return "no report from the interceptor: " + r.error().message;
  return describe(*r);
}

Status InterceptingBackend::revert(const AppliedFault& fault) {
  std::shared_ptr<intercept::InterceptorProcess> helper;
  {
    std::lock_guard lock(mu_);
    auto it = helpers_.find(fault.fault_id);
    if (it != helpers_.end()) {
      helper = std::move(it->second);
      helpers_.erase(it);
    }
  }
  // The helper takes its rules back itself, in the order that keeps connections in flight
  // whole (redirect_chains.h, kHold); what is left after it (or without it) is removed here.
  if (helper) {
    auto wait = std::chrono::milliseconds(drain_ms(fault.spec)) + kReportTimeout;
    auto last = helper->stop(wait);
    if (last)
      spdlog::info("{} reverted fault_id={} outcome=\"{}\"", kind(), fault.fault_id,
                   describe(*last));
    else
      spdlog::warn("{} helper stopped without a report fault_id={} error=\"{}\"", kind(),
                   fault.fault_id, last.error().message);
  } else {
    const auto& h = fault.state.network().helper();
    intercept::kill_orphaned_interceptor(h.pid(), h.start_time_ticks());
  }
  Status removed = remove_installed(fault.state.network());
  if (!helper)
    if (auto after = after_rules_out(fault.state.network().netns(), fault.spec)) after();
  return removed;
}

Status InterceptingBackend::recover_intent(const std::string& fault_id, const pb::FaultSpec& spec) {
  // A helper started before the crash saw its control socket end and took itself away.
  pb::NetworkInstall in;
  in.set_netns(netns_path(scope_of(spec).netns()));
  for (char purpose : purposes()) add_possible_chains(in, fault_id, "nat", purpose);
  Status removed = remove_installed(in);
  if (auto after = after_rules_out(in.netns(), spec)) after();
  return removed;
}

}  // namespace faultline::injector
